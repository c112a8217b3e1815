import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { Batch } from '../../../src/server/stream.js'

function unit(): { data: Buffer[]; rtpTimestamp: number } {
  // SPS, PPS (aggregated), a 3000-byte IDR slice (fragmented): 4 packets at MTU 1400.
  const idr = Buffer.alloc(3000, 0xab)
  idr[0] = 0x65
  return { data: [Buffer.from([0x67, 1, 2, 3]), Buffer.from([0x68, 4]), idr], rtpTimestamp: 1234 }
}

describe('Batch', () => {
  test("from a packetizer's interleaved output: the usual channel is that buffer, UDP views are its packets", () => {
    const opts = { payloadType: 96, ssrc: 7, initialSequenceNumber: 100, mtu: 1400 }
    const packets = new H264Packetizer(opts).packetize(unit())
    const framed = new H264Packetizer(opts).packetizeInterleaved(unit(), 2)
    const b = Batch.interleaved(framed.data, 2, framed.packets, true)
    assert.equal(b.count, packets.length)
    assert.equal(b.bytes, packets.reduce((n, p) => n + p.length, 0))
    assert.equal(b.framed(2), framed.data, 'no copy for the usual channel')
    assert.deepEqual(b.packets, packets)
    assert.equal(b.packets[0]!.buffer, framed.data.buffer, 'views, not copies')
    // Another channel: the same frames with the channel byte rewritten, built once.
    const other = b.framed(0)
    assert.equal(b.framed(0), other)
    assert.deepEqual(other, new Batch(packets, true).framed(0))
    assert.deepEqual(b.framed(2), framed.data)
  })

  test("from separate packets (a publisher's): framed once per channel", () => {
    const packets = [Buffer.from([0x80, 96, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9]), Buffer.from([0x80, 96, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8])]
    const b = new Batch(packets, false)
    assert.equal(b.count, 2)
    assert.equal(b.bytes, 25)
    assert.equal(b.packets, packets)
    const f4 = b.framed(4)
    assert.deepEqual(f4, Buffer.concat([Buffer.from([0x24, 4, 0, 13]), packets[0]!, Buffer.from([0x24, 4, 0, 12]), packets[1]!]))
    assert.equal(b.framed(4), f4)
    assert.equal(b.framed(6)[1], 6)
    assert.equal(b.framed(6), b.framed(6))
  })
})
