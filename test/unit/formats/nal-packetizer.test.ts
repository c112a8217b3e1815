import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import type { NalPacketizerOptions } from '../../../src/formats/nal/packetizer.js'
import { h264RoundTrip, nal as nal264 } from '../../vectors/h264.js'
import { h265RoundTrip, nal as nal265 } from '../../vectors/h265.js'
import { parseRtp } from '../../vectors/rtp.js'

/** H.264 (RFC 6184) and H.265 (RFC 7798) share one packetizer; each codec runs the same checks on its own vectors. */
const codecs = [
  {
    name: 'H264Packetizer',
    make: (opts: NalPacketizerOptions) => new H264Packetizer(opts),
    roundTrip: h264RoundTrip,
    /** Smallest MTU: FU-A indicator and header plus one byte. */
    minMtu: 3,
    /** NAL units the packetizer skips: shorter than the 1-byte header. */
    tooShort: [Buffer.alloc(0)],
    idr: nal264(0x65, 10),
    /** SPS, PPS, IDR, P slices just under, at and over an MTU of 100, an IDR over the default MTU. */
    mixed: [nal264(0x67, 20), nal264(0x68, 5), nal264(0x65, 1000), nal264(0x41, 99), nal264(0x41, 100), nal264(0x41, 101), nal264(0x65, 10_000)],
  },
  {
    name: 'H265Packetizer',
    make: (opts: NalPacketizerOptions) => new H265Packetizer(opts),
    roundTrip: h265RoundTrip,
    /** Smallest MTU: FU payload header and FU header plus one byte. */
    minMtu: 4,
    /** NAL units the packetizer skips: shorter than the 2-byte header. */
    tooShort: [Buffer.alloc(0), Buffer.from([0x26])],
    idr: nal265(0x2601, 10),
    /** VPS, SPS, PPS, then an IDR slice of 10 000 bytes. */
    mixed: [nal265(0x4001, 24), nal265(0x4201, 43), nal265(0x4401, 7), nal265(0x2601, 10_000)],
  },
]

for (const c of codecs) {
  describe(`${c.name}: round-trip vectors`, () => {
    for (const v of c.roundTrip) {
      test(v.name, () => {
        const packetizer = c.make({ payloadType: 96, ssrc: 0x11223344, mtu: v.mtu, initialSequenceNumber: 65534 })
        const packets = packetizer.packetize(v.au).map(parseRtp)
        assert.deepEqual(
          packets.map((p) => ({ marker: p.marker, payload: p.payload.toString('hex') })),
          v.packets.map((p) => ({ marker: p.marker, payload: p.payload.toString('hex') })),
        )
        packets.forEach((p, i) => {
          assert.equal(p.sequenceNumber, (65534 + i) & 0xffff)
          assert.equal(p.timestamp, v.au.rtpTimestamp)
          assert.equal(p.payloadType, 96)
          assert.equal(p.ssrc, 0x11223344)
        })
        assert.equal(packetizer.sequenceNumber, (65534 + packets.length) & 0xffff)
      })
    }
  })

  describe(c.name, () => {
    test('writes a version 2 header with no padding, extension or CSRC', () => {
      const [pkt] = c.make({ payloadType: 97, ssrc: 1, initialSequenceNumber: 0 }).packetize({ data: [c.idr], rtpTimestamp: 5 })
      assert.equal(pkt![0], 0x80)
      assert.equal(pkt![1], 0x80 | 97)
    })

    test('no packets for an empty unit; NAL units shorter than their header are skipped', () => {
      const p = c.make({ payloadType: 96, ssrc: 1, initialSequenceNumber: 0 })
      assert.deepEqual(p.packetize({ data: [], rtpTimestamp: 0 }), [])
      assert.deepEqual(p.packetize({ data: c.tooShort, rtpTimestamp: 0 }), [])
      assert.equal(p.sequenceNumber, 0)
    })

    test('no packet exceeds the MTU', () => {
      const p = c.make({ payloadType: 96, ssrc: 1, mtu: 100 })
      for (const pkt of p.packetize({ data: c.mixed, rtpTimestamp: 0 })) assert.ok(pkt.length - 12 <= 100)
    })

    test('default MTU keeps every payload within 1400 bytes, marker only on the last packet', () => {
      const p = c.make({ payloadType: 96, ssrc: 1 })
      const packets = p.packetize({ data: c.mixed, rtpTimestamp: 0 })
      assert.ok(packets.every((b) => b.length - 12 <= 1400))
      assert.deepEqual(packets.map((b) => (b[1]! & 0x80) !== 0), packets.map((_, i) => i === packets.length - 1))
    })

    test('rejects invalid options with typed errors', () => {
      for (const opts of [
        { payloadType: 128, ssrc: 1 },
        { payloadType: 96, ssrc: -1 },
        { payloadType: 96, ssrc: 1, mtu: c.minMtu - 1 },
        { payloadType: 96, ssrc: 1, initialSequenceNumber: 70000 },
      ]) {
        assert.throws(() => c.make(opts), (e: unknown) => e instanceof RtspError && e.code === 'RTSP_ERR_INVALID_ARGUMENT')
      }
      assert.doesNotThrow(() => c.make({ payloadType: 96, ssrc: 1, mtu: c.minMtu }))
    })

    test('random initial sequence number by default', () => {
      const seqs = new Set(Array.from({ length: 8 }, () => c.make({ payloadType: 96, ssrc: 1 }).sequenceNumber))
      assert.ok(seqs.size > 1)
    })
  })
}
