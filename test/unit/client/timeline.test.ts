import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Timeline } from '../../../src/client/timeline.js'
import type { Frame, Track } from '../../../src/client/track.js'

const track = (index: number, type: 'video' | 'audio', clockRate: number, control: string): Track =>
  ({ index, type, codec: type === 'video' ? 'H264' : 'AAC', payloadType: 96 + index, clockRate, control, fmtp: {}, details: {}, transport: { protocol: 'tcp' } }) as unknown as Track

const unit = (rtpTimestamp: number) => ({ rtpTimestamp: rtpTimestamp >>> 0, data: [Buffer.from([1])], keyFrame: true })

function setup(tracks: Track[], maxJumpS = 5) {
  const frames: Frame[] = []
  const jumps: Array<[number, number]> = []
  const tl = new Timeline({ frame: (f) => frames.push(f), discontinuity: (t, j) => jumps.push([t.index, j]) }, { maxJumpS, maxHeld: 1024 })
  for (const t of tracks) tl.add(t)
  return { tl, frames, jumps }
}

const video = () => track(0, 'video', 90000, 'rtsp://cam/s/v')
const audio = () => track(1, 'audio', 8000, 'rtsp://cam/s/a')

describe('Timeline (where units land in pts)', () => {
  it('RTP-Info of every track (RFC 2326 §12.33): rtptime is pts 0 for each, units before the reply are re-based', () => {
    const { tl, frames } = setup([video(), audio()])
    tl.startedAt = 1000
    // Video arrives before the PLAY reply (held), then the reply's RTP-Info places both tracks.
    tl.unit(0, unit(90_000 + 3000), 1010)
    tl.applyRtpInfo([{ url: 'rtsp://cam/s/v', rtptime: 90_000 }, { url: 'a', rtptime: 4000 }], undefined)
    assert.equal(tl.clockSource, 'rtp-info')
    tl.unit(1, unit(4000 + 800), 1020)
    tl.unit(0, unit(90_000 + 6000), 1040)
    assert.deepEqual(frames.map((f) => [f.track.index, f.pts]), [[0, 3000 / 90000], [1, 0.1], [0, 6000 / 90000]])
  })

  it('no RTP-Info: units are held until every track has a sender report, then aligned by it (RFC 3550 §6.4.1)', () => {
    const { tl, frames } = setup([video(), audio()])
    tl.startedAt = 0
    tl.applyRtpInfo([], undefined)
    tl.unit(0, unit(1000), 10)
    tl.unit(1, unit(500), 10)
    assert.equal(frames.length, 0, 'held while the timeline is unknown')
    tl.senderReport(0, 1_000_000, 1000) // video's RTP 1000 is wall 1 000 000 ms
    tl.senderReport(1, 1_000_200, 500) // audio's RTP 500 is 200 ms later
    assert.equal(tl.clockSource, 'sender-reports')
    assert.equal(frames.length, 2)
    const [v, a] = frames
    assert.ok(Math.abs(a!.pts - v!.pts - 0.2) < 1e-9, `audio ${a!.pts} video ${v!.pts}`)
    assert.equal(v!.captureTime, 1_000_000)
  })

  it('a server that sends no sender report costs at most 0.5 s of media held, then units are placed by arrival', () => {
    const { tl, frames } = setup([video()])
    tl.startedAt = 0
    tl.applyRtpInfo([], undefined)
    for (let i = 0; i < 15; i++) tl.unit(0, unit(i * 3000), 100 + i * 33)
    assert.equal(frames.length, 0)
    tl.unit(0, unit(15 * 3000), 600) // 0.5 s of RTP time since the first held unit
    assert.equal(frames.length, 16)
    assert.equal(frames[0]!.pts, 0.1, 'the first unit by its arrival, 100 ms after PLAY')
    assert.equal(tl.clockSource, 'arrival')
  })

  it('an RTP clock jump that wall-clock time does not match keeps pts continuous and says so', () => {
    const { tl, frames, jumps } = setup([video()], 5)
    tl.startedAt = 0
    tl.applyRtpInfo([{ url: 'v', rtptime: 0 }], undefined)
    tl.unit(0, unit(0), 0)
    tl.unit(0, unit(3000), 33)
    tl.unit(0, unit(3000 + 90000 * 3600), 66) // an hour ahead, 33 ms later
    assert.equal(jumps.length, 1)
    assert.equal(jumps[0]![0], 0)
    const last = frames[2]!.pts
    assert.ok(last > frames[1]!.pts && last < frames[1]!.pts + 0.1, `pts ${last}`)
    assert.equal(tl.end(), last)
  })

  it('a seek (a PLAY after the first) places every track just past the end and reports the NPT jump', () => {
    const { tl, frames, jumps } = setup([video(), audio()])
    tl.applyRtpInfo([{ url: 'v', rtptime: 0 }, { url: 'a', rtptime: 0 }], undefined)
    tl.unit(0, unit(90000), 1000)
    tl.unit(1, unit(8000), 1000)
    assert.equal(tl.end(), 1)
    tl.replay([{ url: 'v', rtptime: 500_000 }, { url: 'a', rtptime: 77_000 }], true, 30)
    assert.deepEqual(jumps, [[0, 30], [1, 30]])
    tl.unit(0, unit(500_000), 1100)
    tl.unit(1, unit(77_000 + 800), 1100)
    assert.ok(Math.abs(frames[2]!.pts - 1.001) < 1e-9)
    assert.ok(Math.abs(frames[3]!.pts - 1.101) < 1e-9)
    assert.equal(tl.framesReceived(0), 2)
  })

  it('issue 16: media written before the reply to a seek (GStreamer) waits for its RTP-Info: the old segment stays, the new one lands past the end', () => {
    const { tl, frames, jumps } = setup([video()])
    tl.applyRtpInfo([{ url: 'v', rtptime: 0 }], undefined)
    tl.unit(0, unit(90000), 1000)
    tl.holdForReplay()
    tl.unit(0, unit(93600), 1010) // the old segment, still on its way
    tl.unit(0, unit(3600), 1020) // the new one, on a restarted RTP clock, before the reply
    assert.equal(frames.length, 1, 'held until the reply')
    tl.replay([{ url: 'v', rtptime: 3600 }], true, -5)
    tl.unit(0, unit(7200), 1060)
    assert.deepEqual(jumps, [[0, -5]])
    assert.deepEqual(frames.map((f) => Math.round(f.pts * 1e6) / 1e6), [1, 1.04, 1.041, 1.081])
  })

  it('issue 16: a failed PLAY releases the held units on the timeline as it was', () => {
    const { tl, frames } = setup([video()])
    tl.applyRtpInfo([{ url: 'v', rtptime: 0 }], undefined)
    tl.holdForReplay()
    tl.unit(0, unit(3600), 1000)
    tl.cancelReplay()
    tl.cancelReplay()
    assert.deepEqual(frames.map((f) => f.pts), [0.04])
  })

  it('issue 16: units that share one RTP time (GStreamer after a rate change) get increasing pts, 0.1 ms apart', () => {
    const { tl, frames } = setup([video()])
    tl.applyRtpInfo([{ url: 'v', rtptime: 0 }], undefined)
    for (const ts of [0, 3600, 3600, 3600, 7200]) tl.unit(0, unit(ts), 1000)
    assert.deepEqual(frames.map((f) => Math.round(f.pts * 1e6) / 1e6), [0, 0.04, 0.0401, 0.0402, 0.08])
  })
})
