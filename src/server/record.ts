/**
 * A publisher's ANNOUNCE (RFC 2326 §10.3) and RECORD (§10.11): the path is checked free at
 * both, the announced SDP is served to readers with the server's own track controls.
 */
import type { Headers, RtspRequest } from '../rtsp/message.js'
import { resolveFormat } from '../formats/index.js'
import { parseSdp, rtpMapFor } from '../sdp/parse.js'
import { rewriteControls } from '../sdp/rewrite.js'
import type { ServerConnection } from './connection.js'
import { authorize, sessionHeader, sessionOf } from './context.js'
import type { ServerContext } from './context.js'
import { keyFrameProbe } from './keyframe.js'
import { parseRequestPath, refuse } from './request.js'
import { Stream } from './stream.js'
import type { StreamTrackInfo } from './stream.js'

export async function announce(ctx: ServerContext, conn: ServerConnection, req: RtspRequest): Promise<void> {
  const { path } = parseRequestPath(req.url)
  await authorize(ctx, conn, req, path, 'publish')
  const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/sdp') throw refuse(415, 'ANNOUNCE needs an application/sdp body')
  if (path === '') throw refuse(400, 'publish to a path, e.g. rtsp://host:port/live')
  // RFC 2326 §11.3.6 (455 Method Not Valid in This State): the reason phrase says why, for
  // the publisher's user (ffmpeg prints it, rtspkit's StatusError carries it).
  const taken = ctx.paths.whyTaken(path, conn)
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

export function record(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, headers: Headers): void {
  const s = sessionOf(ctx, req)
  if (s.role !== 'publisher') throw refuse(455, 'RECORD needs a SETUP with mode=record')
  if (s.state === 'recording') {
    headers.set('Session', s.id)
    return
  }
  const path = s.stream.path
  // The path may have been taken since the ANNOUNCE (by the application, or a publisher that recorded first).
  const taken = ctx.paths.whyTaken(path, conn)
  if (taken !== undefined) throw refuse(455, `RECORD refused: ${taken}`, { reason: `Method Not Valid in This State: ${taken}` })
  headers.set('Session', sessionHeader(ctx, s))
  s.state = 'recording'
  ctx.paths.streams.set(path, s.stream)
  if (conn.announced?.path === path) conn.announced = undefined
  ctx.sessionStarted(s, conn)
}
