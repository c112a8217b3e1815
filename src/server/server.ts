/**
 * The embedded RTSP 1.0 server (RFC 2326): serves files and in-process media as live
 * streams, takes publishers (ANNOUNCE / RECORD) on any other path and fans each stream out
 * to its readers over TCP interleaved or UDP. Built on the same wire layer as the client.
 */
import { EventEmitter } from 'node:events'
import * as net from 'node:net'
import { isIPv6 } from 'node:net'
import { BindError, InvalidArgumentError, ProtocolError, RequestRejectedError, RtspError, StateError } from '../errors.js'
import { openFileSource, playFrames } from '../input/file-source.js'
import type { FileSource } from '../input/file-source.js'
import { findSeekPoint, framesFrom } from './file-seek.js'
import { formatRange, parseRange } from '../rtsp/headers/range.js'
import { resolveFormat } from '../formats/index.js'
import type { SendTrackInit } from '../formats/send-track.js'
import { Headers } from '../rtsp/message.js'
import type { RtspRequest } from '../rtsp/message.js'
import { cseqOf } from '../rtsp/message.js'
import { RtspReader } from '../rtsp/reader.js'
import { serializeResponse } from '../rtsp/serialize.js'
import { parseSession } from '../rtsp/headers/session.js'
import { formatTransport, parseTransport } from '../rtsp/headers/transport.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { formatRtpInfo } from '../rtsp/headers/rtp-info.js'
import { publishServerRequest, publishServerResponse, publishServerSession } from '../diagnostics.js'
import { parseSdp, rtpMapFor } from '../sdp/parse.js'
import { bindRtpPortPair, normalizeAddress } from '../transport/udp.js'
import type { UdpPortPair } from '../transport/udp.js'
import { ServerAuth, newNonce } from './auth.js'
import { startPullSource } from './pull-source.js'
import type { PullSourceOptions } from './pull-source.js'
import { OnDemandPull } from './on-demand.js'
import type { OnDemandOptions } from './on-demand.js'
import type { PullSupervisor } from '../client/supervisor.js'
import type { ServerCredentials } from './auth.js'
import { keyFrameProbe } from './keyframe.js'
import { Base64Stream, looksLikeHttp, parseTunnelHead, tunnelReply } from './http-tunnel.js'
import { ServerSession } from './session.js'
import type { SessionHost, TrackTransport } from './session.js'
import { Stream, StreamPublisher } from './stream.js'
import type { StreamTrackInfo } from './stream.js'
import { USER_AGENT } from '../client/pull-session.js'
import { redactUrl } from '../util/url.js'
import { createHttpSide } from '../http/http-side.js'
import type { HttpSide, HttpSideOptions } from '../http/http-side.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

export interface AuthorizeContext {
  /** Stream path without the leading slash, e.g. 'cam1'. */
  path: string
  action: 'read' | 'publish'
  /** The authenticated user when credentials are set. */
  user: string | undefined
  remoteAddress: string
}

export interface RtspServerOptions {
  /** Address to listen on. Default '127.0.0.1'. */
  host?: string
  /** TCP port; 0 picks a free one. Default 8554. */
  port?: number
  /** Require Basic or Digest authentication (every method but OPTIONS). */
  credentials?: ServerCredentials | readonly ServerCredentials[]
  /** Realm in challenges. Default 'rtspkit'. */
  realm?: string
  /** Decide per path and action (after authentication); false answers 403. */
  authorize?: (ctx: AuthorizeContext) => boolean | Promise<boolean>
  /** Session timeout advertised in `Session: id;timeout=N`; silent sessions expire after it. Default 60 s. */
  sessionTimeoutS?: number
  /** Bytes queued for one TCP reader before it skips ahead to the next key frame. Default 4 MiB. */
  maxReaderQueueBytes?: number
  /** A reader that stays behind this long is disconnected. Default 10 000 ms. */
  lagCutMs?: number
  /** Most client connections at once. Default 1024. */
  maxConnections?: number
  /** UDP RTP port of the server (RTCP is the next one); default a free even pair. */
  rtpPort?: number
  /** Largest RTP payload for served files and API streams. Default 1400. */
  mtu?: number
  /** One line per session start and end, and per problem. Default: silent. */
  log?: (line: string) => void
}

export interface ServerSessionInfo {
  id: string
  role: 'reader' | 'publisher'
  path: string
  remoteAddress: string
  protocol: 'tcp' | 'udp' | undefined
}

export interface RtspServerEvents {
  'session-start': [info: ServerSessionInfo]
  'session-end': [info: ServerSessionInfo, reason: string]
}

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER, ANNOUNCE, RECORD'
const MAX_SESSIONS_PER_CONNECTION = 16

/** A refusal: the status of the reply and why (the message goes to the log, `reason` to the client). */
function refuse(status: number, message: string, extra: { reason?: string; headers?: Record<string, string | string[]> } = {}): RequestRejectedError {
  return new RequestRejectedError({ status, message, ...extra })
}

/** A path held by a source of this process, and what that source is ('a file', 'a pulled source', ...). */
interface PathClaim {
  path: string
  source: string
}

interface Announced {
  path: string
  stream: Stream
  /** The publisher's a=control of each media, for matching its SETUP URLs. */
  controls: string[]
}

/** One client TCP connection: RTSP requests in, replies and interleaved media out. */
class ServerConnection {
  readonly remoteAddress: string
  readonly label: string
  readonly sessions = new Set<ServerSession>()
  /** Interleaved channel → where its frames go. */
  readonly channels = new Map<number, { session: ServerSession; track: number; rtcp: boolean }>()
  announced: Announced | undefined
  /** Work to do once the reply is on the wire (PLAY: media must follow the reply, never precede it). */
  afterReply: (() => void) | undefined
  lastActivity = performance.now()
  /** This connection's Digest nonce (RFC 7616 §3.3): one per connection, so answers cannot be replayed elsewhere. */
  readonly nonce = newNonce()
  /** The client broke the framing or a limit: its 400 is going out, nothing more is read. */
  private failed = false
  /** The first bytes, while it is not known whether they open an HTTP tunnel; undefined once decided. */
  private sniffed: Buffer | undefined = Buffer.alloc(0)
  /** The GET half of an HTTP tunnel: its cookie. */
  tunnelCookie: string | undefined
  /** The POST half of an HTTP tunnel: its base64 decoder and the GET whose reader it feeds. */
  private post: { decoder: Base64Stream; get: ServerConnection } | undefined
  private queue: Promise<void> = Promise.resolve()
  private readonly reader: RtspReader

