/**
 * The server's answer to each request (RFC 2326 §10): the reply's common headers, the
 * method's work (SETUP, PLAY, ANNOUNCE/RECORD in their own files), and a refusal turned
 * into its status. Requests of one connection are answered in order.
 */
import { RequestRejectedError, RtspError } from '../errors.js'
import { Headers, cseqOf } from '../rtsp/message.js'
import type { RtspRequest } from '../rtsp/message.js'
import { serializeResponse } from '../rtsp/serialize.js'
import { publishServerRequest, publishServerResponse } from '../diagnostics.js'
import { USER_AGENT } from '../client/pull-session.js'
import type { ServerConnection } from './connection.js'
import { sessionHeader, sessionOf, authorize } from './context.js'
import type { ServerContext } from './context.js'
import { play } from './play.js'
import { announce, record } from './record.js'
import { parseRequestPath, refuse, sessionIdOf } from './request.js'
import { setup } from './setup.js'

const PUBLIC = 'OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER, ANNOUNCE, RECORD'

/** One request: dispatched, answered, and the work that must follow the reply started. */
export async function handleRequest(ctx: ServerContext, conn: ServerConnection, req: RtspRequest): Promise<void> {
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
    body = await dispatch(ctx, conn, req, headers)
  } catch (err) {
    if (!(err instanceof RequestRejectedError)) throw err
    status = err.status
    for (const [name, value] of Object.entries(err.headers)) {
      if (typeof value === 'string') headers.set(name, value)
      else for (const v of value) headers.append(name, v)
    }
    reason = err.reason
    if (status >= 500 || status === 400) ctx.logLine(`${req.method} from ${conn.label}: ${err.message}`)
  }
  if (body !== undefined) headers.set('Content-Type', 'application/sdp')
  publishServerResponse(conn, conn.socket, req, cseqOf(req), status, reason ?? '', headers, body)
  conn.write(serializeResponse({ status, headers, ...(reason !== undefined ? { reason } : {}), ...(body !== undefined ? { body } : {}) }))
  const after = conn.afterReply
  conn.afterReply = undefined
  if (status === 200) after?.()
}

async function dispatch(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<string | undefined> {
  const method = req.method
  switch (method) {
    case 'OPTIONS': {
      headers.set('Public', PUBLIC)
      const id = sessionIdOf(req)
      const s = id !== undefined ? ctx.sessions.get(id) : undefined
      if (s !== undefined) s.lastActivity = performance.now()
      return undefined
    }
    case 'DESCRIBE':
      return describe(ctx, conn, req, headers)
    case 'SETUP':
      await setup(ctx, conn, req, headers)
      return undefined
    case 'PLAY':
      await play(ctx, conn, req, headers)
      return undefined
    case 'PAUSE': {
      const s = sessionOf(ctx, req)
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
      record(ctx, conn, req, headers)
      return undefined
    case 'ANNOUNCE':
      await announce(ctx, conn, req)
      return undefined
    case 'GET_PARAMETER':
    case 'SET_PARAMETER': {
      // Keep-alive (RFC 2326 §10.8): refresh the session if there is one; an expired one is
      // 454 (as GStreamer answers), so the client learns its session is gone.
      if (sessionIdOf(req) === undefined) return undefined
      const s = sessionOf(ctx, req)
      headers.set('Session', sessionHeader(ctx, s))
      return undefined
    }
    case 'TEARDOWN': {
      const id = sessionIdOf(req)
      const s = id !== undefined ? ctx.sessions.get(id) : undefined
      if (s !== undefined) ctx.endSession(s, 'teardown')
      return undefined
    }
    default:
      throw refuse(501, `method ${method} is not implemented`, { headers: { Public: PUBLIC } })
  }
}

/** DESCRIBE (RFC 2326 §10.2): the stream's SDP, with Content-Base ending in '/' for its track controls. */
async function describe(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<string> {
  const { path, url } = parseRequestPath(req.url)
  let stream = ctx.paths.streams.get(path)
  await authorize(ctx, conn, req, path, 'read')
  // An on-demand path connects its source now (after the reader is authorized); the
  // pull's own connect timeout bounds the wait.
  if (stream === undefined && ctx.paths.isOnDemand(path)) {
    try {
      stream = await ctx.paths.openOnDemand(path)
    } catch (err) {
      if (!(err instanceof RtspError)) throw err
      throw refuse(503, `the source of /${path} could not be opened: ${err.message}`)
    }
  }
  if (stream === undefined) throw refuse(404, `no stream at /${path}`)
  headers.set('Content-Base', url.endsWith('/') ? url : `${url}/`)
  return stream.sdp
}
