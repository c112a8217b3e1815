/**
 * The embedded RTSP 1.0 server (RFC 2326): serves files and in-process media as live
 * streams, takes publishers (ANNOUNCE / RECORD) on any other path and fans each stream out
 * to its readers over TCP interleaved or UDP. Built on the same wire layer as the client.
 * This file holds the server's lifetime (listen, close, session sweep) and public API;
 * connections are in connection.ts, the methods in methods.ts, the paths in paths.ts.
 * Over 400 lines because the public API is documented here, where users read it.
 */
import { EventEmitter } from 'node:events'
import * as net from 'node:net'
import { isIPv6 } from 'node:net'
import { StateError } from '../errors.js'
import type { SendTrackInit } from '../formats/send-track.js'
import type { RtspRequest } from '../rtsp/message.js'
import { publishServerSession } from '../diagnostics.js'
import { normalizeAddress } from '../transport/udp.js'
import type { UdpPortPair } from '../transport/udp.js'
import { ServerAuth } from './auth.js'
import type { ServerCredentials } from './auth.js'
import type { PullSourceOptions } from './pull-source.js'
import type { OnDemandOptions } from './on-demand.js'
import { ServerConnection, routeMedia } from './connection.js'
import type { ConnectionHost, MediaRoute } from './connection.js'
import type { ServerContext } from './context.js'
import { handleRequest } from './methods.js'
import { resolveServerOptions } from './options.js'
import type { ResolvedServerOptions, RtspServerEvents, RtspServerOptions, ServerSessionInfo } from './options.js'
import { PathTable } from './paths.js'
import { bindServerUdp, listenTcp } from './listen.js'
import { MulticastGroups } from './multicast.js'
import { normalizePath } from './request.js'
import type { ServerSession, SessionHost } from './session.js'
import type { Stream, StreamPublisher } from './stream.js'
import { createHttpSide } from '../http/http-side.js'
import type { HttpSide, HttpSideOptions } from '../http/http-side.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

export type { AuthorizeContext, RtspServerEvents, RtspServerOptions, ServerSessionInfo } from './options.js'
export { normalizePath } from './request.js'

/** Session timeouts and lagging readers are checked this often. */
const SWEEP_INTERVAL_MS = 1000

/**
 * `new RtspServer({ port: 8554 })`, then `addFile('cam', 'clip.mp4')` or `publish('live', tracks)`,
 * then `listen()`. Publishers may ANNOUNCE on any path not taken.
 */
export class RtspServer extends EventEmitter<RtspServerEvents> {
  private readonly opts: ResolvedServerOptions
  private readonly auth: ServerAuth | undefined
  private readonly netServer: net.Server
  /** The HTTP tunnel port's listener (options.httpTunnelPort), else undefined. */
  private readonly tunnelServer: net.Server | undefined
  private tunnelPort = 0
  private readonly connections = new Set<ServerConnection>()
  private readonly sessions = new Map<string, ServerSession>()
  private readonly pathTable: PathTable
  /** `address:port` of a UDP client's RTP/RTCP → its session and track. */
  private readonly udpRoutes = new Map<string, MediaRoute>()
  /** HTTP tunnels (http-tunnel.ts): x-sessioncookie → the GET connection that carries the replies. */
  private readonly tunnels = new Map<string, ServerConnection>()
  private readonly host: SessionHost
  private readonly ctx: ServerContext
  /** Multicast readers' groups (options.multicast), else undefined. */
  private readonly multicast: MulticastGroups | undefined
  private udp: UdpPortPair | undefined
  private sweepTimer: NodeJS.Timeout | undefined
  private lastSweep = 0
  private state: 'new' | 'listening' | 'closed' = 'new'
  private boundPort = 0

