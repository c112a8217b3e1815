import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { buildRtpPacket, parseRtpPacket } from '../../../src/rtp/packet.js'
import { ONVIF_REPLAY_PROFILE, ReplayTimes, buildOnvifReplayExtension, parseOnvifReplayExtension } from '../../../src/rtp/onvif-replay.js'

test('ONVIF replay extension: the first packet GStreamer 1.22 rtponviftimestamp wrote (C and D set, CSeq 0)', () => {
  // A packet as captured (payload cut): X bit, profile 0xABAC, length 3, NTP, flags 0xA0.
  const packet = Buffer.from(
    '9060' + '11f1' + '6514d637' + '4e4c3f84' + 'abac0003' + 'eebbd012' + 'cc8b4396' + 'a0000000' + '7c05',
    'hex',
  )
  const p = parseRtpPacket(packet)!
  assert.equal(p.extensionProfile, ONVIF_REPLAY_PROFILE)
  const info = parseOnvifReplayExtension(p.extensionProfile, p.extension)!
  assert.equal(new Date(info.time).toISOString(), '2026-12-03T11:25:06.799Z')
  assert.deepEqual({ ...info, time: 0 }, { time: 0, cleanPoint: true, end: false, discontinuity: true, terminal: false, cseq: 0 })
  assert.deepEqual([...p.payload], [0x7c, 0x05])
})

test('ONVIF replay extension: build → parse round trip keeps the time (to the ms) and every flag', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 4_000_000_000_000 }),
      fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean(),
      fc.integer({ min: 0, max: 255 }),
      (time, cleanPoint, end, discontinuity, terminal, cseq) => {
        const data = buildOnvifReplayExtension({ time, cleanPoint, end, discontinuity, terminal, cseq })
        const pkt = buildRtpPacket({ payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, extension: { profile: ONVIF_REPLAY_PROFILE, data } }, Buffer.from([1]))
        const view = parseRtpPacket(pkt)!
        const info = parseOnvifReplayExtension(view.extensionProfile, view.extension)!
        assert.ok(Math.abs(info.time - time) < 0.001, `${info.time} vs ${time}`)
        assert.deepEqual({ ...info, time: 0 }, { time: 0, cleanPoint, end, discontinuity, terminal, cseq })
      },
    ),
  )
})

test('ONVIF replay extension: another profile or a short extension is not one', () => {
  const data = buildOnvifReplayExtension({ time: 0, cleanPoint: true, end: false, discontinuity: false, terminal: false })
  assert.equal(parseOnvifReplayExtension(0xbede, data), undefined)
  assert.equal(parseOnvifReplayExtension(ONVIF_REPLAY_PROFILE, data.subarray(0, 8)), undefined)
  assert.equal(parseOnvifReplayExtension(ONVIF_REPLAY_PROFILE, undefined), undefined)
})

test('ReplayTimes: a unit handed out at the next unit’s first packet still finds its extension', () => {
  const times = new ReplayTimes()
  const ext = (ms: number) => buildOnvifReplayExtension({ time: ms, cleanPoint: false, end: false, discontinuity: false, terminal: false })
  times.onPacket(1000, ONVIF_REPLAY_PROFILE, ext(1_000))
  times.onPacket(1000, 0, undefined) // the unit's later packets carry none
  times.onPacket(4000, ONVIF_REPLAY_PROFILE, ext(2_000)) // the next unit begins
  assert.equal(times.lookup(1000)?.time, 1_000)
  assert.equal(times.lookup(4000)?.time, 2_000)
  assert.equal(times.lookup(7000), undefined)
  times.onPacket(7000, ONVIF_REPLAY_PROFILE, ext(3_000))
  assert.equal(times.lookup(1000), undefined)
  times.reset()
  assert.equal(times.lookup(7000), undefined)
})

test('ReplayTimes: a unit\'s time is its last stamped packet\'s, its flags any packet\'s (GStreamer: C and D on the first only)', () => {
  const times = new ReplayTimes()
  const ext = (ms: number, d: boolean) => buildOnvifReplayExtension({ time: ms, cleanPoint: d, end: false, discontinuity: d, terminal: false, cseq: 3 })
  times.onPacket(1000, ONVIF_REPLAY_PROFILE, ext(5_000, true)) // made at preroll, before PLAY
  times.onPacket(1000, ONVIF_REPLAY_PROFILE, ext(1_000, false))
  times.onPacket(1000, ONVIF_REPLAY_PROFILE, ext(1_000, false))
  assert.deepEqual(times.lookup(1000), { time: 1_000, cleanPoint: true, end: false, discontinuity: true, terminal: false, cseq: 3 })
  times.onPacket(2000, ONVIF_REPLAY_PROFILE, ext(1_250, false))
  assert.deepEqual(times.lookup(2000), { time: 1_250, cleanPoint: false, end: false, discontinuity: false, terminal: false, cseq: 3 })
  assert.equal(times.lookup(1000)?.discontinuity, true)
})
