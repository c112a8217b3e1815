/**
 * Client Scale and Speed (issue #16; RFC 2326 §12.34, §12.35) against GStreamer's RTSP
 * server. With a seekable file media GStreamer 1.22 turns `Scale: 2` into a seek at rate 2
 * that no element of the pipeline applies, and answers `Scale: 1` and `Speed: 2`: the same
 * pictures, delivered twice as fast, RTP time following the pipeline's running time. The
 * session exposes what the server answered (session.scale, session.speed), the media
 * position moves on at that rate, a rate change that does not move the position is no
 * discontinuity, a seek after it is one, pts stay monotonic and what was received decodes.
 * A live media (not seekable) cannot change rate: GStreamer answers `Scale: 1` (§12.34: the
 * rate it plays at) and the stream goes on. (456/457 refusals: test/unit/client/play-rate.test.ts.)
 * No wall-clock assertions: frames are counted, not timed.
 */
import assert from 'node:assert/strict'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import type { Frame } from '../../src/client/track.js'
import { DIAGNOSTICS_CHANNELS, type ClientRequestMessage, type ClientResponseMessage } from '../../src/diagnostics.js'
import { createRecorder } from '../../src/output/index.js'
import { recorderTrack } from '../../src/cli/pull.js'
import { runProcess } from '../helpers/cli.js'
import { ffprobeFile } from '../helpers/media-check.js'
import { until } from '../helpers/until.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'

let dir: string
let gst: GstServer

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-pull-scale-'))
  const clip = join(dir, 'clip.mp4')
  // 20 s, 25 fps, a key frame every second, no B-frames.
  const made = await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-t', '20', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0', '-y', clip,
  ], { timeoutMs: 30_000 })
  assert.equal(made.code, 0, made.stderr)
  gst = await startGstServer({
    unshared: true,
    seekable: { file: `filesrc location=${clip} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96` },
  })
})