  constructor(options: RtspServerOptions = {}) {
    super()
    this.opts = resolveServerOptions(options)
    if (options.credentials !== undefined) this.auth = new ServerAuth(options.credentials, options.realm)
    this.netServer = net.createServer((socket) => this.accept(socket))
    this.netServer.maxConnections = this.opts.maxConnections
    if (this.opts.httpTunnelPort !== undefined) {
      this.tunnelServer = net.createServer((socket) => this.accept(socket, true))
      this.tunnelServer.maxConnections = this.opts.maxConnections
    }
    const server = this
    const multicast = this.opts.multicast
    this.multicast =
      multicast !== undefined
        ? new MulticastGroups(multicast, this.opts.host, {
            maxReaderQueueBytes: this.opts.maxReaderQueueBytes,
            endSession: (s, reason) => this.endSession(s, reason),
            logLine: (line) => this.logLine(line),
          })
        : undefined
    this.host = {
      get udp() {
        return server.udp
      },
      multicast: this.multicast,
      maxReaderQueueBytes: this.opts.maxReaderQueueBytes,
      sessionEnded: (session, reason) => this.endSession(session, reason),
    }
    this.pathTable = new PathTable({
      mtu: this.opts.mtu,
      logLine: (line) => this.logLine(line),
      viewersOf: (stream) => this.viewersOf(stream),
      isAnnounced: (path) => this.isAnnounced(path),
    })
    this.ctx = {
      opts: this.opts,
      auth: this.auth,
      paths: this.pathTable,
      sessions: this.sessions,
      udpRoutes: this.udpRoutes,
      sessionHost: this.host,
      multicast: this.multicast,
      get udp() {
        return server.udp
      },
      endSession: (s, reason) => this.endSession(s, reason),
      sessionStarted: (s, conn) => this.sessionStarted(s, conn),
      logLine: (line) => this.logLine(line),
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

  /** The port of RTSP tunnelled in HTTP (options.httpTunnelPort), after listen(); undefined without one. */
  get httpTunnelPort(): number | undefined {
    return this.tunnelServer === undefined ? undefined : this.tunnelPort
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
    return this.pathTable.openOnDemand(path)
  }

  /** Paths whose source is pulled on demand (open or not). @internal */
  onDemandPaths(): string[] {
    return this.pathTable.onDemandPaths()
  }

  /** Viewers of `stream` of any kind: its readers (the HTTP side's tap among them) and reader sessions not yet playing. */
  private viewersOf(stream: Stream): number {
    let n = stream.readers.size
    for (const s of this.sessions.values()) if (s.stream === stream && s.role === 'reader' && s.state !== 'closed') n++
    return n
  }

  /** Paths served now, with their codecs. */
  paths(): Array<{ path: string; kind: string; codecs: string; readers: number }> {
    return [...this.pathTable.streams.values()].map((s) => ({ path: s.path, kind: s.kind, codecs: s.summary, readers: s.readers.size }))
  }

  /**
   * The live stream served on `path` now, or undefined. The HTTP side taps its packets by
   * adding a `StreamReader` to `readers` (a tap counts as a reader: sources packetize for it).
   * @internal
   */
  liveStream(path: string): Stream | undefined {
    return this.pathTable.streams.get(normalizePath(path))
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
        ...(this.opts.allowAnonymous !== undefined ? { allowAnonymous: this.opts.allowAnonymous } : {}),
      })
    }
    return this.#http
  }

  async listen(): Promise<{ host: string; port: number }> {
    if (this.state !== 'new') throw new StateError({ action: 'listen', state: this.state, allowed: ['new'] })
    const udp = await bindServerUdp(this.opts.host, this.opts.rtpPort)
    this.udp = udp
    udp.onRtp((buf, rinfo) => this.onUdp(buf, rinfo.address, rinfo.port))
    udp.onRtcp((buf, rinfo) => this.onUdp(buf, rinfo.address, rinfo.port))
    udp.onError(() => {}) // ICMP port unreachable from a reader that went away: its session expires
    try {
      this.boundPort = await listenTcp(this.netServer, this.opts.host, this.opts.port, '--port')
      if (this.tunnelServer !== undefined) this.tunnelPort = await listenTcp(this.tunnelServer, this.opts.host, this.opts.httpTunnelPort!, '--http-tunnel-port')
    } catch (err) {
      await udp.close()
      if (this.netServer.listening) this.netServer.close()
      throw err
    }
    this.state = 'listening'
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS)
    this.sweepTimer.unref()
    return { host: this.opts.host, port: this.boundPort }
  }

  /**
   * Serve a media file (MP4, MOV, MPEG-TS) on `path` as a live stream: paced in real time,
   * looping with continuous timestamps, one timeline shared by every reader.
   */
  async addFile(path: string, file: string, options: { loop?: boolean } = {}): Promise<StreamPublisher> {
    return this.pathTable.addFile(path, file, options)
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
      const remove = this.pathTable.addPullOnDemand(path, url, pullOptions, closeAfterMs !== undefined ? { closeAfterMs } : {})
      return { publisher: undefined, skipped: [], remove }
    }
    return this.pathTable.pullNow(path, url, pullOptions)
  }

  /** Serve media written by this program: `publisher.write(track, { pts, keyFrame, data })`. */
  publish(path: string, tracks: readonly SendTrackInit[]): StreamPublisher {
    return this.pathTable.publish(path, tracks)
  }

  /** Stop listening, end every session and stream, release every socket. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    const wasListening = this.state === 'listening'
    this.state = 'closed'
    clearInterval(this.sweepTimer)
    this.#http?.close()
    this.pathTable.stopSources('the server is shutting down')
    for (const s of [...this.sessions.values()]) this.endSession(s, 'the server is shutting down')
    for (const c of this.connections) c.socket.destroy()
    await this.pathTable.closePulls()
    await this.multicast?.close()
    await this.udp?.close()
    if (wasListening) {
      await Promise.all([this.netServer, this.tunnelServer].map((srv) => (srv === undefined ? undefined : new Promise<void>((resolve) => srv.close(() => resolve())))))
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** @internal */
  logLine(line: string): void {
    this.opts.log?.(line)
  }

  // ---- connections ----

  /** `tunnelOnly`: a connection of the HTTP tunnel port, which must open one half of a tunnel. */
  private accept(socket: net.Socket, tunnelOnly = false): void {
    if (this.state !== 'listening') {
      socket.destroy()
      return
    }
    // The server is its connections' host (ConnectionHost, checked here rather than by an
    // `implements` clause, which would put the internal interface in the public docs).
    const host: ConnectionHost = this
    this.connections.add(new ServerConnection(socket, host, tunnelOnly))
  }

  /** @internal One request, answered in order per connection. */
  handle(conn: ServerConnection, req: RtspRequest): Promise<void> {
    return handleRequest(this.ctx, conn, req)
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

  private onUdp(buf: Buffer, address: string, port: number): void {
    const route = this.udpRoutes.get(`${normalizeAddress(address)}:${port}`)
    if (route !== undefined) routeMedia(route, buf)
  }

  private sweep(): void {
    const now = performance.now()
    // Time the server itself did not run (a loaded host, a long GC pause: this timer fired
    // late) is not time its readers spent behind: their sockets could not be written to
    // or drained either.
    const stalledMs = this.lastSweep === 0 ? 0 : Math.max(0, now - this.lastSweep - 2 * SWEEP_INTERVAL_MS)
    this.lastSweep = now
    const timeoutMs = this.opts.sessionTimeoutS * 1000
    for (const s of [...this.sessions.values()]) {
      let last = s.lastActivity
      if (s.socket !== undefined) {
        for (const c of this.connections) if (c.socket === s.socket && c.lastActivity > last) last = c.lastActivity
      }
      if (now - last > timeoutMs) this.endSession(s, `no request or RTCP for ${this.opts.sessionTimeoutS} s`)
      else if (s.lagMs(now, stalledMs) > this.opts.lagCutMs) {
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

  private sessionStarted(s: ServerSession, conn: ServerConnection): void {
    const verb = s.role === 'reader' ? 'reads' : 'publishes'
    this.logLine(`session ${s.id} started: ${conn.label} ${verb} /${s.stream.path} (${s.stream.summary}) over ${s.protocol?.toUpperCase() ?? '?'}`)
    this.emit('session-start', this.info(s))
    publishServerSession('open', this.info(s))
  }

  private endSession(s: ServerSession, reason: string): void {
    if (s.state === 'closed') return
    const wasPublishing = s.role === 'publisher'
    s.state = 'closed'
    this.sessions.delete(s.id)
    s.stream.readers.delete(s)
    if (s.protocol === 'multicast') this.multicast?.remove(s)
    const playbackEnded = s.playback?.stream.ended === true
    s.stopPlayback()
    for (const [key, route] of this.udpRoutes) if (route.session === s) this.udpRoutes.delete(key)
    const holders: ServerConnection[] = []
    for (const c of this.connections) {
      if (c.sessions.delete(s)) holders.push(c)
      for (const [ch, route] of c.channels) if (route.session === s) c.channels.delete(ch)
    }
    const streams = this.pathTable.streams
    if (wasPublishing && streams.get(s.stream.path) === s.stream) {
      streams.delete(s.stream.path)
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
}
