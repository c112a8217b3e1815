/**
 * `/<path>.jpg`: the path's latest key frame as a JPEG. MJPEG sources already have one;
 * H.264/H.265 key frames are decoded by ffmpeg when it is installed (one short-lived
 * process per new key frame, bounded in time and output, the result cached until the next
 * key frame). Without ffmpeg: 501 saying to install it.
 */
import { spawn } from 'node:child_process'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { withParameterSets } from '../webrtc/parameter-sets.js'
import { waitForTracks } from '../webrtc/wait-tracks.js'
import type { LiveFrame, LiveMedia, LiveTrack } from './live-media.js'

export interface SnapshotOptions {
  /** The ffmpeg to run. Default `ffmpeg` (from PATH). */
  ffmpegPath?: string
  /** Kill ffmpeg after this long. Default 5000 ms. */
  decodeTimeoutMs?: number
  /** Give up when no key frame arrives within this time. Default 5000 ms. */
  keyFrameTimeoutMs?: number
  /** Largest JPEG accepted from ffmpeg. Default 16 MiB. */
  maxJpegBytes?: number
}

/** Decoders running at once in this process; a snapshot beyond it waits for none and gets 503. */
const MAX_DECODERS = 4
let decoders = 0

interface Cached {
  /** The key frame the JPEG shows: track and RTP timestamp. */
  key: string
  jpeg: Promise<SnapshotResult>
}
const cache = new WeakMap<LiveMedia, Cached>()

type SnapshotResult = { ok: true; jpeg: Buffer } | { ok: false; status: number; reason: string }

/** Answer GET/HEAD with the latest key frame as image/jpeg. Never throws; always answers. */
export async function handleSnapshot(req: IncomingMessage, res: ServerResponse, media: LiveMedia, options: SnapshotOptions = {}): Promise<void> {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return reply(res, 405, `${req.method} is not supported here; allowed: GET, HEAD`, { Allow: 'GET, HEAD' })
    }
    const result = await snapshot(media, options)
    if (!result.ok) return reply(res, result.status, result.reason, result.status === 503 ? { 'Retry-After': '2' } : {})
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(result.jpeg.length), 'Cache-Control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : result.jpeg)
  } catch (err) {
    if (!res.headersSent) reply(res, 500, `snapshot failed: ${(err as Error).message.split('\n')[0]}`)
    else res.destroy()
  }
}

async function snapshot(media: LiveMedia, options: SnapshotOptions): Promise<SnapshotResult> {
  // A path that opens its upstream on demand has no tracks before its first viewer.
  await waitForTracks(media, options.keyFrameTimeoutMs ?? 5000)
  const tracks = media.tracks()
  if (tracks.length === 0) return { ok: false, status: 503, reason: 'the path has no source yet; try again when it is live' }
  const video = tracks.find((t) => t.type === 'video')
  if (!video) return { ok: false, status: 404, reason: 'the path has no video track (audio only): nothing to show' }
  if (video.codec !== 'JPEG' && video.codec !== 'H264' && video.codec !== 'H265') {
    return { ok: false, status: 501, reason: `no snapshot for ${video.codec} video (JPEG, H.264 and H.265 only)` }
  }
  const frame = await latestKeyFrame(media, video.index, options.keyFrameTimeoutMs ?? 5000)
  if (!frame) return { ok: false, status: 503, reason: 'no key frame from the source yet; try again in a few seconds' }
  const key = `${frame.track}:${frame.timestamp}`
  const hit = cache.get(media)
  if (hit?.key === key) return hit.jpeg
  const jpeg = render(frame, media.tracks()[video.index] ?? video, options)
  cache.set(media, { key, jpeg })
  // A failure is not cached: the next request tries again.
  void jpeg.then((r) => {
    if (!r.ok && cache.get(media)?.key === key) cache.delete(media)
  })
  return jpeg
}

