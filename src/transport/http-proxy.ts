/**
 * An HTTP proxy for the RTSP-over-HTTP tunnel (`proxy: 'http://[user:pass@]host:port'`).
 * Plain tunnels send their GET and POST to the proxy with the absolute URI as the
 * request-target (RFC 9112 §3.2.2); https tunnels ask for a byte pipe with CONNECT
 * (RFC 9110 §9.3.6) and run TLS to the camera inside it. Credentials go out as Basic
 * `Proxy-Authorization` (RFC 9110 §11.7.2, RFC 7617) and never into a message: errors name
 * the proxy by host and port only.
 */
import * as net from 'node:net'
import { ConnectError, InvalidArgumentError } from '../errors.js'
import { describeSocketError } from './socket-errors.js'

export interface HttpProxy {
  host: string
  port: number
  /** `Basic …` from the URL's user info, when it has one. */
  authorization?: string
}

/** Largest reply head to a CONNECT before it is not a proxy. */
const MAX_HEAD = 16 * 1024

/** Whether `v` is an http:// URL with a host (the options' rule; says nothing of what is wrong). */
export function isProxyUrl(v: unknown): boolean {
  if (typeof v !== 'string' && !(v instanceof URL)) return false
  try {
    parseProxyUrl(v)
    return true
  } catch {
    return false
  }
}

/** `http://[user:pass@]host[:port]` (default port 80); user info is percent-decoded. */
export function parseProxyUrl(input: string | URL): HttpProxy {
  let url: URL
  try {
    url = new URL(String(input))
  } catch {
    throw new InvalidArgumentError('the proxy is not a valid URL; expected http://[user:pass@]host:port')
  }
  if (url.protocol !== 'http:') throw new InvalidArgumentError(`unsupported proxy scheme ${url.protocol}; expected http://[user:pass@]host:port`)
  if (url.hostname === '') throw new InvalidArgumentError('no host in the proxy URL; expected http://[user:pass@]host:port')
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  const proxy: HttpProxy = { host, port: url.port === '' ? 80 : Number(url.port) }
  if (url.username !== '' || url.password !== '') {
    const userPass = `${safeDecode(url.username)}:${safeDecode(url.password)}`
    proxy.authorization = `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`
  }
  return proxy
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** `host:port` as a request-target or Host value (IPv6 in brackets). */
export function authority(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`
}

/**
 * A socket to `host:port` through the proxy's CONNECT: resolves once the proxy answers 2xx,
 * with any bytes the server already sent put back. Rejects with ConnectError naming the proxy
 * (not its credentials) and what it answered.
 */
export function connectThroughProxy(proxy: HttpProxy, host: string, port: number, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: proxy.host, port: proxy.port, noDelay: true })
    let buf: Buffer = Buffer.alloc(0)
    const finish = (err: Error | undefined): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('close', onClose)
      if (err === undefined) return resolve(socket)
      socket.destroy()
      reject(err)
    }
    const fail = (reason: string, cause?: unknown): void => finish(new ConnectError({ host: proxy.host, port: proxy.port, reason, cause }))
    const onAbort = (): void => fail('aborted')
    const onError = (err: NodeJS.ErrnoException): void => fail(`HTTP proxy: ${describeSocketError(err)}`, err)
    const onClose = (): void => fail(`the HTTP proxy closed the connection before answering CONNECT ${authority(host, port)}`)
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) {
        if (buf.length > MAX_HEAD) fail(`the HTTP proxy's answer to CONNECT has no end of headers within ${MAX_HEAD} bytes`)
        return
      }
      const statusLine = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1')
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]
      if (status === undefined || status[0] !== '2') return fail(proxyRefusal('CONNECT', host, port, statusLine, proxy))
      socket.pause()
      if (end + 4 < buf.length) socket.unshift(buf.subarray(end + 4))
      finish(undefined)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.on('data', onData)
    socket.on('error', onError)
    socket.on('close', onClose)
    socket.once('connect', () => {
      const lines = [`CONNECT ${authority(host, port)} HTTP/1.1`, `Host: ${authority(host, port)}`]
      if (proxy.authorization !== undefined) lines.push(`Proxy-Authorization: ${proxy.authorization}`)
      socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    })
  })
}

/** One line for a proxy that refused a request: what it answered and what to try. */
export function proxyRefusal(method: string, host: string, port: number, statusLine: string, proxy: HttpProxy): string {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]
  const answered = JSON.stringify(statusLine.slice(0, 80))
  if (status === '407' && proxy.authorization === undefined) {
    return `the HTTP proxy wants credentials (${answered}); give them in the proxy URL: http://user:pass@host:port`
  }
  // tinyproxy 1.11 answers wrong credentials with 401 (and WWW-Authenticate), not 407. To a
  // CONNECT only the proxy answers; to a forwarded GET a 401 may also be the server's.
  if (status === '407' || (status === '401' && method === 'CONNECT')) {
    return `the HTTP proxy refused its credentials (${answered}); check the user and password in the proxy URL`
  }
  if (status === '401') {
    return `the HTTP proxy refused its credentials, or the server wants HTTP authentication (${answered}); check the user and password in the proxy URL`
  }
  return `the HTTP proxy refused ${method} to ${authority(host, port)} (${answered})`
}
