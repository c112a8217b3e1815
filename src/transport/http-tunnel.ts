/**
 * RTSP over HTTP, the QuickTime tunnel (Apple, "Tunnelling RTSP and RTP through HTTP";
 * served by GStreamer, Axis, Hikvision, live555): two HTTP connections that share an
 * `x-sessioncookie`. A GET (`Accept: application/x-rtsp-tunnelled`) carries what the
 * server sends — RTSP replies and `$` frames, unencoded, after the HTTP reply headers; a
 * POST carries what the client sends, base64-encoded, its body never ending. Together they
 * make one duplex byte stream for the RTSP connection. Either may go through an HTTP proxy
 * (transport/http-proxy.ts): absolute-URI requests for http, CONNECT for https.
 */
import { randomBytes } from 'node:crypto'
import { Duplex } from 'node:stream'
import * as net from 'node:net'
import * as tls from 'node:tls'
import { ConnectError, ProtocolError } from '../errors.js'
import { authority, connectThroughProxy, proxyRefusal, type HttpProxy } from './http-proxy.js'
import { describeSocketError, describeTlsError } from './socket-errors.js'

export interface HttpTunnelOptions {
  host: string
  port: number
  /** Request path of the RTSP URL, e.g. '/live' (with its query). */
  path: string
  /** https (rtsps:// URLs): both connections over TLS. */
  tls?: tls.ConnectionOptions
  /** Through this HTTP proxy: CONNECT for https, absolute-URI GET/POST for http. */
  proxy?: HttpProxy
  userAgent: string
}

/** Largest HTTP reply head to the GET before it is not a tunnel. */
const MAX_HEAD = 16 * 1024

/** The tunnel as one byte stream: reads from the GET, writes (base64) to the POST. */
export class HttpTunnelStream extends Duplex {
  constructor(
    private readonly get: net.Socket,
    private readonly post: net.Socket,
  ) {
    super()
    get.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) get.pause()
    })
    get.on('end', () => this.push(null))
    const onError = (err: Error): void => {
      this.destroy(err)
    }
    get.on('error', onError)
    post.on('error', onError)
    get.on('close', () => this.destroy())
    post.on('close', () => this.destroy())
    post.on('drain', () => this.emit('drain'))
  }

  get remoteAddress(): string | undefined {
    return this.get.remoteAddress
  }

  get localAddress(): string | undefined {
    return this.get.localAddress
  }

  setNoDelay(noDelay = true): this {
    this.get.setNoDelay(noDelay)
    this.post.setNoDelay(noDelay)
    return this
  }

  override _read(): void {
    this.get.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    // Each write on its own, padded: servers decode the body message by message (ffmpeg's
    // client writes the same way), so a request's last bytes never wait for the next one.
    this.post.write(chunk.toString('base64'), callback)
  }

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.get.destroy()
    this.post.destroy()
    callback(err)
  }
}

/**
 * Open both halves of the tunnel: the GET first (its reply says the server tunnels), then
 * the POST. Resolves with the stream once the GET is answered 200; rejects with ConnectError
 * (socket) or ProtocolError (the server answered something else).
 */
export async function openHttpTunnel(opts: HttpTunnelOptions, signal?: AbortSignal): Promise<HttpTunnelStream> {
  const cookie = randomBytes(12).toString('hex')
  const hostPort = authority(opts.host, opts.port)
  // A plain request through a proxy names the whole URI (RFC 9112 §3.2.2) and carries the
  // proxy's credentials; inside CONNECT (https) the requests are as sent to the server.
  const forward = opts.proxy !== undefined && opts.tls === undefined
  const target = forward ? `http://${hostPort}${opts.path}` : opts.path
  const proxyAuth = forward && opts.proxy?.authorization !== undefined ? [`Proxy-Authorization: ${opts.proxy.authorization}`] : []
  const head = (method: string, extra: string[]): string =>
    [`${method} ${target} HTTP/1.0`, `Host: ${hostPort}`, `User-Agent: ${opts.userAgent}`, `x-sessioncookie: ${cookie}`, 'Pragma: no-cache', 'Cache-Control: no-cache', ...proxyAuth, ...extra, '', ''].join('\r\n')
  const get = await dial(opts, signal)
  let rest: Buffer
  try {
    get.write(head('GET', ['Accept: application/x-rtsp-tunnelled']))
    rest = await readHttpHead(get, opts)
  } catch (err) {
    get.destroy()
    throw err
  }
  let post: net.Socket
  try {
    post = await dial(opts, signal)
  } catch (err) {
    get.destroy()
    throw err
  }
  // Content-Length is a formality (Apple's note: a large value; the body never ends).
  post.write(head('POST', ['Content-Type: application/x-rtsp-tunnelled', 'Content-Length: 32767', 'Expires: Sun, 9 Jan 1972 00:00:00 GMT']))
  const stream = new HttpTunnelStream(get, post)
  if (rest.length > 0) stream.unshift(rest)
  return stream
}

