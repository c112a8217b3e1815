import net from 'node:net'
import tls from 'node:tls'
import { Authenticator } from '../rtsp/auth.js'
import { parseProxyUrl } from '../transport/http-proxy.js'
import { describeSocketError, describeTlsError } from '../transport/socket-errors.js'
import { HttpTunnelStream, openHttpTunnel } from '../transport/http-tunnel.js'
import { Headers, cseqOf } from '../rtsp/message.js'
import type { RtspRequest, RtspResponse } from '../rtsp/message.js'
import { RtspReader } from '../rtsp/reader.js'
import type { ReaderLimits } from '../rtsp/reader.js'
import { encodeInterleaved, serializeRequest, serializeResponse } from '../rtsp/serialize.js'
import { parseWwwAuthenticate } from '../rtsp/headers/www-authenticate.js'
import { parseSession } from '../rtsp/headers/session.js'
import { parseTransport } from '../rtsp/headers/transport.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import {
  AuthError,
  ClosedError,
  RedirectError,
  ConnectError,
  ProtocolError,
  RtspError,
  StatusError,
  TimeoutError,
} from '../errors.js'
import type { Credentials } from '../util/url.js'
import { redactUrl } from '../util/url.js'
import { publishClientRequest, publishClientResponse } from '../diagnostics.js'
import { bufferView } from '../rtp/packet.js'

export type InterleavedHandler = (payload: Buffer) => void
/** An interleaved payload as `buf[start, end)`: no view is made for it (the receive hot path). */
export type InterleavedRangeHandler = (buf: Buffer, start: number, end: number) => void

/**
 * The buffer every plain-TCP client connection of the process reads into (net `onread`).
 * Node otherwise allocates a new ArrayBuffer per read, which at high bitrates or with many
 * sessions was half of what the GC had to collect (bench/scale.ts profile). One buffer
 * serves every connection because a read is handled to its end before the next one starts:
 * interleaved payloads are views of it that are valid only while their handler runs
 * (`reusesReadBuffer`), and what outlives the handler is copied (TrackReceiver, NalDepacketizer).
 */
let sharedReadBuffer: Buffer | undefined
/** sharedReadBuffer's ArrayBuffer (offset 0, same length): `.buffer` is a C++ accessor call. */
let sharedReadArrayBuffer: ArrayBuffer = new ArrayBuffer(0)
/**
 * 256 KiB: at 84 Mbit/s a picture is ~350 KB, written by the server at once; 64 KiB took ~6
 * reads (a syscall, an event-loop callback and a payload spanning two reads, copied, each).
 */
const READ_BUFFER_SIZE = 256 * 1024

function sharedReadBufferOf(size: number): Buffer {
  const buf = Buffer.allocUnsafeSlow(size)
  sharedReadArrayBuffer = buf.buffer as ArrayBuffer
  return buf
}

/** TLS settings for rtsps:// (certificate verification is on unless turned off). */
export interface TlsOptions {
  /** Extra CA certificate(s) to trust, PEM. */
  ca?: string | Buffer | Array<string | Buffer>
  /** false skips certificate verification (self-signed cameras); default true. */
  rejectUnauthorized?: boolean
  /** SNI / name to verify; default the URL's host. */
  servername?: string
}

export interface ConnectionOptions {
  host: string
  port: number
  /** rtsps:// — RTSP over TLS, media interleaved. */
  secure?: boolean
  tls?: TlsOptions
  credentials?: Credentials
  /** Per-request reply timeout and connect timeout. */
  timeoutMs: number
  userAgent: string
  limits?: Partial<ReaderLimits>
  /** RTSP over HTTP (the QuickTime tunnel) to this request path instead of a plain TCP connection. */
  httpTunnel?: { path: string; /** http://[user:pass@]host:port */ proxy?: string | URL }
}

interface Pending {
  cseq: number
  method: string
  url: string
  resolve(res: RtspResponse): void
  reject(err: Error): void
  timer: NodeJS.Timeout
  sentAt: number
}

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'closed'

