import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { AacPacketizer } from '../../../src/formats/aac/packetizer.js'
import { aacRoundTrip, frame } from '../../vectors/aac.js'
import { parseRtp } from '../../vectors/rtp.js'

describe('AacPacketizer: round-trip vectors', () => {
  for (const v of aacRoundTrip) {
    test(v.name, () => {
      const packetizer = new AacPacketizer({ payloadType: 97, ssrc: 7, mtu: v.mtu, initialSequenceNumber: 100 })
      const packets = packetizer.packetize(v.units).map(parseRtp)
      assert.deepEqual(
        packets.map((p) => ({ marker: p.marker, timestamp: p.timestamp, payload: p.payload.toString('hex') })),
        v.packets.map((p) => ({ marker: p.marker, timestamp: p.timestamp, payload: p.payload.toString('hex') })),
      )
      packets.forEach((p, i) => {
        assert.equal(p.sequenceNumber, 100 + i)
        assert.equal(p.payloadType, 97)
        assert.equal(p.ssrc, 7)
      })
    })
  }
})

describe('AacPacketizer', () => {
  test('one unit (not an array) gives one packet', () => {
    const p = new AacPacketizer({ payloadType: 97, ssrc: 1, initialSequenceNumber: 0 })
    const [pkt, more] = p.packetize({ data: [frame(10)], rtpTimestamp: 0 })
    assert.equal(more, undefined)
    assert.equal(parseRtp(pkt!).payload.length, 4 + 10)
  })

  test('a frame given in pieces is written as one AU', () => {
    const p = new AacPacketizer({ payloadType: 97, ssrc: 1, initialSequenceNumber: 0 })
    const [pkt] = p.packetize({ data: [Buffer.from([1, 2]), Buffer.from([3])], rtpTimestamp: 0 })
    assert.equal(parseRtp(pkt!).payload.toString('hex'), '00100018010203')
  })

  test('maxFramesPerPacket limits grouping', () => {
    const p = new AacPacketizer({ payloadType: 97, ssrc: 1, maxFramesPerPacket: 2 })
    const units = [0, 1024, 2048, 3072, 4096].map((ts) => ({ data: [frame(5)], rtpTimestamp: ts }))
    assert.deepEqual(p.packetize(units).map((b) => parseRtp(b).timestamp), [0, 2048, 4096])
  })

  test('frames too large for a 13-bit AU-size are rejected', () => {
    const p = new AacPacketizer({ payloadType: 97, ssrc: 1 })
    assert.throws(() => p.packetize({ data: [Buffer.alloc(8192)], rtpTimestamp: 0 }), (e: unknown) => e instanceof RtspError && e.code === 'RTSP_ERR_INVALID_ARGUMENT')
  })
})