  constructor(
    readonly socket: net.Socket,
    private readonly server: RtspServer,
  ) {
    this.remoteAddress = normalizeAddress(socket.remoteAddress ?? '')
    this.label = `${this.remoteAddress}:${socket.remotePort ?? 0}`
    socket.setNoDelay(true)
    this.reader = new RtspReader({
      onRequest: (req) => {
        this.queue = this.queue.then(() => this.server.handle(this, req)).catch((err: unknown) => {
          this.server.logLine(`connection ${this.label}: ${(err as Error).message}`)
          socket.destroy()
        })
      },
      onResponse: () => {}, // replies to requests we never send
      // A client has no reason to send anything but requests and $ frames (RFC 2326 §10.12):
      // resynchronising is for cameras; a client that sends garbage is answered 400 and dropped.
      onGarbage: (n) => {
        throw new ProtocolError(`${n} bytes that are neither an RTSP request nor a $ frame`)
      },
      onInterleaved: (channel, payload) => {
        const route = this.channels.get(channel)
        if (route === undefined) return
        if (route.session.role === 'publisher') {
          if (route.rtcp) route.session.ingestRtcp(route.track, payload)
          else route.session.ingest(route.track, payload)
        } else {
          route.session.lastActivity = performance.now() // receiver reports keep a reader alive
        }
      },
    })
    socket.on('data', (data: Buffer) => {
      if (this.failed) return
      this.lastActivity = performance.now()
      let chunk: Buffer | undefined = data
      if (this.sniffed !== undefined) chunk = this.sniff(data)
      if (chunk === undefined || chunk.length === 0) return
      if (this.post !== undefined) {
        const get = this.post.get
        let decoded: Buffer
        try {
          decoded = this.post.decoder.push(chunk)
        } catch (why) {
          this.server.logLine(`connection ${this.label}: HTTP tunnel POST: ${String(why)}`)
          socket.destroy()
          return
        }
        get.lastActivity = this.lastActivity
        if (decoded.length > 0) get.feed(decoded)
        return
      }
      this.feed(chunk)
    })
    socket.on('error', () => {}) // 'close' follows
    socket.on('close', () => this.server.connectionClosed(this))
  }

  /**
   * RTSP over HTTP (http-tunnel.ts): a connection that opens with an HTTP GET or POST with
   * an x-sessioncookie is one half of a tunnel. Returns the bytes to read on, or undefined.
   */
  private sniff(data: Buffer): Buffer | undefined {
    const buf = this.sniffed!.length === 0 ? data : Buffer.concat([this.sniffed!, data])
    if (!looksLikeHttp(buf)) {
      this.sniffed = undefined
      return buf
    }
    let head
    try {
      head = parseTunnelHead(buf)
    } catch (why) {
      this.server.logLine(`connection ${this.label}: ${String(why)}`)
      this.failed = true
      this.socket.end('HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n', () => this.socket.destroy())
      return undefined
    }
    if (head === undefined) {
      this.sniffed = buf
      return undefined
    }
    this.sniffed = undefined
    if (head.method === 'GET') {
      if (!this.server.tunnelOpened(head.cookie, this)) {
        this.failed = true
        this.socket.end('HTTP/1.0 409 Conflict\r\nConnection: close\r\n\r\n', () => this.socket.destroy())
        return undefined
      }
      this.tunnelCookie = head.cookie
      this.socket.write(tunnelReply(USER_AGENT))
      return head.rest
    }
    const get = this.server.tunnelGet(head.cookie)
    if (get === undefined) {
      // Apple's note: a POST must follow its GET; the cookie names no open tunnel.
      this.server.logLine(`connection ${this.label}: HTTP tunnel POST for a cookie with no GET`)
      this.failed = true
      this.socket.end('HTTP/1.0 403 Forbidden\r\nConnection: close\r\n\r\n', () => this.socket.destroy())
      return undefined
    }
    this.post = { decoder: new Base64Stream(), get }
    return head.rest
  }

  /** This connection is the POST half of the tunnel whose GET is `get`. */
  feeds(get: ServerConnection): boolean {
    return this.post?.get === get
  }

  /** Bytes of the RTSP stream: from this socket, or decoded from the POST half of a tunnel. */
  feed(chunk: Buffer): void {
    const socket = this.socket
    if (this.failed) return
    try {
      this.reader.push(chunk)
    } catch (err) {
      // A client that breaks the framing or a limit: say so and hang up, even if it never reads or closes.
      const msg = err instanceof RtspError ? err.message : String(err)
      this.server.logLine(`connection ${this.label}: ${msg}`)
      this.failed = true
      socket.pause()
      if (!socket.destroyed) socket.end(serializeResponse({ status: 400, headers: { Server: USER_AGENT } }), () => socket.destroy())
    }
  }

  write(buf: Buffer): void {
    const socket = this.socket
    if (socket.destroyed || socket.writableEnded) return
    socket.write(buf)
    // A client that sends requests without reading the replies: stop reading its requests
    // until the replies drain (media is bounded by maxReaderQueueBytes, so this is replies).
    if (socket.writableLength > this.server.replyBacklogBytes && !socket.isPaused()) {
      socket.pause()
      socket.once('drain', () => {
        if (!this.failed) socket.resume()
      })
    }
  }
}

/**
 * `new RtspServer({ port: 8554 })`, then `addFile('cam', 'clip.mp4')` or `publish('live', tracks)`,
 * then `listen()`. Publishers may ANNOUNCE on any path not taken.
 */
export class RtspServer extends EventEmitter<RtspServerEvents> {
  private readonly opts: Required<Omit<RtspServerOptions, 'credentials' | 'realm' | 'authorize' | 'rtpPort' | 'log'>> & Pick<RtspServerOptions, 'authorize' | 'rtpPort' | 'log'>
  private readonly auth: ServerAuth | undefined
  private readonly netServer: net.Server
  private readonly connections = new Set<ServerConnection>()
  private readonly sessions = new Map<string, ServerSession>()
  /** Stream path → live stream (files, API publishers, RECORD publishers). */
  private readonly streams = new Map<string, Stream>()
  private readonly publishers = new Map<string, StreamPublisher>()
  /**
   * Paths the application claimed (addFile, addPull, publish) → what serves them. A claim
   * starts when the call does: a pulled source still connecting or a file still opening
   * holds its path, so a publisher's ANNOUNCE cannot take it in the meantime.
   */
  private readonly claims = new Map<string, PathClaim>()
  /** `address:port` of a UDP publisher's RTP/RTCP → its session and track. */
  private readonly udpRoutes = new Map<string, { session: ServerSession; track: number; rtcp: boolean }>()
  private readonly fileLoops = new Set<AbortController>()
  /** File paths → their source, for readers that seek (each gets its own playback from the file). */
  private readonly files = new Map<string, { source: FileSource; loop: boolean; inits: readonly SendTrackInit[]; playbacks: Set<StreamPublisher> }>()
  /** HTTP tunnels (http-tunnel.ts): x-sessioncookie → the GET connection that carries the replies. */
  private readonly tunnels = new Map<string, ServerConnection>()
  /** Pull sources (addPull): closed, with their TEARDOWN, in close(). */
  private readonly pullSources = new Set<PullSupervisor>()
  /** Pulled paths opened by their first viewer (addPull with onDemand). */
  private readonly onDemand = new Map<string, OnDemandPull>()
  private readonly host: SessionHost
  private udp: UdpPortPair | undefined
  private sweepTimer: NodeJS.Timeout | undefined
  private state: 'new' | 'listening' | 'closed' = 'new'
  private boundPort = 0

