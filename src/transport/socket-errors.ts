/**
 * Socket and TLS errors as one-line reasons with a fix, for ConnectError: shared by the RTSP
 * connection and the HTTP tunnel's two halves.
 */

/** Human text for the socket errors people meet with cameras. */
export function describeSocketError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listens on that port; check host and port)'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found (check the host name)'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable (check the address and the network)'
    case 'ECONNRESET':
      return 'connection reset by the server'
    case 'ETIMEDOUT':
      return 'connection timed out'
    case 'EPIPE':
      return 'connection closed by the server while sending'
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message
  }
}

/** TLS failures say how to trust the server instead of quoting OpenSSL. */
export function describeTlsError(err: NodeJS.ErrnoException): string {
  const code = err.code ?? ''
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code) || /certificate/i.test(err.message)) {
    return `TLS certificate not trusted (${code || err.message}); give the server's CA (--ca FILE / tls.ca) or skip verification (--insecure / tls.rejectUnauthorized: false)`
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `TLS certificate is for another host name (${err.message})`
  if (/EPROTO|wrong version number|SSL/i.test(code + err.message)) {
    return 'TLS handshake failed (is this an rtsps:// port? plain RTSP servers need rtsp://)'
  }
  return describeSocketError(err)
}
