/**
 * Client seek, PAUSE and resume (issue #16; RFC 2326 §10.5, §10.6, §12.29) against
 * GStreamer's RTSP server with a seekable file media (filesrc ! qtdemux, one pipeline per
 * client): a start position, PAUSE that stops the flow, resume, and a seek backwards that
 * keeps the session's timeline monotonic and is reported as a discontinuity.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import type { Frame } from '../../src/client/track.js'
import { runCli, runProcess } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { until } from '../helpers/until.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'

let dir: string
let clip: string
let gst: GstServer

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-pull-seek-'))
  clip = join(dir, 'clip.mp4')
  // 20 s, 25 fps, a key frame every second, no B-frames.
  const made = await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25',
    '-t', '20', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0', '-y', clip,
  ], { timeoutMs: 30_000 })
  assert.equal(made.code, 0, made.stderr)
  gst = await startGstServer({ unshared: true, seekable: { file: `filesrc location=${clip} ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96` } })
})

after(async () => {
  await gst?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function waitFrames(frames: Frame[], n: number, timeoutMs = 5000): Promise<void> {
  return until(() => frames.length >= n, `${n} frames`, timeoutMs, 20)
}

describe('pull: seek, pause and resume against GStreamer (file media)', () => {
  it('starts at range.start, pauses, resumes, seeks back with a monotonic timeline', { timeout: 60_000 }, async () => {
    const client = new RtspClient()
    const session = await client.pull(gst.url('file'), { transport: 'tcp', range: { start: 8 } })
    const frames: Frame[] = []
    const jumps: number[] = []
    session.on('frame', (f) => frames.push(f))
    session.on('discontinuity', (_t, jumpS) => jumps.push(jumpS))
    try {
      await waitFrames(frames, 10)
      assert.equal(frames[0]!.keyFrame, true, 'the first frame is a key frame')
      // GStreamer answers the key frame at or before 8 s (Range: npt=7.9xx-… or 8-…).
      const at = session.position!
      assert.ok(at >= 7.5 && at < 10, `position ${at}`)

      await session.pause()
      assert.equal(session.state, 'paused')
      await new Promise((r) => setTimeout(r, 300)) // what was in flight before the reply
      const paused = frames.length
      await new Promise((r) => setTimeout(r, 1000))
      assert.equal(frames.length, paused, 'no frame while paused')

      await session.play()
      assert.equal(session.state, 'playing')
      await waitFrames(frames, paused + 10)
      assert.equal(jumps.length, 0, 'resuming is not a discontinuity')

      const beforeSeek = frames.length
      const lastPts = frames.at(-1)!.pts
      await session.play({ range: { start: 2 } })
      await waitFrames(frames, beforeSeek + 25)
      const pos = session.position!
      assert.ok(pos >= 1.5 && pos < 5, `position after the seek ${pos}`)
      assert.equal(jumps.length, 1, 'one track, one discontinuity')
      assert.ok(jumps[0]! < -4, `the seek went back in NPT (${jumps[0]})`)
      const firstAfter = frames.slice(beforeSeek).find((f) => f.pts > lastPts)
      assert.ok(firstAfter !== undefined)
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.pts >= frames[i - 1]!.pts, `pts went back at frame ${i}: ${frames[i - 1]!.pts} → ${frames[i]!.pts}`)
      // The seek's first picture is a key frame, right after the old timeline's end.
      const seekStart = frames.findIndex((f, i) => i >= beforeSeek && f.keyFrame)
      assert.ok(seekStart >= 0 && frames[seekStart]!.pts - lastPts < 0.5, `the seek continues at ${frames[seekStart]?.pts} after ${lastPts}`)
      await assert.rejects(session.pause().then(() => session.pause()), { code: 'RTSP_ERR_STATE' })
    } finally {
      await session.close()
    }
  })

  it('rtspkit pull --start 00:00:08 --duration 3 records from the picture at 8 s', { timeout: 60_000 }, async () => {
    const out = join(dir, 'from8.mp4')
    const r = await runCli(['pull', gst.url('file'), '--start', '00:00:08', '--duration', '3', '-o', out, '--quiet'], { timeoutMs: 30_000 })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await decodeErrors(out), '')
    const probe = await ffprobeFile(out)
    const seconds = Number(probe.format?.duration)
    assert.ok(seconds > 2 && seconds < 4, `${seconds} s recorded`)
    // The clip has a key frame every second: GStreamer starts exactly at 8 s.
    assert.equal(await firstPicture(out), await firstPicture(clip, 8))
    const bad = await runCli(['pull', gst.url('file'), '--start', '1:75', '-o', out])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--start must be/)
  })
})

async function firstPicture(file: string, ss?: number): Promise<string> {
  const args = ['-nostdin', '-v', 'error', ...(ss !== undefined ? ['-ss', String(ss)] : []), '-i', file, '-map', '0:v', '-frames:v', '1', '-fps_mode', 'passthrough', '-f', 'framemd5', '-']
  const r = await runProcess('ffmpeg', args, { timeoutMs: 20_000 })
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim().split('\n').at(-1)!.split(',').at(-1)!.trim()
}