  constructor(options: RtspServerOptions = {}) {
    super()
    this.opts = {
      host: options.host === 'localhost' || options.host === undefined ? '127.0.0.1' : options.host,
      port: options.port ?? 8554,
      sessionTimeoutS: options.sessionTimeoutS ?? 60,
      maxReaderQueueBytes: options.maxReaderQueueBytes ?? 4 * 1024 * 1024,
      lagCutMs: options.lagCutMs ?? 10_000,
      maxConnections: options.maxConnections ?? 1024,
      mtu: options.mtu ?? 1400,
      authorize: options.authorize,
      rtpPort: options.rtpPort,
      log: options.log,
    }
    if (!net.isIP(this.opts.host)) throw new InvalidArgumentError(`server host must be an IP address, got ${JSON.stringify(this.opts.host)}`)
    if (!Number.isInteger(this.opts.port) || this.opts.port < 0 || this.opts.port > 65535) {
      throw new InvalidArgumentError(`server port must be 0-65535, got ${this.opts.port}`)
    }
    if (!(this.opts.sessionTimeoutS >= 1)) throw new InvalidArgumentError(`sessionTimeoutS must be at least 1, got ${this.opts.sessionTimeoutS}`)
    if (options.credentials !== undefined) this.auth = new ServerAuth(options.credentials, options.realm)
    this.netServer = net.createServer((socket) => this.accept(socket))
    this.netServer.maxConnections = this.opts.maxConnections
    const server = this
    this.host = {
      get udp() {
        return server.udp
      },
      maxReaderQueueBytes: this.opts.maxReaderQueueBytes,
      sessionEnded: (session, reason) => this.endSession(session, reason),
    }
  }

  /** @internal Unread replies a connection may hold before its requests are no longer read. */
  get replyBacklogBytes(): number {
    return this.opts.maxReaderQueueBytes + 1024 * 1024
  }

  /**
   * Replace the users (rtspkit serve --config reload); the server must have been created with
   * `credentials`. Sessions already authenticated go on.
   */
  setUsers(users: readonly ServerCredentials[]): void {
    if (this.auth === undefined) throw new StateError({ action: 'set users', state: 'without credentials', allowed: ['with credentials'] })
    this.auth.setUsers(users)
  }

  /** The TCP port listened on (after listen()). */
  get port(): number {
    return this.boundPort
  }

  /** The server's UDP RTP port (RTCP is +1), after listen(). */
  get rtpPort(): number | undefined {
    return this.udp?.rtpPort
  }

  /** `rtsp://host:port/path` for a stream of this server. */
  url(path: string): string {
    const h = this.opts.host === '0.0.0.0' ? '127.0.0.1' : this.opts.host === '::' ? '[::1]' : isIPv6(this.opts.host) ? `[${this.opts.host}]` : this.opts.host
    return `rtsp://${h}:${this.boundPort}/${normalizePath(path)}`
  }

  /**
   * The stream of an on-demand path, connecting its source when closed; undefined for another path.
   * @internal
   */
  async openOnDemand(path: string): Promise<Stream | undefined> {
    const entry = this.onDemand.get(normalizePath(path))
    return entry?.stream()
  }

  /** Paths whose source is pulled on demand (open or not). @internal */
  onDemandPaths(): string[] {
    return [...this.onDemand.keys()]
  }

  /** Viewers of `stream` of any kind: its readers (the HTTP side's tap among them) and reader sessions not yet playing. */
  private viewersOf(stream: Stream): number {
    let n = stream.readers.size
    for (const s of this.sessions.values()) if (s.stream === stream && s.role === 'reader' && s.state !== 'closed') n++
    return n
  }

  /** Paths served now, with their codecs. */
  paths(): Array<{ path: string; kind: string; codecs: string; readers: number }> {
    return [...this.streams.values()].map((s) => ({ path: s.path, kind: s.kind, codecs: s.summary, readers: s.readers.size }))
  }

  /**
   * The live stream served on `path` now, or undefined. The HTTP side taps its packets by
   * adding a `StreamReader` to `readers` (a tap counts as a reader: sources packetize for it).
   * @internal
   */
  liveStream(path: string): Stream | undefined {
    return this.streams.get(normalizePath(path))
  }

  #http: HttpSide | undefined

  /**
   * The HTTP side (browser live view: index, player pages, MSE over WebSocket, live `.mp4`,
   * WHEP, snapshots) as a request handler: `http.createServer(server.httpHandler())`, Express
   * `app.use(handler)`, Fastify `reply.hijack(); handler(req.raw, reply.raw)`. Pair it with
   * `upgradeHandler()` on the http server's 'upgrade' event. The server's users apply (Basic).
   * Options are read on the first call.
   */
  httpHandler(options: Omit<HttpSideOptions, 'auth' | 'authorize'> = {}): (req: IncomingMessage, res: ServerResponse) => void {
    const side = this.httpSide(options)
    return (req, res) => side.handle(req, res)
  }