/**
 * One RTSP/TCP connection (RFC 2326 §10): serialises requests with an incrementing CSeq,
 * matches replies by CSeq, answers requests the server sends, authenticates (any request
 * may get a 401 and is retried once with fresh credentials) and routes `$`-interleaved
 * frames to per-channel handlers. It knows nothing of DESCRIBE/SETUP/PLAY. (Over 400
 * lines: connecting by TCP, TLS or the HTTP tunnel, and the request/reply cycle with auth,
 * belong to this one object; the socket errors and the tunnel are in transport/.)
 */
export class RtspConnection {
  state: ConnectionState = 'idle'
  /** Session id from the server's Session header; sent with every request once set. */
  session: string | undefined
  /** Server header from the first reply that had one. */
  server: string | undefined
  /**
   * Interleaved handlers, by channel. Over a plain TCP socket (`reusesReadBuffer`) the
   * payload is a view of a buffer reused for the next read: copy what must outlive the call.
   */
  readonly channels: Array<InterleavedHandler | undefined> = []
  /** Handlers that take the payload as a range of the buffer (taken before `channels`); same lifetime rules. */
  readonly rangeChannels: Array<InterleavedRangeHandler | undefined> = []
  /** Payloads handed to `channels` are views of a reused read buffer (plain TCP, not TLS or the HTTP tunnel). */
  reusesReadBuffer = false
  /** performance.now() when the bytes being parsed were read: the arrival time of every packet in them. */
  readAt = 0
  /** Called once when the connection ends after having been open (error undefined when we closed it). */
  onClose: ((err: RtspError | undefined) => void) | undefined
  /** Called for garbage bytes skipped between frames. */
  onGarbage: ((bytes: number) => void) | undefined
  /** Called when the socket's send buffer has drained (push flow control). */
  onDrain: (() => void) | undefined
  /**
   * Called with each reply as it is read, before the bytes after it in the same segment
   * (interleaved media that cameras write together with the PLAY reply) are dispatched.
   */
  onReply: ((res: RtspResponse, method: string) => void) | undefined

  private socket: net.Socket | tls.TLSSocket | HttpTunnelStream | undefined
  private readonly reader: RtspReader
  private readonly pending = new Map<number, Pending>()
  /** CSeqs of requests that timed out (the last few): a late reply to one of them is dropped. */
  private readonly expired = new Set<number>()
  private cseq = 0
  private readonly auth: Authenticator | undefined
  private closeError: RtspError | undefined
  private readonly opts: ConnectionOptions

  constructor(opts: ConnectionOptions) {
    this.opts = opts
    this.auth = opts.credentials ? new Authenticator(opts.credentials) : undefined
    const channels = this.channels
    const rangeChannels = this.rangeChannels
    this.reader = new RtspReader(
      {
        onResponse: (res) => this.handleResponse(res),
        onRequest: (req) => this.handleRequest(req),
        onInterleaved: (channel, payload) => {
          const h = channels[channel]
          if (h !== undefined) h(payload)
        },
        // Hot path: an array lookup per interleaved frame, a view only for a `channels` handler.
        onInterleavedAt: (channel, buf, start, end) => {
          const r = rangeChannels[channel]
          if (r !== undefined) return r(buf, start, end)
          const h = channels[channel]
          if (h !== undefined) h(buf.subarray(start, end))
        },
        onGarbage: (n) => this.onGarbage?.(n),
      },
      opts.limits,
    )
  }

  /** Method of the oldest request still waiting for its reply. */
  get pendingMethod(): string | undefined {
    return this.pending.values().next().value?.method
  }

  get remoteAddress(): string | undefined {
    return this.socket?.remoteAddress
  }

  get localAddress(): string | undefined {
    return this.socket?.localAddress
  }

  /** Bytes written but not yet taken by the kernel (push backpressure). */
  get writableLength(): number {
    return this.socket?.writableLength ?? 0
  }