after(async () => {
  await gst?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** Resolves once `frames` holds n frames (the stream delivers them; no timing is asserted). */
function waitFrames(frames: Frame[], n: number, timeoutMs = 20_000): Promise<void> {
  return until(() => frames.length >= n, `${n} frames`, timeoutMs, 20)
}

/** PLAY requests and replies on the wire (rtspkit:client:request / response), for the headers. */
function watchPlays(): { sent: ClientRequestMessage[]; answered: ClientResponseMessage[]; stop(): void } {
  const sent: ClientRequestMessage[] = []
  const answered: ClientResponseMessage[] = []
  const onReq = (m: unknown): void => void ((m as ClientRequestMessage).method === 'PLAY' && sent.push(m as ClientRequestMessage))
  const onRes = (m: unknown): void => void ((m as ClientResponseMessage).method === 'PLAY' && answered.push(m as ClientResponseMessage))
  subscribe(DIAGNOSTICS_CHANNELS.clientRequest, onReq)
  subscribe(DIAGNOSTICS_CHANNELS.clientResponse, onRes)
  return {
    sent,
    answered,
    stop: () => {
      unsubscribe(DIAGNOSTICS_CHANNELS.clientRequest, onReq)
      unsubscribe(DIAGNOSTICS_CHANNELS.clientResponse, onRes)
    },
  }
}

const header = (m: { headers: Record<string, string | string[]> }, name: string): string | undefined => {
  const key = Object.keys(m.headers).find((k) => k.toLowerCase() === name.toLowerCase())
  const v = key === undefined ? undefined : m.headers[key]
  return Array.isArray(v) ? v[0] : v
}

describe('pull: Scale and Speed against GStreamer', () => {
  it('Scale 2 on a file media: the answered rate is exposed, the timeline stays monotonic through it and a seek, the recording decodes', { timeout: 90_000 }, async () => {
    const plays = watchPlays()
    const session = await new RtspClient().pull(gst.url('file'), { transport: 'tcp', range: { start: 2 } })
    const frames: Frame[] = []
    const jumps: number[] = []
    session.on('frame', (f) => frames.push(f))
    session.on('discontinuity', (_t, jumpS) => jumps.push(jumpS))
    const out = join(dir, 'scaled.mp4')
    try {
      assert.equal(session.scale, undefined, 'normal play: GStreamer sends no Scale')
      await waitFrames(frames, 25)

      const posBefore = session.position!
      await session.play({ scale: 2 })
      assert.equal(header(plays.sent.at(-1)!, 'Scale'), '2')
      assert.equal(header(plays.sent.at(-1)!, 'Range'), undefined, 'a rate change alone sends no Range')
      const reply = plays.answered.at(-1)!
      assert.equal(reply.status, 200)
      // GStreamer 1.22: the rate goes to delivery (Speed), the pictures are not scaled.
      assert.equal(session.scale, Number(header(reply, 'Scale')))
      assert.equal(session.speed, Number(header(reply, 'Speed')))
      assert.equal((session.scale ?? 1) * (session.speed ?? 1), 2, `Scale ${session.scale} Speed ${session.speed}`)
      const afterRate = frames.length
      await waitFrames(frames, afterRate + 75)
      assert.equal(jumps.length, 0, `a rate change where the stream was is no discontinuity (${jumps})`)
      // The position moves on from where the rate changed (GStreamer restarts at the key frame before it).
      assert.ok(session.position! > posBefore, `position ${session.position} after ${posBefore}`)

      const beforeSeek = frames.length
      await session.play({ range: { start: 1 } })
      assert.equal(header(plays.sent.at(-1)!, 'Range'), 'npt=1.000-')
      await waitFrames(frames, beforeSeek + 25)
      assert.equal(jumps.length, 1, 'the seek is one discontinuity')
      assert.ok(jumps[0]! < -3, `the seek went back (${jumps[0]})`)
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.pts >= frames[i - 1]!.pts, `pts went back at frame ${i}: ${frames[i - 1]!.pts} → ${frames[i]!.pts}`)
    } finally {
      plays.stop()
      await session.close()
    }
    // Everything received, on the session's one timeline, in one file that decodes.
    const recorder = await createRecorder({ format: 'mp4', tracks: session.tracks.map(recorderTrack), sink: out })
    for (const f of frames) await recorder.write({ trackIndex: f.track.index, pts: f.pts, keyFrame: f.keyFrame, data: f.data })
    await recorder.finalize()
    // Variable frame rate (pictures 40 ms apart, then 20 ms at rate 2, then 0.1 ms for the ones
    // GStreamer sends with one RTP time): decode in the file's own time base, every picture.
    const decoded = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-i', out, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'framemd5', '-'], { timeoutMs: 60_000 })
    assert.equal(decoded.stderr.trim(), '')
    assert.equal(decoded.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length, frames.length)
    const probe = await ffprobeFile(out)
    assert.equal(probe.streams?.[0]?.codec_name, 'h264')
  })

  it('play({ speed }) sends Speed; bad rates are refused before anything is sent', { timeout: 60_000 }, async () => {
    const plays = watchPlays()
    const session = await new RtspClient().pull(gst.url('file'), { transport: 'tcp' })
    const frames: Frame[] = []
    session.on('frame', (f) => frames.push(f))
    try {
      await waitFrames(frames, 10)
      await session.play({ speed: 2 })
      assert.equal(header(plays.sent.at(-1)!, 'Speed'), '2')
      assert.equal(session.speed, 2)
      const n = frames.length
      await waitFrames(frames, n + 25)
      await assert.rejects(session.play({ speed: -1 }), { code: 'RTSP_ERR_INVALID_ARGUMENT' })
      await assert.rejects(session.play({ scale: 0 }), { code: 'RTSP_ERR_INVALID_ARGUMENT' })
      await assert.rejects(session.play({ scale: Number.NaN }), { code: 'RTSP_ERR_INVALID_ARGUMENT' })
      assert.equal(plays.sent.length, 2, 'no PLAY for a refused argument')
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.pts >= frames[i - 1]!.pts)
    } finally {
      plays.stop()
      await session.close()
    }
  })

  it('a live media plays on at its own rate: GStreamer answers Scale: 1, exposed as such', { timeout: 60_000 }, async () => {
    const session = await new RtspClient().pull(gst.url('h264'), { transport: 'tcp' })
    const frames: Frame[] = []
    const jumps: number[] = []
    session.on('frame', (f) => frames.push(f))
    session.on('discontinuity', (_t, jumpS) => jumps.push(jumpS))
    try {
      await waitFrames(frames, 5)
      // RFC 2326 §12.34: a server that cannot scale answers with the Scale it plays at.
      await session.play({ scale: 2 })
      assert.equal(session.scale, 1)
      assert.equal(session.state, 'playing')
      const n = frames.length
      await waitFrames(frames, n + 10)
      assert.deepEqual(jumps, [])
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.pts >= frames[i - 1]!.pts)
    } finally {
      await session.close()
    }
  })
})
