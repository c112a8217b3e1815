/**
 * PLAY (RFC 2326 §10.5): a reader joins its path's shared live pass, or (a served file with
 * a Range) gets its own playback from the key frame at or before the position asked for.
 */
import { playFrames } from '../input/file-source.js'
import type { Headers, RtspRequest } from '../rtsp/message.js'
import { formatRange, parseRange } from '../rtsp/headers/range.js'
import { formatRtpInfo } from '../rtsp/headers/rtp-info.js'
import type { ServerConnection } from './connection.js'
import { sessionHeader, sessionOf } from './context.js'
import type { ServerContext } from './context.js'
import { findSeekPoint, framesFrom } from './file-seek.js'
import type { ServedFile } from './paths.js'
import { refuse, streamUrl } from './request.js'
import type { ServerSession } from './session.js'
import { StreamPublisher } from './stream.js'

export async function play(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<void> {
  const s = sessionOf(ctx, req)
  if (s.role !== 'reader') throw refuse(455, 'PLAY is for readers; a publisher sends RECORD')
  if (s.stream.ended) throw refuse(404, `the stream /${s.stream.path} has ended`)
  // A multicast reader shares its group's one pass: it cannot have a playback of its own.
  const file = s.stream.kind === 'file' && s.protocol !== 'multicast' ? ctx.paths.files.get(s.stream.path) : undefined
  const seekTo = file !== undefined ? seekPosition(s, req) : undefined
  headers.set('Session', sessionHeader(ctx, s))
  const base = streamUrl(req.url, s.stream.path)
  const tracks = s.setUpTracks()
  if (seekTo !== undefined && file !== undefined) {
    await seek(ctx, conn, s, file, seekTo, base, tracks, headers)
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
  startAfterReply(ctx, conn, s)
}

/**
 * Where a file reader's PLAY asks to start (RFC 2326 §12.29), or undefined to join the
 * path's shared pass: `npt=0-` (ffmpeg, VLC and rtspsrc send it on every first PLAY) and
 * `npt=now-` join it; a later position, a PLAY without Range after a PAUSE of the reader's
 * own playback (§10.6: resume where it paused), or any npt while it has one, seek.
 */
function seekPosition(s: ServerSession, req: RtspRequest): number | undefined {
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
async function seek(
  ctx: ServerContext,
  conn: ServerConnection,
  s: ServerSession,
  file: ServedFile,
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
  const publisher = new StreamPublisher(s.stream.path, 'file', file.inits, { mtu: ctx.opts.mtu, continueFrom: s.rtpContinuation() })
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
  startAfterReply(ctx, conn, s, () => {
    void playFrames(framesFrom(file.source, point), { loop: file.loop, realtime: true, signal: abort.signal }, (f) => {
      if (f.trackIndex === gate) position = f.pts
      publisher.write(f.trackIndex, f)
    })
      .catch((err: unknown) => {
        if (!abort.signal.aborted) ctx.logLine(`session ${s.id}: reading /${s.stream.path} from ${point.pts.toFixed(3)} s failed: ${(err as Error).message}`)
      })
      .finally(() => publisher.close('the file ended'))
  })
}

/** Media flows once the PLAY reply is on the wire. */
function startAfterReply(ctx: ServerContext, conn: ServerConnection, s: ServerSession, start?: () => void): void {
  conn.afterReply = () => {
    if (s.state === 'closed' || s.stream.ended) return
    s.play()
    start?.()
    if (!s.started) {
      s.started = true
      ctx.sessionStarted(s, conn)
    }
  }
}
