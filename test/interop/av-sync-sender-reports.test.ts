// A/V alignment from RTCP sender reports when the PLAY reply has no RTP-Info: a scripted
// camera whose audio encoder lags the video by one second. By arrival alone the audio lands a
// second late on the common timeline; once both tracks have sent an SR (RFC 3550 §6.4.1),
// units captured at the same instant share a pts.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startScriptedCamera } from '../helpers/scripted-tracks.js'
import type { ScriptedTrack } from '../helpers/scripted-tracks.js'
import { CAMERA_PPS, CAMERA_SPS, cameraAccessUnit } from '../helpers/fake-camera.js'
import { H264Packetizer } from '../../src/formats/h264/packetizer.js'
import { G711Packetizer } from '../../src/formats/g711/packetizer.js'
import { RtspClient } from '../../src/index.js'
import type { Frame, PullSession } from '../../src/index.js'

const VIDEO_FIRST = 0xfffff000
const AUDIO_FIRST = 0x7ffffe00
const AUDIO_DELAY_MS = 1000

function tracks(senderReports: boolean): ScriptedTrack[] {
  const video = new H264Packetizer({ payloadType: 96, ssrc: 0x11 })
  const audio = new G711Packetizer({ payloadType: 8, ssrc: 0x22 })
  const silence = Buffer.alloc(160, 0xd5)
  return [
    {
      media: [
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${CAMERA_SPS.toString('base64')},${CAMERA_PPS.toString('base64')}`,
      ],
      clockRate: 90000,
      rate: 30,
      firstTimestamp: VIDEO_FIRST,
      senderReports,
      packetize: (n, ts) => video.packetize({ data: cameraAccessUnit(n), rtpTimestamp: ts }),
    },
    {
      media: ['m=audio 0 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'],
      clockRate: 8000,
      rate: 50,
      firstTimestamp: AUDIO_FIRST,
      delayMs: AUDIO_DELAY_MS,
      senderReports,
      packetize: (_n, ts) => audio.packetize({ data: [silence], rtpTimestamp: ts }),
    },
  ]
}

/**
 * pts minus the capture instant (seconds since PLAY, from the script's RTP clocks): the same
 * for every track when the tracks are in sync.
 */
function skew(f: Frame): number {
  const first = f.track.type === 'video' ? VIDEO_FIRST : AUDIO_FIRST
  const ticks = ((f.timestamp - first) % 2 ** 32 + 2 ** 32) % 2 ** 32
  return f.pts - ticks / f.track.clockRate
}

/**
 * Mean skew of each track over frames that satisfy `keep` when they are emitted (not when a
 * slow consumer gets to them), until both tracks have `n`.
 */
function skews(session: PullSession, n: number, keep: (f: Frame) => boolean): Promise<{ video: number; audio: number }> {
  const sum = { video: 0, audio: 0 }
  const count = { video: 0, audio: 0 }
  return new Promise((resolve) => {
    const onFrame = (f: Frame): void => {
      if (!keep(f)) return
      const k = f.track.type === 'video' ? 'video' : 'audio'
      sum[k] += skew(f)
      count[k]++
      if (count.video >= n && count.audio >= n) {
        session.off('frame', onFrame)
        resolve({ video: sum.video / count.video, audio: sum.audio / count.audio })
      }
    }
    session.on('frame', onFrame)
  })
}

describe('A/V alignment without RTP-Info', { timeout: 60_000 }, () => {
  it('by arrival only (no sender reports): the lagging audio is about a second late', async (t) => {
    const cam = await startScriptedCamera(tracks(false))
    t.after(() => cam.stop())
    const session = await new RtspClient().pull(cam.url(), { timeoutMs: 20_000 })
    t.after(() => session.close())
    const s = await skews(session, 10, () => true)
    assert.equal(session.clockSource, 'arrival')
    assert.ok(s.audio - s.video > AUDIO_DELAY_MS / 2000, `audio ${s.audio.toFixed(3)} s, video ${s.video.toFixed(3)} s`)
  })

  it('sender reports of every track put units captured at the same instant on the same pts', async (t) => {
    const cam = await startScriptedCamera(tracks(true))
    t.after(() => cam.stop())
    const session = await new RtspClient().pull(cam.url(), { timeoutMs: 20_000 })
    t.after(() => session.close())
    // Units before the second track's first SR are placed by arrival: left out.
    const after = await skews(session, 25, () => session.clockSource === 'sender-reports')
    assert.equal(session.clockSource, 'sender-reports')
    assert.ok(Math.abs(after.audio - after.video) < 0.005, `after SRs: audio ${after.audio.toFixed(4)} s, video ${after.video.toFixed(4)} s`)
    // Capture times from the SRs agree with the pts: the same wall-clock origin for both tracks.
    const origins: number[] = []
    await new Promise<void>((resolve) => {
      const onFrame = (f: Frame): void => {
        if (f.captureTime === undefined) return
        origins[f.track.index] = f.captureTime / 1000 - f.pts
        if (origins[0] !== undefined && origins[1] !== undefined) {
          session.off('frame', onFrame)
          resolve()
        }
      }
      session.on('frame', onFrame)
    })
    assert.ok(Math.abs(origins[0]! - origins[1]!) < 0.005, `capture-time origins ${origins.join(', ')}`)
  })
})