  /** The HTTP side's WebSocket handler, for `httpServer.on('upgrade', server.upgradeHandler())`. */
  upgradeHandler(options: Omit<HttpSideOptions, 'auth' | 'authorize'> = {}): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    const side = this.httpSide(options)
    return (req, socket, head) => side.upgrade(req, socket, head)
  }

  /** @internal The one HTTP side of this server (shared by httpHandler and upgradeHandler). */
  httpSide(options: Omit<HttpSideOptions, 'auth' | 'authorize'> = {}): HttpSide {
    if (this.#http === undefined) {
      const auth = this.auth
      this.#http = createHttpSide(this, {
        ...options,
        ...(auth !== undefined ? { auth: { realm: auth.realm, verify: (method: string, header: string | undefined) => auth.verify(method, header) } } : {}),
        ...(this.opts.authorize !== undefined ? { authorize: this.opts.authorize } : {}),
      })
    }
    return this.#http
  }

  async listen(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new') throw new StateError({ action: 'listen', state: this.state, allowed: ['new'] })
    const rtpPort = this.opts.rtpPort
    try {
      this.udp = await bindRtpPortPair({
        host: this.opts.host,
        filterSource: false,
        recvBufferSize: 4 * 1024 * 1024,
        ...(rtpPort !== undefined ? { minPort: rtpPort, maxPort: rtpPort + 1, attempts: 1 } : {}),
      })
    } catch (err) {
      // The client's advice (--transport tcp) means nothing to a server.
      if (!(err instanceof BindError)) throw err
      throw new BindError({
        protocol: 'udp',
        host: err.host,
        ...(err.port !== undefined ? { port: err.port } : err.range !== undefined ? { range: [err.range[0], err.range[1]], attempts: rtpPort !== undefined ? 1 : 64 } : {}),
        reason: err.reason,
        hint: rtpPort !== undefined ? 'choose another rtpPort' : 'check the host address',
        cause: err.cause,
      })
    }
    this.udp.onRtp((buf, rinfo) => this.onUdp(buf, rinfo.address, rinfo.port, false))
    this.udp.onRtcp((buf, rinfo) => this.onUdp(buf, rinfo.address, rinfo.port, true))
    this.udp.onError(() => {}) // ICMP port unreachable from a reader that went away: its session expires
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        void this.udp?.close()
        reject(new BindError({ protocol: 'tcp', host: this.opts.host, port: this.opts.port, reason: err.code ?? err.message, hint: 'choose another --port', cause: err }))
      }
      this.netServer.once('error', onError)
      this.netServer.listen(this.opts.port, this.opts.host, () => {
        this.netServer.off('error', onError)
        resolve()
      })
    })
    this.boundPort = (this.netServer.address() as net.AddressInfo).port
    this.state = 'listening'
    this.sweepTimer = setInterval(() => this.sweep(), 1000)
    this.sweepTimer.unref()
    return { host: this.opts.host, port: this.boundPort }
  }

  /**
   * Serve a media file (MP4, MOV, MPEG-TS) on `path` as a live stream: paced in real time,
   * looping with continuous timestamps, one timeline shared by every reader.
   */
  async addFile(path: string, file: string, options: { loop?: boolean } = {}): Promise<StreamPublisher> {
    const claim = this.claim(path, 'a file')
    let source: Awaited<ReturnType<typeof openFileSource>>
    try {
      source = await openFileSource(file)
    } catch (err) {
      this.release(claim)
      throw err
    }
    let publisher: StreamPublisher
    try {
      publisher = this.createPublisher(claim, 'file', source.tracks)
    } catch (err) {
      this.release(claim)
      await source.close()
      throw err
    }
    const abort = new AbortController()
    this.fileLoops.add(abort)
    const p = publisher.stream.path
    const entry = { source, loop: options.loop ?? true, inits: source.tracks, playbacks: new Set<StreamPublisher>() }
    this.files.set(p, entry)
    publisher.onClose = ((prev) => () => {
      abort.abort()
      if (this.files.get(p) === entry) this.files.delete(p)
      for (const pb of [...entry.playbacks]) pb.close('the file is no longer served')
      prev?.()
    })(publisher.onClose)
    void (async () => {
      try {
        await playFrames(source, { loop: options.loop ?? true, realtime: true, signal: abort.signal }, (f) => publisher.write(f.trackIndex, f))
      } catch (err) {
        if (!abort.signal.aborted) this.logLine(`stream /${publisher.stream.path}: reading ${file} failed: ${(err as Error).message}`)
      } finally {
        this.fileLoops.delete(abort)
        await source.close().catch(() => {})
        publisher.close('the file ended')
      }
    })()
    return publisher
  }

  /**
   * Serve another server's (or a camera's) stream on `path`: pulled once, reconnected when
   * it drops, fanned out to every reader here. Tracks the server cannot forward as they are
   * (LATM without a known config, codecs with no packetizer here) are left out and listed in the result.
   */
  async addPull(path: string, url: string, options?: PullSourceOptions & { onDemand?: false }): Promise<{ publisher: StreamPublisher; skipped: string[] }>
  /**
   * With `onDemand: true` the source is pulled only while someone watches: the first viewer of
   * any kind (an RTSP reader's DESCRIBE, a browser viewer) connects it and waits for its tracks,
   * later viewers share that one pull, and it closes `closeAfterMs` (default 10 s) after the
   * last viewer leaves. Nothing is connected by this call; `remove()` frees the path again.
   */
  async addPull(path: string, url: string, options: PullSourceOptions & OnDemandOptions & { onDemand: true }): Promise<{ publisher: undefined; skipped: []; remove(): void }>
  async addPull(
    path: string,
    url: string,
    options: PullSourceOptions & OnDemandOptions & { onDemand?: boolean } = {},
  ): Promise<{ publisher: StreamPublisher | undefined; skipped: string[]; remove?(): void }> {
    const { onDemand, closeAfterMs, ...pullOptions } = options
    if (onDemand === true) {
      const p = this.claim(path, 'a pulled source', { check: true }).path
      const entry = new OnDemandPull(
        p,
        async () => (await this.pullNow(p, url, pullOptions)).publisher,
        (stream) => this.viewersOf(stream),
        closeAfterMs !== undefined ? { closeAfterMs } : {},
      )
      this.onDemand.set(p, entry)
      const remove = (): void => {
        if (this.onDemand.get(p) !== entry) return
        this.onDemand.delete(p)
        entry.close('the path was removed')
      }
      return { publisher: undefined, skipped: [], remove }
    }
    return this.pullNow(path, url, pullOptions)
  }

  private async pullNow(path: string, url: string, options: PullSourceOptions): Promise<{ publisher: StreamPublisher; skipped: string[] }> {
    const claim = this.claim(path, 'a pulled source', { onDemand: true })
    const p = claim.path
    let source: Awaited<ReturnType<typeof startPullSource>>
    try {
      source = await startPullSource(url, (tracks) => this.createPublisher(claim, 'api', tracks), options, (line) => this.logLine(`stream /${p}: ${line}`))
    } catch (err) {
      this.release(claim)
      throw err
    }
    this.pullSources.add(source.supervisor)
    source.supervisor.once('close', () => this.pullSources.delete(source.supervisor))
    return { publisher: source.publisher, skipped: source.skipped }
  }

  /** Serve media written by this program: `publisher.write(track, { pts, keyFrame, data })`. */
  publish(path: string, tracks: readonly SendTrackInit[]): StreamPublisher {
    const claim = this.claim(path, 'the application')
    try {
      return this.createPublisher(claim, 'api', tracks)
    } catch (err) {
      this.release(claim)
      throw err
    }
  }

  /**
   * Take `path` for a source of this process, or say who holds it. `onDemand`: the path's own
   * on-demand source connecting; `check`: only check (an on-demand path holds its name itself).
   */
  private claim(path: string, source: string, how: { onDemand?: boolean; check?: boolean } = {}): PathClaim {
    if (this.state === 'closed') throw new StateError({ action: 'publish', state: 'closed', allowed: ['new', 'listening'] })
    const p = normalizePath(path)
    const taken = this.whyTaken(p) ?? (how.onDemand !== true && this.onDemand.has(p) ? `path /${p} is served from a source pulled on demand` : undefined)
    if (taken !== undefined) throw new InvalidArgumentError(`${taken}; choose another path`)
    const claim: PathClaim = { path: p, source }
    if (how.check === true) return claim
    this.claims.set(p, claim)
    return claim
  }

  private release(claim: PathClaim): void {
    if (this.claims.get(claim.path) === claim) this.claims.delete(claim.path)
  }

  /** Why `path` cannot take another source (for `conn`'s ANNOUNCE, its own announcement aside), or undefined when it is free. */
  private whyTaken(path: string, conn?: ServerConnection): string | undefined {
    const claim = this.claims.get(path)
    const served = this.streams.has(path)
    if (claim !== undefined) return served ? `path /${path} is served from ${claim.source}` : `path /${path} is reserved for ${claim.source} that is starting`
    if (served) return `path /${path} is served from another publisher`
    if (conn !== undefined && this.onDemand.has(path)) return `path /${path} is served from a source pulled on demand`
    if (this.isAnnounced(path) && conn?.announced?.path !== path) return `path /${path} is being announced by another publisher`
    return undefined
  }

  private createPublisher(claim: PathClaim, kind: 'file' | 'api', tracks: readonly SendTrackInit[]): StreamPublisher {
    if (this.state === 'closed') throw new StateError({ action: 'publish', state: 'closed', allowed: ['new', 'listening'] })
    const p = claim.path
    const publisher = new StreamPublisher(p, kind, tracks, { mtu: this.opts.mtu })
    this.streams.set(p, publisher.stream)
    this.publishers.set(p, publisher)
    publisher.onClose = () => {
      if (this.streams.get(p) === publisher.stream) this.streams.delete(p)
      this.publishers.delete(p)
      this.release(claim)
    }
    return publisher
  }

  /** Stop listening, end every session and stream, release every socket. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    const wasListening = this.state === 'listening'
    this.state = 'closed'
    clearInterval(this.sweepTimer)
    this.#http?.close()
    for (const a of this.fileLoops) a.abort()
    for (const d of this.onDemand.values()) d.close('the server is shutting down')
    for (const p of [...this.publishers.values()]) p.close('the server is shutting down')
    for (const s of [...this.sessions.values()]) this.endSession(s, 'the server is shutting down')
    for (const c of this.connections) c.socket.destroy()
    await Promise.all([...this.pullSources].map((s) => s.close()))
    await this.udp?.close()
    if (wasListening) await new Promise<void>((resolve) => this.netServer.close(() => resolve()))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** @internal */
  logLine(line: string): void {
    this.opts.log?.(line)
  }

  // ---- connections ----

  private accept(socket: net.Socket): void {
    if (this.state !== 'listening') {
      socket.destroy()
      return
    }
    this.connections.add(new ServerConnection(socket, this))
  }

  /** @internal A tunnel's GET: false when its cookie is taken by another open tunnel. */
  tunnelOpened(cookie: string, conn: ServerConnection): boolean {
    if (this.tunnels.has(cookie)) return false
    this.tunnels.set(cookie, conn)
    return true
  }

  /** @internal The GET connection of a tunnel's POST. */
  tunnelGet(cookie: string): ServerConnection | undefined {
    return this.tunnels.get(cookie)
  }

  /** @internal */
  connectionClosed(conn: ServerConnection): void {
    this.connections.delete(conn)
    if (conn.tunnelCookie !== undefined && this.tunnels.get(conn.tunnelCookie) === conn) {
      this.tunnels.delete(conn.tunnelCookie)
      // The POST halves of this tunnel have nothing left to feed.
      for (const c of this.connections) if (c.feeds(conn)) c.socket.destroy()
    }
    for (const s of conn.sessions) {
      // TCP sessions live in their connection; UDP ones stay until TEARDOWN or timeout (RFC 2326 §3.6).
      if (s.socket === conn.socket || s.role === 'publisher') this.endSession(s, 'the client disconnected')
    }
    conn.sessions.clear()
  }

  private onUdp(buf: Buffer, address: string, port: number, rtcp: boolean): void {
    const route = this.udpRoutes.get(`${normalizeAddress(address)}:${port}`)
    if (route === undefined) return
    if (route.session.role === 'publisher') {
      if (rtcp) route.session.ingestRtcp(route.track, buf)
      else route.session.ingest(route.track, buf)
    } else {
      route.session.lastActivity = performance.now() // receiver reports keep a UDP reader alive
    }
  }

  private sweep(): void {
    const now = performance.now()
    const timeoutMs = this.opts.sessionTimeoutS * 1000
    for (const s of [...this.sessions.values()]) {
      let last = s.lastActivity
      if (s.socket !== undefined) {
        for (const c of this.connections) if (c.socket === s.socket && c.lastActivity > last) last = c.lastActivity
      }
      if (now - last > timeoutMs) this.endSession(s, `no request or RTCP for ${this.opts.sessionTimeoutS} s`)
      else if (s.laggingSince !== 0 && now - s.laggingSince > this.opts.lagCutMs) {
        this.endSession(s, `the reader fell behind for ${Math.round(this.opts.lagCutMs / 1000)} s`)
        s.socket?.destroy()
      }
    }
    // A connection that holds no session and sends nothing (slowloris, a client that hung) is not kept forever.
    for (const c of this.connections) {
      if (c.sessions.size === 0 && now - c.lastActivity > timeoutMs) {
        this.logLine(`connection ${c.label}: closed after ${this.opts.sessionTimeoutS} s without a request or a session`)
        c.socket.destroy()
      }
    }
  }

  private endSession(s: ServerSession, reason: string): void {
    if (s.state === 'closed') return
    const wasPublishing = s.role === 'publisher'
    s.state = 'closed'
    this.sessions.delete(s.id)
    s.stream.readers.delete(s)
    const playbackEnded = s.playback?.stream.ended === true
    s.stopPlayback()
    for (const [key, route] of this.udpRoutes) if (route.session === s) this.udpRoutes.delete(key)
    const holders: ServerConnection[] = []
    for (const c of this.connections) {
      if (c.sessions.delete(s)) holders.push(c)
      for (const [ch, route] of c.channels) if (route.session === s) c.channels.delete(ch)
    }
    if (wasPublishing && this.streams.get(s.stream.path) === s.stream) {
      this.streams.delete(s.stream.path)
      s.stream.end('the publisher went away')
    }
    if (s.role === 'reader' && (s.stream.ended || playbackEnded)) {
      // The source is gone: hang up so the client sees the end at once (RFC 2326 gives no push
      // notice in 1.0). A UDP reader's RTSP connection too, unless it holds other sessions.
      s.socket?.end()
      for (const c of holders) if (c.socket !== s.socket && c.sessions.size === 0) c.socket.end()
    }
    const info = this.info(s)
    this.logLine(`session ${s.id} ended (${reason}) ${s.summary()}`)
    this.emit('session-end', info, reason)
    publishServerSession('close', info, reason)
  }

  private info(s: ServerSession): ServerSessionInfo {
    return { id: s.id, role: s.role, path: s.stream.path, remoteAddress: s.remoteAddress, protocol: s.protocol }
  }

  private isAnnounced(path: string): boolean {
    for (const c of this.connections) if (c.announced?.path === path) return true
    return false
  }

  // ---- requests ----

  /** @internal One request, answered in order per connection. */
  async handle(conn: ServerConnection, req: RtspRequest): Promise<void> {
    publishServerRequest(conn, conn.socket, req, cseqOf(req))
    const cseq = req.headers.get('CSeq')
    const headers = new Headers()
    if (cseq !== undefined) headers.set('CSeq', cseqOf(req) ?? cseq.trim())
    headers.set('Server', USER_AGENT)
    let status = 200
    let reason: string | undefined
    let body: string | undefined
    try {
      if (req.version !== 'RTSP/1.0') throw refuse(505, `RTSP version ${req.version} is not supported; use RTSP/1.0`)
      body = await this.dispatch(conn, req, headers)
    } catch (err) {
      if (!(err instanceof RequestRejectedError)) throw err
      status = err.status
      for (const [name, value] of Object.entries(err.headers)) {
        if (typeof value === 'string') headers.set(name, value)
        else for (const v of value) headers.append(name, v)
      }
      reason = err.reason
      if (status >= 500 || status === 400) this.logLine(`${req.method} from ${conn.label}: ${err.message}`)
    }
    if (body !== undefined) headers.set('Content-Type', 'application/sdp')
    publishServerResponse(conn, conn.socket, req, cseqOf(req), status, reason ?? '', headers, body)
    conn.write(serializeResponse({ status, headers, ...(reason !== undefined ? { reason } : {}), ...(body !== undefined ? { body } : {}) }))
    const after = conn.afterReply
    conn.afterReply = undefined
    if (status === 200) after?.()
  }

  private async dispatch(conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<string | undefined> {
    const method = req.method
    switch (method) {
      case 'OPTIONS':
        headers.set('Public', PUBLIC)
        this.touchSession(req)
        return undefined
      case 'DESCRIBE': {
        const { path, url } = parseRequestPath(req.url)
        let stream = this.streams.get(path)
        await this.authorize(conn, req, path, 'read')
        // An on-demand path connects its source now (after the reader is authorized); the
        // pull's own connect timeout bounds the wait.
        if (stream === undefined && this.onDemand.has(path)) {
          try {
            stream = await this.openOnDemand(path)
          } catch (err) {
            if (!(err instanceof RtspError)) throw err
            throw refuse(503, `the source of /${path} could not be opened: ${err.message}`)
          }
        }
        if (stream === undefined) throw refuse(404, `no stream at /${path}`)
        headers.set('Content-Base', url.endsWith('/') ? url : `${url}/`)
        return stream.sdp
      }
      case 'SETUP':
        await this.setup(conn, req, headers)
        return undefined
      case 'PLAY':
        await this.play(conn, req, headers)
        return undefined
      case 'PAUSE': {
        const s = this.sessionOf(req)
        if (s.role !== 'reader') throw refuse(455, 'PAUSE is for readers')
        // RFC 2326 §10.6: a reader of its own file playback resumes where it paused.
        if (s.playback !== undefined) {
          s.resumeAt = s.playback.position()
          s.stopPlayback()
        }
        s.pause()
        headers.set('Session', s.id)
        return undefined
      }
      case 'RECORD':
        this.record(conn, req, headers)
        return undefined
      case 'ANNOUNCE':
        await this.announce(conn, req)
        return undefined
      case 'GET_PARAMETER':
      case 'SET_PARAMETER': {
        // Keep-alive (RFC 2326 §10.8): refresh the session if there is one; an expired one is
        // 454 (as GStreamer answers), so the client learns its session is gone.
        if (sessionIdOf(req) === undefined) return undefined
        const s = this.sessionOf(req)
        headers.set('Session', `${s.id};timeout=${this.opts.sessionTimeoutS}`)
        return undefined
      }
      case 'TEARDOWN': {
        const id = sessionIdOf(req)
        const s = id !== undefined ? this.sessions.get(id) : undefined
        if (s !== undefined) this.endSession(s, 'teardown')
        return undefined
      }
      default:
        throw refuse(501, `method ${method} is not implemented`, { headers: { Public: PUBLIC } })
    }
  }

  private touchSession(req: RtspRequest): ServerSession | undefined {
    const id = sessionIdOf(req)
    const s = id !== undefined ? this.sessions.get(id) : undefined
    if (s !== undefined) s.lastActivity = performance.now()
    return s
  }

  private sessionOf(req: RtspRequest): ServerSession {
    const id = sessionIdOf(req)
    if (id === undefined) throw refuse(454, 'the request has no Session header')
    const s = this.sessions.get(id)
    if (s === undefined) throw refuse(454, `no session ${id}`)
    s.lastActivity = performance.now()
    return s
  }

  private async authorize(conn: ServerConnection, req: RtspRequest, path: string, action: 'read' | 'publish'): Promise<void> {
    let user: string | undefined
    if (this.auth !== undefined) {
      const result = this.auth.verify(req.method, req.headers.get('Authorization'), conn.nonce)
      if (!result.ok) {
        if (result.reason !== 'missing' && result.reason !== 'stale') this.logLine(`${req.method} /${path} from ${conn.label}: authentication failed (${result.reason})`)
        throw refuse(401, 'authentication required', { headers: { 'WWW-Authenticate': this.auth.challenges(conn.nonce, result.reason === 'stale') } })
      }
      user = result.user
    }
    if (this.opts.authorize !== undefined) {
      let allowed = false
      try {
        allowed = await this.opts.authorize({ path, action, user, remoteAddress: conn.remoteAddress })
      } catch (err) {
        this.logLine(`authorize hook failed for /${path}: ${(err as Error).message}`)
      }
      if (!allowed) throw refuse(403, `${action} /${path} is not allowed`)
    }
  }

  private async announce(conn: ServerConnection, req: RtspRequest): Promise<void> {
    const { path } = parseRequestPath(req.url)
    await this.authorize(conn, req, path, 'publish')
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/sdp') throw refuse(415, 'ANNOUNCE needs an application/sdp body')
    if (path === '') throw refuse(400, 'publish to a path, e.g. rtsp://host:port/live')
    // RFC 2326 §11.3.6 (455 Method Not Valid in This State): the reason phrase says why, for
    // the publisher's user (ffmpeg prints it, rtspkit's StatusError carries it).
    const taken = this.whyTaken(path, conn)
    if (taken !== undefined) throw refuse(455, `ANNOUNCE refused: ${taken}`, { reason: `Method Not Valid in This State: ${taken}` })
    let sdp
    try {
      sdp = parseSdp(req.body)
    } catch (err) {
      throw refuse(400, `bad SDP: ${(err as Error).message}`)
    }
    if (sdp.media.length === 0) throw refuse(400, 'the SDP has no media')
    const tracks: StreamTrackInfo[] = sdp.media.map((m, i) => {
      const pt = m.formats[0] ?? 96
      const handler = resolveFormat(m, pt)
      const rtpmap = rtpMapFor(m, pt)
      const codec = (handler?.codec ?? rtpmap?.encoding ?? `PT${pt}`).toUpperCase()
      return {
        index: i,
        type: m.type,
        codec,
        clockRate: handler?.clockRate ?? rtpmap?.clockRate ?? 90000,
        control: `trackID=${i}`,
        gated: m.type === 'video' && keyFrameProbe(codec) !== undefined,
      }
    })
    const stream = new Stream(path, 'publisher', tracks, rewriteControls(req.body.toString('utf8')))
    conn.announced = { path, stream, controls: sdp.media.map((m) => m.control ?? '') }
  }

  private async setup(conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<void> {
    const specs = (() => {
      const value = req.headers.get('Transport')
      if (value === undefined) throw refuse(400, 'SETUP needs a Transport header')
      try {
        return parseTransport(value)
      } catch {
        throw refuse(461, `unsupported Transport ${value}`)
      }
    })()
    const recording = specs.some((s) => s.mode === 'RECORD')
    const { path: reqPath } = parseRequestPath(req.url)
    const existing = sessionIdOf(req) !== undefined ? this.sessionOf(req) : undefined

    let stream: Stream
    let index: number
    if (recording) {
      const a = conn.announced
      if (a === undefined || !(reqPath === a.path || reqPath.startsWith(`${a.path}/`))) {
        throw refuse(455, 'SETUP with mode=record needs an ANNOUNCE of the same path first')
      }
      stream = a.stream
      index = matchPublisherControl(a, reqPath, req.url)
      await this.authorize(conn, req, a.path, 'publish')
    } else {
      const found = this.findTrack(reqPath)
      await this.authorize(conn, req, found.stream.path, 'read')
      stream = found.stream
      index = found.index
    }
    let session = existing
    if (session !== undefined && (session.stream !== stream || session.role !== (recording ? 'publisher' : 'reader'))) {
      throw refuse(459, 'a session holds the tracks of one stream; SETUP this track without the Session header')
    }
    if (session !== undefined && session.state !== 'ready') throw refuse(455, `SETUP is not allowed while ${session.state}`)

    // The first transport we can serve (RFC 2326 §12.39: the client lists them by preference).
    let chosen: { spec: TransportSpec; transport: TrackTransport } | undefined
    for (const spec of specs) {
      if (spec.protocol !== 'RTP/AVP') continue
      if (spec.lowerTransport === 'TCP') {
        if (session !== undefined && session.socket !== undefined && session.socket !== conn.socket) continue
        const channels = spec.interleaved ?? freeChannels(conn)
        if (conn.channels.has(channels[0]) || conn.channels.has(channels[1])) continue
        chosen = { spec, transport: { protocol: 'tcp', channels } }
        break
      }
      if (spec.delivery === 'multicast' || spec.clientPort === undefined || this.udp === undefined) continue
      // client_port=0 or 65535 (its RTCP port would be 65536) parses but cannot be sent to: a
      // send to it throws inside the fan-out and ended the stream for every reader.
      if (!spec.clientPort.every((port) => port >= 1 && port <= 65535)) continue
      chosen = { spec, transport: { protocol: 'udp', clientPorts: spec.clientPort } }
      break
    }
    if (chosen === undefined) throw refuse(461, 'no supported transport: use RTP/AVP over UDP (client_port) or RTP/AVP/TCP (interleaved)')
    if (session?.protocol !== undefined && session.protocol !== chosen.transport.protocol) {
      throw refuse(461, 'every track of a session uses the same lower transport')
    }

    if (session === undefined) {
      if (conn.sessions.size >= MAX_SESSIONS_PER_CONNECTION) throw refuse(453, `at most ${MAX_SESSIONS_PER_CONNECTION} sessions per connection`)
      session = new ServerSession(this.host, recording ? 'publisher' : 'reader', stream, conn.remoteAddress)
      this.sessions.set(session.id, session)
      conn.sessions.add(session)
    }
    const s = session
    if (chosen.transport.protocol === 'tcp') {
      s.socket = conn.socket
      const [rtp, rtcp] = chosen.transport.channels!
      conn.channels.set(rtp, { session: s, track: index, rtcp: false })
      conn.channels.set(rtcp, { session: s, track: index, rtcp: true })
    } else {
      const [rtp, rtcp] = chosen.transport.clientPorts!
      this.udpRoutes.set(`${conn.remoteAddress}:${rtp}`, { session: s, track: index, rtcp: false })
      this.udpRoutes.set(`${conn.remoteAddress}:${rtcp}`, { session: s, track: index, rtcp: true })
    }
    s.setupTrack(index, chosen.transport, recording ? keyFrameProbe(stream.tracks[index]?.codec ?? '') : undefined)

    const reply: TransportSpec = { protocol: 'RTP/AVP', lowerTransport: chosen.transport.protocol === 'tcp' ? 'TCP' : 'UDP', delivery: 'unicast' }
    if (chosen.transport.protocol === 'tcp') reply.interleaved = chosen.transport.channels!
    else {
      reply.clientPort = chosen.transport.clientPorts!
      reply.serverPort = [this.udp!.rtpPort, this.udp!.rtcpPort]
    }
    if (recording) reply.mode = 'record'
    headers.set('Transport', formatTransport(reply))
    headers.set('Session', `${s.id};timeout=${this.opts.sessionTimeoutS}`)
  }

  /** A reader's SETUP URL: `<stream path>/trackID=N`, or the stream itself when it has one track. */
  private findTrack(reqPath: string): { stream: Stream; index: number } {
    const direct = this.streams.get(reqPath)
    if (direct !== undefined) {
      if (direct.tracks.length === 1) return { stream: direct, index: 0 }
      throw refuse(459, `/${reqPath} has ${direct.tracks.length} tracks; SETUP each one (…/trackID=N)`)
    }
    const slash = reqPath.lastIndexOf('/')
    const stream = slash >= 0 ? this.streams.get(reqPath.slice(0, slash)) : undefined
    if (stream === undefined) throw refuse(404, `no stream at /${reqPath}`)
    const control = reqPath.slice(slash + 1)
    const track = stream.tracks.find((t) => t.control === control)
    if (track === undefined) throw refuse(404, `/${stream.path} has no track ${control}`)
    return { stream, index: track.index }
  }

  private async play(conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<void> {
    const s = this.sessionOf(req)
    if (s.role !== 'reader') throw refuse(455, 'PLAY is for readers; a publisher sends RECORD')
    if (s.stream.ended) throw refuse(404, `the stream /${s.stream.path} has ended`)
    const file = s.stream.kind === 'file' ? this.files.get(s.stream.path) : undefined
    const seekTo = file !== undefined ? this.seekPosition(s, req) : undefined
    headers.set('Session', `${s.id};timeout=${this.opts.sessionTimeoutS}`)
    const base = streamUrl(req.url, s.stream.path)
    const tracks = s.setUpTracks()
    if (seekTo !== undefined && file !== undefined) {
      await this.seek(conn, s, file, seekTo, base, tracks, headers)
      return
    }
    headers.set('Range', 'npt=0.000-')
    // RTP-Info (RFC 2326 §12.33): where each track's clock stands now, for A/V alignment.
    const times = s.stream.rtpTimesNow(tracks)
    const entries = tracks.flatMap((i, n) => {
      const rtptime = times[n]
      return rtptime === undefined ? [] : [{ url: `${base}/${s.stream.tracks[i]!.control}`, rtptime }]
    })
    if (entries.length > 0) headers.set('RTP-Info', formatRtpInfo(entries))
    this.startAfterReply(conn, s)
  }

  /**
   * Where a file reader's PLAY asks to start (RFC 2326 §12.29), or undefined to join the
   * path's shared pass: `npt=0-` (ffmpeg, VLC and rtspsrc send it on every first PLAY) and
   * `npt=now-` join it; a later position, a PLAY without Range after a PAUSE of the reader's
   * own playback (§10.6: resume where it paused), or any npt while it has one, seek.
   */
  private seekPosition(s: ServerSession, req: RtspRequest): number | undefined {
    const value = req.headers.get('Range')
    if (value === undefined) {
      const at = s.resumeAt
      s.resumeAt = undefined
      return at
    }
    let range
    try {
      range = parseRange(value)
    } catch {
      throw refuse(457, `bad Range ${value.slice(0, 100)}; send npt=<seconds>-`, { reason: 'Invalid Range' })
    }
    // §12.29: a server that does not support a unit answers 457; files here are in NPT.
    if (range.unit !== 'npt') throw refuse(457, `Range ${range.unit}= is not supported for files; send npt=<seconds>-`, { reason: 'Invalid Range' })
    s.resumeAt = undefined
    const start = range.start
    if (start === undefined || start === 'now') return s.playback !== undefined ? s.playback.position() : undefined
    if (start === 0 && s.playback === undefined) return undefined
    return start
  }

  /** Start `s` on its own playback of the file from the key frame at or before `npt`. */
  private async seek(
    conn: ServerConnection,
    s: ServerSession,
    file: { source: FileSource; loop: boolean; inits: readonly SendTrackInit[]; playbacks: Set<StreamPublisher> },
    npt: number,
    base: string,
    tracks: number[],
    headers: Headers,
  ): Promise<void> {
    const duration = file.source.duration
    if (!file.loop && npt >= duration) throw refuse(457, `npt=${npt} is past the end of /${s.stream.path} (${duration.toFixed(3)} s)`, { reason: 'Invalid Range' })
    const gate = Math.max(0, s.stream.tracks.findIndex((t) => t.gated))
    // A looping file repeats: a position past the end is that far into a later pass.
    const point = await findSeekPoint(file.source, gate, duration > 0 ? npt % duration : 0)
    if (s.state === 'closed') return
    s.stopPlayback()
    s.pause()
    const publisher = new StreamPublisher(s.stream.path, 'file', file.inits, { mtu: this.opts.mtu, continueFrom: s.rtpContinuation() })
    file.playbacks.add(publisher)
    const abort = new AbortController()
    let position = point.pts
    publisher.onClose = () => {
      abort.abort()
      file.playbacks.delete(publisher)
    }
    s.playback = {
      stream: publisher.stream,
      position: () => (duration > 0 ? position % duration : position),
      stop: () => publisher.close('seek'),
    }
    headers.set('Range', formatRange({ unit: 'npt', start: point.pts, ...(file.loop ? {} : { end: duration }) }))
    const entries = tracks.flatMap((i) => {
      const rtptime = publisher.rtpTimeOf(i, point.pts)
      return rtptime === undefined ? [] : [{ url: `${base}/${s.stream.tracks[i]!.control}`, rtptime }]
    })
    if (entries.length > 0) headers.set('RTP-Info', formatRtpInfo(entries))
    this.startAfterReply(conn, s, () => {
      void playFrames(framesFrom(file.source, point), { loop: file.loop, realtime: true, signal: abort.signal }, (f) => {
        if (f.trackIndex === gate) position = f.pts
        publisher.write(f.trackIndex, f)
      })
        .catch((err: unknown) => {
          if (!abort.signal.aborted) this.logLine(`session ${s.id}: reading /${s.stream.path} from ${point.pts.toFixed(3)} s failed: ${(err as Error).message}`)
        })
        .finally(() => publisher.close('the file ended'))
    })
  }

  /** Media flows once the PLAY reply is on the wire. */
  private startAfterReply(conn: ServerConnection, s: ServerSession, start?: () => void): void {
    conn.afterReply = () => {
      if (s.state === 'closed' || s.stream.ended) return
      s.play()
      start?.()
      if (!s.started) {
        s.started = true
        this.logLine(`session ${s.id} started: ${conn.label} reads /${s.stream.path} (${s.stream.summary}) over ${s.protocol?.toUpperCase() ?? '?'}`)
        this.emit('session-start', this.info(s))
        publishServerSession('open', this.info(s))
      }
    }
  }

  private record(conn: ServerConnection, req: RtspRequest, headers: Headers): void {
    const s = this.sessionOf(req)
    if (s.role !== 'publisher') throw refuse(455, 'RECORD needs a SETUP with mode=record')
    if (s.state === 'recording') {
      headers.set('Session', s.id)
      return
    }
    const path = s.stream.path
    // The path may have been taken since the ANNOUNCE (by the application, or a publisher that recorded first).
    const taken = this.whyTaken(path, conn)
    if (taken !== undefined) throw refuse(455, `RECORD refused: ${taken}`, { reason: `Method Not Valid in This State: ${taken}` })
    headers.set('Session', `${s.id};timeout=${this.opts.sessionTimeoutS}`)
    s.state = 'recording'
    this.streams.set(path, s.stream)
    if (conn.announced?.path === path) conn.announced = undefined
    this.logLine(`session ${s.id} started: ${conn.label} publishes /${path} (${s.stream.summary}) over ${s.protocol?.toUpperCase() ?? '?'}`)
    this.emit('session-start', this.info(s))
    publishServerSession('open', this.info(s))
  }
}

function sessionIdOf(req: RtspRequest): string | undefined {
  const v = req.headers.get('Session')
  if (v === undefined) return undefined
  try {
    return parseSession(v).id
  } catch {
    return undefined
  }
}

/** Path without leading/trailing slashes, percent-decoded. */
export function normalizePath(path: string): string {
  let p = path
  try {
    p = decodeURIComponent(p)
  } catch {
    // keep it as sent
  }
  return p.replace(/^\/+/, '').replace(/\/+$/, '')
}

function parseRequestPath(raw: string): { path: string; url: string } {
  if (raw === '*') return { path: '', url: raw }
  let pathname: string
  try {
    const u = new URL(raw)
    pathname = u.pathname
  } catch {
    // The message reaches the log: no user:password@ in it.
    if (!raw.startsWith('/')) throw refuse(400, `bad request URL ${JSON.stringify(redactUrl(raw).slice(0, 200))}`)
    pathname = raw.split('?')[0]!
  }
  // Credentials never go back out in headers.
  const url = raw.replace(/^(rtsps?:\/\/)[^@/]*@/i, '$1').split('?')[0]!
  return { path: normalizePath(pathname), url }
}

/** The request URL cut back to the stream's own URL, for RTP-Info. */
function streamUrl(raw: string, path: string): string {
  const { url } = parseRequestPath(raw)
  const trimmed = url.replace(/\/+$/, '')
  const at = trimmed.lastIndexOf(`/${path}`)
  return at >= 0 && path !== '' ? trimmed.slice(0, at + 1 + path.length) : trimmed
}

/** Publishers name their tracks in their own SDP (`streamid=0`, `trackID=1`, absolute URLs). */
function matchPublisherControl(a: Announced, reqPath: string, rawUrl: string): number {
  const suffix = reqPath.slice(a.path.length).replace(/^\/+/, '')
  const idx = a.controls.findIndex((c) => {
    if (c === '' || c === '*') return false
    if (/^rtsps?:\/\//i.test(c)) return normalizePath(parseRequestPath(c).path) === reqPath || c === rawUrl
    return normalizePath(c) === suffix
  })
  if (idx >= 0) return idx
  if (suffix === '' && a.controls.length === 1) return 0
  throw refuse(404, `no track ${suffix || '(aggregate)'} in the announced SDP of /${a.path}`)
}

function freeChannels(conn: ServerConnection): [number, number] {
  for (let c = 0; c < 254; c += 2) if (!conn.channels.has(c) && !conn.channels.has(c + 1)) return [c, c + 1]
  throw refuse(453, 'no free interleaved channel left on this connection')
}

/** The publisher's SDP with each media's a=control replaced by `trackID=N` (session-level control dropped). */
function rewriteControls(sdp: string): string {
  const lines = sdp.split(/\r?\n/)
  const out: string[] = []
  let media = -1
  const flush = (): void => {
    if (media >= 0) out.push(`a=control:trackID=${media}`)
  }
  for (const line of lines) {
    if (line === '') continue
    if (line.startsWith('m=')) {
      flush()
      media++
    }
    if (/^a=control:/i.test(line)) continue
    out.push(line)
  }
  flush()
  return out.join('\r\n') + '\r\n'
}
