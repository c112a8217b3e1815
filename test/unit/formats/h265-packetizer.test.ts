import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import { h265RoundTrip, nal } from '../../vectors/h265.js'
import { parseRtp } from '../../vectors/rtp.js'

describe('H265Packetizer: round-trip vectors', () => {
  for (const v of h265RoundTrip) {
    test(v.name, () => {
      const packetizer = new H265Packetizer({ payloadType: 96, ssrc: 0x11223344, mtu: v.mtu, initialSequenceNumber: 65534 })
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

describe('H265Packetizer', () => {
  test('default MTU keeps every payload within 1400 bytes, marker only on the last packet', () => {
    const p = new H265Packetizer({ payloadType: 96, ssrc: 1 })
    const packets = p.packetize({ data: [nal(0x4001, 24), nal(0x4201, 43), nal(0x4401, 7), nal(0x2601, 10_000)], rtpTimestamp: 0 })
    assert.ok(packets.every((b) => b.length - 12 <= 1400))
    assert.deepEqual(packets.map((b) => (b[1]! & 0x80) !== 0), packets.map((_, i) => i === packets.length - 1))
  })

  test('no packets for an empty unit; NAL units shorter than their header are skipped', () => {
    const p = new H265Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 0 })
    assert.deepEqual(p.packetize({ data: [], rtpTimestamp: 0 }), [])
    assert.deepEqual(p.packetize({ data: [Buffer.alloc(0), Buffer.from([0x26])], rtpTimestamp: 0 }), [])
    assert.equal(p.sequenceNumber, 0)
  })

  test('rejects invalid options with typed errors', () => {
    for (const opts of [
      { payloadType: 128, ssrc: 1 },
      { payloadType: 96, ssrc: 1, mtu: 3 },
    ]) {
      assert.throws(() => new H265Packetizer(opts), (e: unknown) => e instanceof RtspError && e.code === 'RTSP_ERR_INVALID_ARGUMENT')
    }
  })
})
