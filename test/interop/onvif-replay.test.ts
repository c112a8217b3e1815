/**
 * ONVIF replay (issue #16; ONVIF Streaming §6) against GStreamer's RTSPOnvifServer with
 * replay support, every packet stamped by gst-plugins-bad's rtponviftimestamp (the 0xABAC
 * header extension). The peer's source is live, so it does not seek: it stamps from the
 * requested `clock=` start (see gst-onvif-server.py). Checked: the requests carry
 * `Require: onvif-replay`, `Range: clock=`, `Rate-Control: no` and `Immediate: yes`; every
 * frame gets the recording's time and flags from the extension, moving with its pts.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import type { Frame } from '../../src/client/track.js'
import { runCli } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { startGstOnvifServer, type GstOnvifServer } from '../helpers/gst-onvif-server.js'

let dir: string
let server: GstOnvifServer
const START = new Date('2026-12-01T10:00:00Z')

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-onvif-replay-'))
  server = await startGstOnvifServer()
})

after(async () => {
  await server?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** The PLAY lines the server printed, once there are `n` (its stdout is read as it comes). */
async function playLines(n: number): Promise<string[]> {
  for (let i = 0; ; i++) {
    const plays = server.stdout().split('\n').filter((l) => l.startsWith('PLAY '))
    if (plays.length >= n || i === 200) return plays
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('ONVIF replay against GStreamer\'s RTSPOnvifServer', () => {
  it('pull with onvifReplay and a clock range: each frame carries the recording\'s time from the RTP extension', { timeout: 60_000 }, async () => {
    const client = new RtspClient()
    const openedAt = Date.now()
    const session = await client.pull(server.url('/replay'), { transport: 'tcp', range: { start: START }, onvifReplay: { rateControl: false, immediate: true } })
    const frames: Frame[] = []
    try {
      for await (const f of session.frames()) {
        frames.push(f)
        if (frames.length === 30) break
      }
    } finally {
      await session.close()
    }
    const wallMs = Date.now() - openedAt
    const line = await server.waitForLine(/^PLAY /)
    assert.equal(line, 'PLAY require=onvif-replay range=clock=20261201T100000Z- rate-control=no immediate=yes')
    assert.ok(frames.every((f) => f.replay !== undefined), 'a frame without the replay extension')
    const first = frames[0]!.replay!
    // The recorder's clock starts at the requested instant, plus the running time of the live
    // media, which cannot be longer than this session has lasted (the media was made for it).
    assert.ok(first.time >= START.getTime() && first.time <= START.getTime() + wallMs, `${new Date(first.time).toISOString()}, ${wallMs} ms after opening`)
    assert.equal(first.discontinuity, true)
    for (const f of frames) {
      assert.equal(f.replay!.cleanPoint, f.keyFrame, `frame at ${f.pts}: C flag ${f.replay!.cleanPoint}, key frame ${f.keyFrame}`)
      assert.equal(f.captureTime, f.replay!.time)
      assert.equal(f.replay!.cseq, 4) // the PLAY's CSeq: after OPTIONS, DESCRIBE and SETUP
    }
    // The recording's time moves with the media: 1/15 s per frame, as the pts do.
    for (let i = 1; i < frames.length; i++) {
      const dTime = (frames[i]!.replay!.time - frames[i - 1]!.replay!.time) / 1000
      const dPts = frames[i]!.pts - frames[i - 1]!.pts
      assert.ok(Math.abs(dTime - dPts) < 0.002, `frame ${i}: time +${dTime} s, pts +${dPts} s`)
    }
  })

  it('rtspkit pull --clock records from a recorder with Require: onvif-replay, Rate-Control: no, Immediate: yes', { timeout: 60_000 }, async () => {
    const out = join(dir, 'replay.mp4')
    const before = server.stdout().split('\n').filter((l) => l.startsWith('PLAY ')).length
    const r = await runCli(['pull', server.url('/replay'), '--clock', '2026-12-01T10:00:00Z', '-o', out, '-t', '2', '--transport', 'tcp', '-q'], { timeoutMs: 30_000 })
    assert.equal(r.code, 0, r.stderr)
    const plays = await playLines(before + 1)
    assert.equal(plays.at(-1), 'PLAY require=onvif-replay range=clock=20261201T100000Z- rate-control=no immediate=yes')
    const bad = await runCli(['pull', server.url('/replay'), '--clock', 'yesterday', '-o', out])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--clock must be an ISO 8601 time with its zone/)
    const probe = await ffprobeFile(out)
    assert.equal(probe.streams[0]?.codec_name, 'h264')
    assert.equal(await decodeErrors(out), '')
  })
})