async function dial(opts: HttpTunnelOptions, signal?: AbortSignal): Promise<net.Socket> {
  const proxy = opts.proxy
  if (proxy === undefined) return connectSocket(opts, opts.tls === undefined ? net.connect({ host: opts.host, port: opts.port, noDelay: true }) : tls.connect({ host: opts.host, port: opts.port, ...opts.tls }), signal)
  if (opts.tls === undefined) return connectSocket({ ...opts, host: proxy.host, port: proxy.port, viaProxy: true }, net.connect({ host: proxy.host, port: proxy.port, noDelay: true }), signal)
  const pipe = await connectThroughProxy(proxy, opts.host, opts.port, signal)
  // host: what the certificate is checked against when there is no servername (an IP address).
  return connectSocket(opts, tls.connect({ socket: pipe, host: opts.host, ...opts.tls }), signal)
}

/** Resolves once `socket` is connected (TLS: after the handshake); ConnectError names what it dialled. */
function connectSocket(opts: HttpTunnelOptions & { viaProxy?: boolean }, socket: net.Socket, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      socket.destroy()
      reject(new ConnectError({ host: opts.host, port: opts.port, reason: 'aborted' }))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once(opts.tls !== undefined ? 'secureConnect' : 'connect', () => {
      signal?.removeEventListener('abort', onAbort)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort)
      const reason = opts.tls !== undefined ? describeTlsError(err) : describeSocketError(err)
      reject(new ConnectError({ host: opts.host, port: opts.port, reason: `${opts.viaProxy === true ? 'HTTP proxy: ' : ''}${reason}`, cause: err }))
    })
  })
}

/** The GET's reply head: 200 with the tunnel's content type, else ProtocolError. Returns the bytes after it. */
function readHttpHead(socket: net.Socket, opts: HttpTunnelOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const done = (err: Error | undefined, rest?: Buffer): void => {
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('error', onError)
      if (err !== undefined) reject(err)
      else resolve(rest!)
    }
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n\r\n')
      if (end === -1) {
        if (buf.length > MAX_HEAD) done(new ProtocolError(`the HTTP tunnel's GET reply from ${opts.host}:${opts.port} has no end of headers within ${MAX_HEAD} bytes`))
        return
      }
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
      if (opts.proxy !== undefined && (status?.[1] === '407' || (status?.[1] === '401' && opts.proxy.authorization !== undefined))) {
        done(new ConnectError({ host: opts.proxy.host, port: opts.proxy.port, reason: proxyRefusal('GET', opts.host, opts.port, lines[0] ?? '', opts.proxy) }))
        return
      }
      if (opts.proxy !== undefined && status?.[1] !== '200') {
        const via = `the HTTP proxy at ${authority(opts.proxy.host, opts.proxy.port)}`
        done(new ProtocolError(`the tunnel's GET to ${opts.host}:${opts.port} through ${via} was answered ${JSON.stringify((lines[0] ?? '').slice(0, 80))}; check that the proxy reaches the server and that the server tunnels RTSP over HTTP`))
        return
      }
      if (status === null || status[1] !== '200') {
        done(new ProtocolError(`the server at ${opts.host}:${opts.port} does not tunnel RTSP over HTTP (GET answered ${JSON.stringify((lines[0] ?? '').slice(0, 80))}); try --transport tcp`))
        return
      }
      socket.pause()
      done(undefined, buf.subarray(end + 4))
    }
    const onClose = (): void => done(new ProtocolError(`the server at ${opts.host}:${opts.port} closed the HTTP tunnel's GET without a reply; try --transport tcp`))
    const onError = (err: Error): void => done(new ConnectError({ host: opts.host, port: opts.port, reason: err.message, cause: err }))
    socket.on('data', onData)
    socket.on('close', onClose)
    socket.on('error', onError)
  })
}
