/**
 * One client TCP connection of the embedded server: RTSP requests in (answered in order),
 * replies and interleaved media out; or one half of an RTSP-over-HTTP tunnel (http-tunnel.ts).
 */
import type * as net from 'node:net'
import { ProtocolError, RtspError } from '../errors.js'
import type { RtspRequest } from '../rtsp/message.js'
import { RtspReader } from '../rtsp/reader.js'
import { serializeResponse } from '../rtsp/serialize.js'
import { normalizeAddress } from '../transport/udp.js'
import { USER_AGENT } from '../client/pull-session.js'
import { newNonce } from './auth.js'
import { Base64Stream, looksLikeHttp, parseTunnelHead, tunnelReply } from './http-tunnel.js'
import type { ServerSession } from './session.js'
import type { Stream } from './stream.js'

/** A publisher's ANNOUNCE, until its RECORD. */
export interface Announced {
  path: string
  stream: Stream
  /** The publisher's a=control of each media, for matching its SETUP URLs. */
  controls: string[]
}

/** Where an interleaved channel's (or a UDP source's) packets go. */
export interface MediaRoute {
  session: ServerSession
  track: number
  rtcp: boolean
}

/** What a connection needs from the server around it. */
export interface ConnectionHost {
  /** Unread replies a connection may hold before its requests are no longer read. */
  readonly replyBacklogBytes: number
  /** One request, answered in order per connection. */
  handle(conn: ServerConnection, req: RtspRequest): Promise<void>
  /** A tunnel's GET: false when its cookie is taken by another open tunnel. */
  tunnelOpened(cookie: string, conn: ServerConnection): boolean
  /** The GET connection of a tunnel's POST. */
  tunnelGet(cookie: string): ServerConnection | undefined
  connectionClosed(conn: ServerConnection): void
  logLine(line: string): void
}

/** Hand a publisher's RTP or RTCP to its session; from a reader it is a receiver report that keeps it alive. */
export function routeMedia(route: MediaRoute, payload: Buffer): void {
  if (route.session.role === 'publisher') {
    if (route.rtcp) route.session.ingestRtcp(route.track, payload)
    else route.session.ingest(route.track, payload)
  } else {
    route.session.lastActivity = performance.now()
  }
}

export class ServerConnection {
  readonly remoteAddress: string
  readonly label: string
  readonly sessions = new Set<ServerSession>()
  /** Interleaved channel → where its frames go. */
  readonly channels = new Map<number, MediaRoute>()
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

  /** `tunnelOnly`: a connection of the HTTP tunnel port, which must open a tunnel (no bare RTSP). */
  constructor(
    readonly socket: net.Socket,
    private readonly server: ConnectionHost,
    private readonly tunnelOnly = false,
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
        if (route !== undefined) routeMedia(route, payload)
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

  private hangUp(status: string): undefined {
    this.failed = true
    this.socket.end(`HTTP/1.0 ${status}\r\nConnection: close\r\n\r\n`, () => this.socket.destroy())
    return undefined
  }

  /**
   * RTSP over HTTP (http-tunnel.ts): a connection that opens with an HTTP GET or POST with
   * an x-sessioncookie is one half of a tunnel. Returns the bytes to read on, or undefined.
   */
  private sniff(data: Buffer): Buffer | undefined {
    const buf = this.sniffed!.length === 0 ? data : Buffer.concat([this.sniffed!, data])
    if (!looksLikeHttp(buf)) {
      this.sniffed = undefined
      if (this.tunnelOnly) {
        this.server.logLine(`connection ${this.label}: bytes that are not an HTTP tunnel request on the HTTP tunnel port`)
        return this.hangUp('400 Bad Request')
      }
      return buf
    }
    let head
    try {
      head = parseTunnelHead(buf)
    } catch (why) {
      this.server.logLine(`connection ${this.label}: ${String(why)}`)
      return this.hangUp('400 Bad Request')
    }
    if (head === undefined) {
      this.sniffed = buf
      return undefined
    }
    this.sniffed = undefined
    if (head.method === 'GET') {
      if (!this.server.tunnelOpened(head.cookie, this)) return this.hangUp('409 Conflict')
      this.tunnelCookie = head.cookie
      this.socket.write(tunnelReply(USER_AGENT))
      return head.rest
    }
    const get = this.server.tunnelGet(head.cookie)
    if (get === undefined) {
      // Apple's note: a POST must follow its GET; the cookie names no open tunnel.
      this.server.logLine(`connection ${this.label}: HTTP tunnel POST for a cookie with no GET`)
      return this.hangUp('403 Forbidden')
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