  connect(signal?: AbortSignal): Promise<void> {
    const { host, port, timeoutMs } = this.opts
    this.state = 'connecting'
    if (this.opts.httpTunnel !== undefined) return this.connectTunnel(this.opts.httpTunnel, signal)
    return new Promise<void>((resolve, reject) => {
      const secure = this.opts.secure === true
      const socket = secure
        ? tls.connect({
            host,
            port,
            servername: this.opts.tls?.servername ?? (net.isIP(host) ? undefined : host),
            ca: this.opts.tls?.ca,
            rejectUnauthorized: this.opts.tls?.rejectUnauthorized ?? true,
          })
        : net.connect({
            host,
            port,
            noDelay: true,
            onread: {
              buffer: () => (sharedReadBuffer ??= sharedReadBufferOf(READ_BUFFER_SIZE)),
              callback: (nread: number, buf: Uint8Array) => this.onRead(buf as Buffer, nread),
            },
          })
      this.reusesReadBuffer = !secure
      if (secure) socket.setNoDelay(true)
      this.socket = socket
      let settled = false
      const fail = (err: RtspError) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.state = 'closed'
        socket.destroy()
        reject(err)
      }
      const onAbort = () => fail(new ConnectError({ host, port, reason: 'aborted' }))
      signal?.addEventListener('abort', onAbort, { once: true })
      const timer = setTimeout(() => fail(new TimeoutError({ phase: 'connect', timeoutMs, detail: `to ${host}:${port}` })), timeoutMs)
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.state = 'open'
        this.wire(socket)
        resolve()
      })
      socket.once('error', (err: NodeJS.ErrnoException) => {
        fail(new ConnectError({ host, port, reason: secure ? describeTlsError(err) : describeSocketError(err), cause: err }))
      })
    })
  }

  /** Both halves of an HTTP tunnel (transport/http-tunnel.ts) as this connection's byte stream. */
  private async connectTunnel({ path, proxy }: NonNullable<ConnectionOptions['httpTunnel']>, signal?: AbortSignal): Promise<void> {
    const { host, port, timeoutMs } = this.opts
    let timer: NodeJS.Timeout | undefined
    const abort = new AbortController()
    const onAbort = (): void => abort.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const opened = openHttpTunnel(
        {
          host,
          port,
          path,
          userAgent: this.opts.userAgent,
          ...(proxy !== undefined ? { proxy: parseProxyUrl(proxy) } : {}),
          ...(this.opts.secure === true
            ? { tls: { servername: this.opts.tls?.servername ?? (net.isIP(host) ? undefined : host), ca: this.opts.tls?.ca, rejectUnauthorized: this.opts.tls?.rejectUnauthorized ?? true } }
            : {}),
        },
        abort.signal,
      )
      // A tunnel that opens after the timeout is closed at once.
      opened.then((s) => abort.signal.aborted && s.destroy(), () => {})
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort()
          reject(new TimeoutError({ phase: 'connect', timeoutMs, detail: `to ${host}:${port} (HTTP tunnel)` }))
        }, timeoutMs)
      })
      const stream = await Promise.race([opened, timeout])
      this.socket = stream
      this.state = 'open'
      this.wire(stream)
    } catch (err) {
      this.state = 'closed'
      throw err
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Bytes read into the shared buffer (plain TCP): parsed before the next read reuses it. */
  private onRead(buf: Buffer, nread: number): boolean {
    if (this.state === 'closed') return false
    // No Buffer#subarray per read (see bufferView in rtp/packet.ts): the shared buffer is a
    // whole ArrayBuffer of its own (allocUnsafeSlow), kept beside it.
    this.take(buf === sharedReadBuffer ? bufferView(sharedReadArrayBuffer, 0, nread) : buf.subarray(0, nread))
    return true
  }

  private take(chunk: Buffer): void {
    this.readAt = performance.now()
    try {
      this.reader.push(chunk)
    } catch (err) {
      this.fail(err instanceof RtspError ? err : new ClosedError('internal error while reading', { cause: err }))
    }
  }

  private wire(socket: net.Socket | HttpTunnelStream): void {
    // With `onread` (plain TCP) there are no 'data' events: onRead gets the bytes.
    socket.on('data', (chunk: Buffer) => this.take(chunk))
    socket.on('drain', () => this.onDrain?.())
    socket.on('close', () => this.fail(new ClosedError('the server closed the connection')))
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(new ClosedError(describeSocketError(err), { cause: err })))
  }

  /**
   * Send a request and wait for its reply. Adds CSeq, User-Agent, Session and
   * Authorization. A 401 is retried once after taking the challenge; other non-2xx
   * replies reject with StatusError unless `acceptStatus` allows them.
   */
  async request(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: Buffer | string,
    acceptStatus?: (status: number) => boolean,
  ): Promise<RtspResponse> {
    let res = await this.send(method, url, headers, body)
    if (res.status === 401) {
      const challenges = res.headers.getAll('WWW-Authenticate')
      const hadCredentials = this.auth !== undefined && this.auth.scheme !== undefined
      if (this.auth === undefined || !this.auth.accept(challenges)) {
        throw new AuthError({ reason: res.reason, method, url: redactUrl(url), hadCredentials })
      }
      res = await this.send(method, url, headers, body)
      if (res.status === 401) {
        // stale=true (RFC 7616 §3.3): the nonce expired, not the password; one more go.
        const stale = res.headers
          .getAll('WWW-Authenticate')
          .some((v) => parseWwwAuthenticate(v).some((c) => c.params['stale']?.toLowerCase() === 'true'))
        if (stale && this.auth.accept(res.headers.getAll('WWW-Authenticate'))) {
          res = await this.send(method, url, headers, body)
        }
        if (res.status === 401) throw new AuthError({ reason: res.reason, method, url: redactUrl(url), hadCredentials: true })
      }
    }
    const location = res.headers.get('Location')
    if (res.status >= 300 && res.status < 400 && location !== undefined && !acceptStatus?.(res.status)) {
      throw new RedirectError({ status: res.status, reason: res.reason, method, url: redactUrl(url), location: redactUrl(location.trim()) })
    }
    if ((res.status < 200 || res.status >= 300) && !acceptStatus?.(res.status)) {
      throw new StatusError({ status: res.status, reason: res.reason, method, url: redactUrl(url) })
    }
    return res
  }

  private send(method: string, url: string, extra: Record<string, string>, body?: Buffer | string): Promise<RtspResponse> {
    if (this.state !== 'open' || this.socket === undefined) {
      return Promise.reject(this.closeError ?? new ClosedError('not connected'))
    }
    const cseq = ++this.cseq
    const headers = new Headers()
    headers.set('CSeq', String(cseq))
    for (const [k, v] of Object.entries(extra)) headers.set(k, v)
    headers.set('User-Agent', this.opts.userAgent)
    if (this.session !== undefined && !headers.has('Session')) headers.set('Session', this.session)
    const authorization = this.auth?.authorize(method, url)
    if (authorization !== undefined) headers.set('Authorization', authorization)
    const bytes = serializeRequest({ method, url, headers, body })
    publishClientRequest(this, this.opts.host, this.opts.port, method, url, cseq, headers, body)
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq)
        this.expired.add(cseq)
        if (this.expired.size > 16) this.expired.delete(this.expired.values().next().value!)
        reject(new TimeoutError({ phase: 'reply', timeoutMs: this.opts.timeoutMs, detail: `to ${method}` }))
      }, this.opts.timeoutMs)
      this.pending.set(cseq, { cseq, method, url, resolve, reject, timer, sentAt: performance.now() })
      this.socket!.write(bytes)
    })
  }

  private handleResponse(res: RtspResponse): void {
    if (this.server === undefined) this.server = res.headers.get('Server')?.trim()
    let cseq = cseqOf(res)
    // With exactly one request outstanding, a reply that names no live request can only be
    // for it: ffmpeg's listener answers TEARDOWN with a bare 501 and no CSeq; Hisilicon
    // firmware (Foscam C1 and many OEM cameras) answers everything with `CSeq: 0`; TP-Link
    // Tapo C220 rejects a keep-alive echoing the previous request's CSeq (retina #133, #136).
    // A late reply to a request that timed out is still dropped.
    if (this.pending.size === 1 && (cseq === undefined || (!this.pending.has(cseq) && !this.expired.has(cseq)))) {
      cseq = this.pending.keys().next().value
    }
    if (cseq === undefined) return
    const p = this.pending.get(cseq)
    if (p === undefined) return // a late reply to a request that timed out
    this.pending.delete(cseq)
    clearTimeout(p.timer)
    publishClientResponse(this, this.opts.host, this.opts.port, p.method, p.url, p.cseq, res, p.sentAt)
    this.onReply?.(res, p.method)
    p.resolve(res)
  }

  /** RFC 2326 §10: servers may send OPTIONS, GET_PARAMETER, SET_PARAMETER, ANNOUNCE, REDIRECT. */
  private handleRequest(req: RtspRequest): void {
    const headers = new Headers()
    const cseq = req.headers.get('CSeq')
    if (cseq !== undefined) headers.set('CSeq', cseq.trim())
    if (this.session !== undefined) headers.set('Session', this.session)
    if (req.method === 'OPTIONS') headers.set('Public', 'OPTIONS, GET_PARAMETER, SET_PARAMETER, ANNOUNCE')
    this.write(serializeResponse({ status: 200, reason: 'OK', headers }))
  }

  /**
   * TEARDOWN (RFC 2326 §10.7) with a bounded wait; any reply will do (ffmpeg's listener
   * answers a bare 501 without CSeq) and no failure is reported: the session ends anyway.
   */
  async teardown(url: string, timeoutMs: number): Promise<void> {
    if (this.state !== 'open') return
    const reply = this.request('TEARDOWN', url, {}, undefined, () => true).then(
      () => undefined,
      () => undefined,
    )
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([reply, bound])
    clearTimeout(timer)
  }

  /**
   * A SETUP reply (pull or push): its Session id (RFC 2326 §12.37) goes on every later
   * request; a reply without one is accepted once a session exists (Session in the first
   * SETUP reply only, seen on several cameras). Returns the session timeout in seconds, when
   * given, and the first Transport spec of the reply (RFC 2326 §12.39), when there is one.
   */
  adoptSetupReply(res: RtspResponse, control: string): { timeoutS: number | undefined; transport: TransportSpec | undefined } {
    let timeoutS: number | undefined
    const sessionHeader = res.headers.get('Session')
    if (sessionHeader !== undefined) {
      const s = parseSession(sessionHeader)
      this.session = s.id
      if (s.timeout !== undefined && s.timeout > 0) timeoutS = s.timeout
    } else if (this.session === undefined) {
      throw new ProtocolError(`SETUP reply for ${control} has no Session header`)
    }
    const transportHeader = res.headers.get('Transport')
    return { timeoutS, transport: transportHeader !== undefined ? parseTransport(transportHeader)[0] : undefined }
  }

  /** Send an interleaved frame (RTCP receiver reports, or media when pushing). */
  writeInterleaved(channel: number, payload: Buffer): void {
    this.write(encodeInterleaved(channel, payload))
  }

  write(bytes: Buffer): boolean {
    if (this.state !== 'open' || this.socket === undefined) return false
    return this.socket.write(bytes)
  }

  /** Connection ended: reject everything outstanding, tell the owner once. */
  private fail(err: RtspError): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.closeError = err
    this.socket?.destroy()
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.pending.clear()
    this.onClose?.(err)
  }

  /** Close now, without TEARDOWN; idempotent. */
  close(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.closeError = new ClosedError('closed by the client')
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(this.closeError)
    }
    this.pending.clear()
    this.socket?.destroy()
    this.onClose?.(undefined)
  }
}