/** The first key frame of `track` the path delivers: its GOP cache starts with the latest one. */
function latestKeyFrame(media: LiveMedia, track: number, timeoutMs: number): Promise<LiveFrame | undefined> {
  return new Promise((resolve) => {
    let done = false
    let unsubscribe: (() => void) | undefined
    const finish = (f: LiveFrame | undefined): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      // subscribe() may deliver the cache before it returns: unsubscribe once it has.
      if (unsubscribe) unsubscribe()
      else queueMicrotask(() => unsubscribe?.())
      resolve(f)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    unsubscribe = media.subscribe({
      frame: (f) => {
        if (f.track === track && f.keyFrame) finish(f)
      },
      end: () => finish(undefined),
    })
  })
}

async function render(frame: LiveFrame, track: LiveTrack, options: SnapshotOptions): Promise<SnapshotResult> {
  // RFC 2435 sources: the depacketizer already rebuilt a complete JFIF image.
  if (track.codec === 'JPEG') return { ok: true, jpeg: frame.data.length === 1 ? frame.data[0]! : Buffer.concat(frame.data) }
  if (decoders >= MAX_DECODERS) return { ok: false, status: 503, reason: `${MAX_DECODERS} snapshots are being decoded already; try again in a moment` }
  const annexB = joinAnnexB(withParameterSets(frame, track))
  decoders++
  try {
    return await decodeWithFfmpeg(annexB, track.codec === 'H265' ? 'hevc' : 'h264', options)
  } finally {
    decoders--
  }
}

const START_CODE = Buffer.from([0, 0, 0, 1])

function joinAnnexB(nalus: readonly Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const n of nalus) parts.push(START_CODE, n)
  return Buffer.concat(parts)
}

/** One key frame in, one JPEG out: `ffmpeg -f h264 -i pipe:0 -frames:v 1 -f image2 -c:v mjpeg pipe:1`. */
function decodeWithFfmpeg(annexB: Buffer, format: 'h264' | 'hevc', options: SnapshotOptions): Promise<SnapshotResult> {
  const timeoutMs = options.decodeTimeoutMs ?? 5000
  const maxBytes = options.maxJpegBytes ?? 16 * 1024 * 1024
  return new Promise((resolve) => {
    let settled = false
    const settle = (r: SnapshotResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const child = spawn(
      options.ffmpegPath ?? 'ffmpeg',
      ['-nostdin', '-hide_banner', '-loglevel', 'error', '-f', format, '-i', 'pipe:0', '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    )
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      settle({ ok: false, status: 504, reason: `ffmpeg did not decode the key frame within ${timeoutMs} ms` })
    }, timeoutMs)
    const out: Buffer[] = []
    let size = 0
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => {
      size += c.length
      if (size > maxBytes) {
        child.kill('SIGKILL')
        settle({ ok: false, status: 502, reason: `ffmpeg wrote more than ${maxBytes} bytes for one JPEG` })
      } else out.push(c)
    })
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s
    })
    child.once('error', (err: NodeJS.ErrnoException) => {
      settle(
        err.code === 'ENOENT'
          ? { ok: false, status: 501, reason: 'snapshots of H.264/H.265 need ffmpeg: install it (e.g. apt-get install ffmpeg) and make sure it is on PATH' }
          : { ok: false, status: 500, reason: `cannot run ffmpeg: ${err.message}` },
      )
    })
    child.once('close', (code) => {
      const jpeg = Buffer.concat(out)
      // A JPEG starts with SOI (FF D8, ITU-T T.81 §B.2.1).
      if (code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8) settle({ ok: true, jpeg })
      else settle({ ok: false, status: 502, reason: `ffmpeg could not decode the key frame (exit ${code}${stderr ? `: ${stderr.trim().split('\n')[0]}` : ''})` })
    })
    child.stdin.on('error', () => {}) // EPIPE when ffmpeg exits early; 'close' reports it
    child.stdin.end(annexB)
  })
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers })
  res.end(body)
}
