import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ReplayStamps, onvifRequestHeaders } from '../../../src/client/onvif.js'
import type { Frame, Track } from '../../../src/client/track.js'
import { ONVIF_REPLAY_PROFILE, buildOnvifReplayExtension } from '../../../src/rtp/onvif-replay.js'
import { buildRtpPacket, parseRtpPacket } from '../../../src/rtp/packet.js'

test('ONVIF request headers: none by default', () => {
  assert.deepEqual(onvifRequestHeaders({}), { describe: {}, setup: {}, play: {} })
  assert.deepEqual(onvifRequestHeaders({ backchannel: false, onvifReplay: false }), { describe: {}, setup: {}, play: {} })
})

test('ONVIF request headers: back-channel and replay tags in one Require; Rate-Control and Immediate on PLAY only', () => {
  const bc = 'www.onvif.org/ver20/backchannel'
  assert.deepEqual(onvifRequestHeaders({ backchannel: true }), { describe: { Require: bc }, setup: { Require: bc }, play: { Require: bc } })
  assert.deepEqual(onvifRequestHeaders({ onvifReplay: true }).play, { Require: 'onvif-replay' })
  const both = onvifRequestHeaders({ backchannel: true, onvifReplay: { rateControl: false, immediate: true } })
  assert.deepEqual(both.describe, { Require: `${bc}, onvif-replay` })
  assert.deepEqual(both.play, { Require: `${bc}, onvif-replay`, 'Rate-Control': 'no', Immediate: 'yes' })
  assert.deepEqual(onvifRequestHeaders({ onvifReplay: { rateControl: true } }).play, { Require: 'onvif-replay' })
})

test('ReplayStamps: each frame gets its own unit\'s extension, across held units and units the timeline dropped', () => {
  const stamps = new ReplayStamps()
  const track = { index: 0 } as Track
  const ext = (ms: number) => buildOnvifReplayExtension({ time: ms, cleanPoint: ms === 1000, end: false, discontinuity: false, terminal: false })
  const packet = (ts: number, ms?: number) => {
    const view = parseRtpPacket(buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: ts, ssrc: 1, ...(ms !== undefined ? { extension: { profile: ONVIF_REPLAY_PROFILE, data: ext(ms) } } : {}) }, Buffer.from([0])))!
    stamps.packet(0, view)
  }
  // Three units (the extension on each first packet only); the timeline holds them, drops the second.
  for (const [ts, ms] of [[90_000, 1000], [93_000, 1250], [96_000, 1500]] as const) {
    packet(ts, ms)
    packet(ts)
    stamps.unit(0, ts)
  }
  const frame = (timestamp: number): Frame => ({ track, timestamp, pts: 0, keyFrame: false, data: [] })
  const f1 = frame(90_000)
  const f3 = frame(96_000 + 2 ** 32) // an extended timestamp past a wrap
  stamps.frame(f1)
  stamps.frame(f3)
  assert.equal(f1.replay?.time, 1000)
  assert.equal(f1.replay?.cleanPoint, true)
  assert.equal(f1.captureTime, 1000)
  assert.equal(f3.replay?.time, 1500)
  const none = frame(99_000)
  stamps.frame(none)
  assert.equal(none.replay, undefined)
})
