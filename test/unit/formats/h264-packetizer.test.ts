import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { h264RoundTrip, nal } from '../../vectors/h264.js'
import { parseRtp } from '../../vectors/rtp.js'

describe('H264Packetizer: round-trip vectors', () => {
  for (const v of h264RoundTrip) {
    test(v.name, () => {
      const packetizer = new H264Packetizer({ payloadType: 96, ssrc: 0x11223344, mtu: v.mtu, initialSequenceNumber: 65534 })
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

describe('H264Packetizer', () => {
  test('writes a version 2 header with no padding, extension or CSRC', () => {
    const [pkt] = new H264Packetizer({ payloadType: 97, ssrc: 1, initialSequenceNumber: 0 }).packetize({ data: [nal(0x65, 10)], rtpTimestamp: 5 })
    assert.equal(pkt![0], 0x80)
    assert.equal(pkt![1], 0x80 | 97)
  })

  test('no packets for an empty unit; empty NAL units are skipped', () => {
    const p = new H264Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 0 })
    assert.deepEqual(p.packetize({ data: [], rtpTimestamp: 0 }), [])
    assert.deepEqual(p.packetize({ data: [Buffer.alloc(0)], rtpTimestamp: 0 }), [])
    assert.equal(p.sequenceNumber, 0)
  })

  test('no packet exceeds the MTU', () => {
    const p = new H264Packetizer({ payloadType: 96, ssrc: 1, mtu: 100 })
    const data = [nal(0x67, 20), nal(0x68, 5), nal(0x65, 1000), nal(0x41, 99), nal(0x41, 100), nal(0x41, 101)]
    for (const pkt of p.packetize({ data, rtpTimestamp: 0 })) assert.ok(pkt.length - 12 <= 100)
  })

  test('rejects invalid options with typed errors', () => {
    for (const opts of [
      { payloadType: 128, ssrc: 1 },
      { payloadType: 96, ssrc: -1 },
      { payloadType: 96, ssrc: 1, mtu: 2 },
      { payloadType: 96, ssrc: 1, initialSequenceNumber: 70000 },
    ]) {
      assert.throws(() => new H264Packetizer(opts), (e: unknown) => e instanceof RtspError && e.code === 'RTSP_ERR_INVALID_ARGUMENT')
    }
  })

  test('random initial sequence number by default', () => {
    const seqs = new Set(Array.from({ length: 8 }, () => new H264Packetizer({ payloadType: 96, ssrc: 1 }).sequenceNumber))
    assert.ok(seqs.size > 1)
  })
})
