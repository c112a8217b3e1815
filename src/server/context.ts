/**
 * What the request methods (methods.ts, setup.ts, play.ts, record.ts) share of the server:
 * its options, sessions, paths and UDP routes, and the checks every method starts with.
 */
import type { RtspRequest } from '../rtsp/message.js'
import type { UdpPortPair } from '../transport/udp.js'
import type { ServerAuth } from './auth.js'
import type { MediaRoute, ServerConnection } from './connection.js'
import type { ResolvedServerOptions } from './options.js'
import type { PathTable } from './paths.js'
import type { MulticastGroups } from './multicast.js'
import { refuse, sessionIdOf } from './request.js'
import type { ServerSession, SessionHost } from './session.js'

export interface ServerContext {
  readonly opts: ResolvedServerOptions
  readonly auth: ServerAuth | undefined
  readonly paths: PathTable
  readonly sessions: Map<string, ServerSession>
  /** `address:port` of a UDP client's RTP/RTCP → its session and track. */
  readonly udpRoutes: Map<string, MediaRoute>
  readonly sessionHost: SessionHost
  /** Groups of multicast readers, when the server serves multicast. */
  readonly multicast: MulticastGroups | undefined
  /** The server's UDP port pair (after listen). */
  readonly udp: UdpPortPair | undefined
  endSession(s: ServerSession, reason: string): void
  /** A reader's first PLAY or a publisher's RECORD: the log line, the event, the diagnostics. */
  sessionStarted(s: ServerSession, conn: ServerConnection): void
  logLine(line: string): void
}

/** The request's session, refreshed; 454 when it names none or one that is gone. */
export function sessionOf(ctx: ServerContext, req: RtspRequest): ServerSession {
  const id = sessionIdOf(req)
  if (id === undefined) throw refuse(454, 'the request has no Session header')
  const s = ctx.sessions.get(id)
  if (s === undefined) throw refuse(454, `no session ${id}`)
  s.lastActivity = performance.now()
  return s
}

/** `Session: id;timeout=N` (RFC 2326 §12.37). */
export function sessionHeader(ctx: ServerContext, s: ServerSession): string {
  return `${s.id};timeout=${ctx.opts.sessionTimeoutS}`
}

/** Authentication (401 with challenges), then the application's authorize hook (403). */
export async function authorize(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, path: string, action: 'read' | 'publish'): Promise<void> {
  let user: string | undefined
  if (ctx.auth !== undefined) {
    const result = ctx.auth.verify(req.method, req.headers.get('Authorization'), conn.nonce)
    if (!result.ok && !(result.reason === 'missing' && ctx.opts.allowAnonymous?.({ path, action }) === true)) {
      if (result.reason !== 'missing' && result.reason !== 'stale') ctx.logLine(`${req.method} /${path} from ${conn.label}: authentication failed (${result.reason})`)
      throw refuse(401, 'authentication required', { headers: { 'WWW-Authenticate': ctx.auth.challenges(conn.nonce, result.reason === 'stale') } })
    }
    user = result.ok ? result.user : undefined
  }
  const hook = ctx.opts.authorize
  if (hook !== undefined) {
    let allowed = false
    try {
      allowed = await hook({ path, action, user, remoteAddress: conn.remoteAddress })
    } catch (err) {
      ctx.logLine(`authorize hook failed for /${path}: ${(err as Error).message}`)
    }
    if (!allowed) throw refuse(403, `${action} /${path} is not allowed`)
  }
}
