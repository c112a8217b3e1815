/**
 * The server's side of RTSP over HTTP (the QuickTime tunnel; client side in
 * transport/http-tunnel.ts): a connection on the RTSP port that starts with an HTTP GET
 * or POST. The GET (`x-sessioncookie`) is answered `200 application/x-rtsp-tunnelled` and
 * then carries RTSP replies and `$` frames like any RTSP connection; the POST with the same
 * cookie carries the client's requests in base64, decoded into the GET's reader.
 */

/** The head of an HTTP request that opens one half of a tunnel. */
export interface TunnelHead {
  method: 'GET' | 'POST'
  cookie: string
  /** Bytes after the head (a POST's first base64). */
  rest: Buffer
}

/** Largest HTTP head read before the connection is not a tunnel. */
export const MAX_TUNNEL_HEAD = 8 * 1024

/** Could `buf` (the first bytes of a connection) be an HTTP GET or POST? */
export function looksLikeHttp(buf: Buffer): boolean {
  const s = buf.subarray(0, 5).toString('latin1')
  return 'GET '.startsWith(s.slice(0, 4)) || 'POST '.startsWith(s)
}

/**
 * The tunnel head, undefined while it is incomplete; throws (a string: why) when it is
 * complete but not a tunnel (no x-sessioncookie, not HTTP).
 */
export function parseTunnelHead(buf: Buffer): TunnelHead | undefined {
  const end = buf.indexOf('\r\n\r\n')
  if (end === -1) {
    if (buf.length > MAX_TUNNEL_HEAD) throw 'an HTTP head longer than 8 KiB'
    return undefined
  }
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
  const m = /^(GET|POST) \S+ HTTP\/1\.[01]$/.exec(lines[0] ?? '')
  if (m === null) throw 'an HTTP request that is not GET or POST ... HTTP/1.x'
  let cookie: string | undefined
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === 'x-sessioncookie') cookie = line.slice(colon + 1).trim()
  }
  if (cookie === undefined || cookie === '' || cookie.length > 256) throw 'an HTTP request without x-sessioncookie (not an RTSP tunnel)'
  return { method: m[1] as 'GET' | 'POST', cookie, rest: buf.subarray(end + 4) }
}

/** The GET's reply: from here on the connection carries RTSP. */
export function tunnelReply(server: string): string {
  return ['HTTP/1.0 200 OK', `Server: ${server}`, 'Connection: close', 'Cache-Control: no-store', 'Pragma: no-cache', 'Content-Type: application/x-rtsp-tunnelled', '', ''].join('\r\n')
}

/**
 * Decodes a POST body: base64 that clients pad message by message (ffmpeg, rtspkit) or
 * write as one stream (QuickTime): groups of four, each padded group decoded on its own
 * (Node's decoder stops at the first '='), whitespace ignored, a partial group kept.
 */
export class Base64Stream {
  private pending = ''

  push(chunk: Buffer): Buffer {
    const text = this.pending + chunk.toString('latin1').replace(/[\r\n\t ]/g, '')
    if (/[^A-Za-z0-9+/=]/.test(text)) throw 'bytes that are not base64 in the POST body'
    const whole = text.length - (text.length % 4)
    this.pending = text.slice(whole)
    const parts: Buffer[] = []
    let from = 0
    for (let pad = text.indexOf('=', 0); pad !== -1 && pad < whole; pad = text.indexOf('=', from)) {
      const groupEnd = pad - (pad % 4) + 4
      parts.push(Buffer.from(text.slice(from, groupEnd), 'base64'))
      from = groupEnd
    }
    if (from < whole) parts.push(Buffer.from(text.slice(from, whole), 'base64'))
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  }
}
