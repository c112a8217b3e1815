import assert from 'node:assert/strict'
import { describe, test, after } from 'node:test'
import fc from 'fast-check'
import { AacPacketizer } from '../../../src/formats/aac/packetizer.js'
import { G711Packetizer } from '../../../src/formats/g711/packetizer.js'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import { LatmPacketizer } from '../../../src/formats/latm/packetizer.js'
import { MjpegPacketizer } from '../../../src/formats/mjpeg/packetizer.js'
import { OpusPacketizer } from '../../../src/formats/opus/packetizer.js'
import { RtpHeaderWriter, type InterleavedPackets, type PacketizerInput } from '../../../src/formats/rtp-header.js'
import { aacRoundTrip, frame } from '../../vectors/aac.js'
import { g711RoundTrip } from '../../vectors/g711.js'
import { h264RoundTrip, nal as h264Nal } from '../../vectors/h264.js'
import { h265RoundTrip, nal as h265Nal } from '../../vectors/h265.js'
import { latmRoundTrip } from '../../vectors/latm.js'
import { mjpegRoundTrip } from '../../vectors/mjpeg.js'
import { opusRoundTrip } from '../../vectors/opus.js'

/**
 * packetizeInterleaved() must give byte for byte the packets packetize() gives, each framed
 * as `$` channel length (RFC 2326 §10.12), in one buffer whose size the packetizer bounds
 * beforehand (the writer never has to grow it).
 */

// Count how often a packetizer's capacity bound was too small (the writer then reallocates).
const proto = RtpHeaderWriter.prototype as unknown as { grow(needed: number): void }
const realGrow = proto.grow
let grown = 0
proto.grow = function (this: unknown, needed: number) {
  grown++
  realGrow.call(this, needed)
}
after(() => {
  proto.grow = realGrow
})

interface Both<U> {
  packetize(u: U): Buffer[]
  packetizeInterleaved(u: U, channel: number): InterleavedPackets
}

function frameAll(channel: number, packets: readonly Buffer[]): Buffer {
  return Buffer.concat(packets.flatMap((p) => [Buffer.from([0x24, channel, p.length >> 8, p.length & 0xff]), p]))
}

/** Same options twice: one packetizer for each method, so both see the same sequence numbers. */
function check<U>(make: () => Both<U>, inputs: readonly U[], channel = 2): void {
  const list = make()
  const framed = make()
  for (const input of inputs) {
    const packets = list.packetize(input)
    const before = grown
    const res = framed.packetizeInterleaved(input, channel)
    assert.equal(grown, before, 'the capacity bound was too small')
    assert.equal(res.packets, packets.length)
    assert.equal(res.data.toString('hex'), frameAll(channel, packets).toString('hex'))
  }
}

describe('packetizeInterleaved: the round-trip vectors, framed', () => {
  test('H.264', () => {
    for (const v of h264RoundTrip) check(() => new H264Packetizer({ payloadType: 96, ssrc: 0x11223344, mtu: v.mtu, initialSequenceNumber: 65534 }), [v.au, v.au])
  })
  test('H.265', () => {
    for (const v of h265RoundTrip) check(() => new H265Packetizer({ payloadType: 96, ssrc: 0x11223344, mtu: v.mtu, initialSequenceNumber: 65534 }), [v.au, v.au])
  })
  test('AAC', () => {
    for (const v of aacRoundTrip) check(() => new AacPacketizer({ payloadType: 97, ssrc: 7, mtu: v.mtu, initialSequenceNumber: 100 }), [v.units, v.units[0]!])
  })
  test('G.711', () => {
    for (const v of g711RoundTrip) check(() => new G711Packetizer({ payloadType: 8, ssrc: 0x1234, initialSequenceNumber: 65535, ...v.options }), [v.input])
  })
  test('MP4A-LATM', () => {
    for (const v of latmRoundTrip) check(() => new LatmPacketizer({ payloadType: 96, ssrc: 7, initialSequenceNumber: 1, ...(v.mtu ? { mtu: v.mtu } : {}) }), [v.units])
  })
  test('Opus', () => {
    for (const v of opusRoundTrip) check(() => new OpusPacketizer({ payloadType: 111, ssrc: 7, initialSequenceNumber: 1 }), [v.units])
  })
  test('MJPEG', () => {
    for (const v of mjpegRoundTrip) {
      check(() => new MjpegPacketizer({ payloadType: 26, ssrc: 7, mtu: v.mtu, initialSequenceNumber: 65535 }), [{ data: [v.jpeg], rtpTimestamp: v.rtpTimestamp }])
    }
  })
})

describe('packetizeInterleaved', () => {
  test('no packet: empty data and a count of 0; the sequence number does not move', () => {
    const p = new H264Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 7 })
    const res = p.packetizeInterleaved({ data: [Buffer.alloc(0)], rtpTimestamp: 0 }, 0)
    assert.equal(res.packets, 0)
    assert.equal(res.data.length, 0)
    assert.equal(p.sequenceNumber, 7)
  })

  test('into: a buffer large enough is written in place, byte for byte what a new one gets; a short one is not used', () => {
    const unit = { data: [h264Nal(0x65, 5000), h264Nal(0x41, 20)], rtpTimestamp: 90 }
    const fresh = new H264Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 3 }).packetizeInterleaved(unit, 2)
    const reuser = new H264Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 3 })
    const into = Buffer.alloc(64 * 1024, 0xee)
    const res = reuser.packetizeInterleaved(unit, 2, into)
    assert.equal(res.data.buffer, into.buffer)
    assert.equal(res.data.byteOffset, into.byteOffset)
    assert.deepEqual(res.data, fresh.data)
    const short = Buffer.alloc(16)
    const again = reuser.packetizeInterleaved(unit, 2, short)
    assert.notEqual(again.data.buffer, short.buffer)
    assert.ok(short.every((b) => b === 0))
    assert.equal(again.packets, fresh.packets)
  })

  test('the two methods share one sequence', () => {
    const p = new H264Packetizer({ payloadType: 96, ssrc: 1, initialSequenceNumber: 0xffff })
    p.packetizeInterleaved({ data: [h264Nal(0x65, 3000)], rtpTimestamp: 0 }, 0)
    const [next] = p.packetize({ data: [h264Nal(0x41, 10)], rtpTimestamp: 3000 })
    assert.equal(next!.readUInt16BE(2), 2) // 0xffff, 0, 1 went out framed
  })

  test('a capacity that is too small is outgrown, not overrun', () => {
    const w = new RtpHeaderWriter({ payloadType: 96, ssrc: 1, initialSequenceNumber: 0 })
    const before = grown
    w.startInterleaved(5, 1)
    for (let i = 0; i < 3; i++) {
      const o = w.open(100, i === 2, 1000)
      w.buf.fill(i, o + 12, o + 112)
    }
    const res = w.finishInterleaved()
    assert.ok(grown > before)
    assert.equal(res.packets, 3)
    assert.equal(res.data.length, 3 * (4 + 12 + 100))
    for (let i = 0; i < 3; i++) {
      const at = i * 116
      assert.deepEqual([...res.data.subarray(at, at + 4)], [0x24, 5, 0, 112])
      assert.equal(res.data.readUInt16BE(at + 6), i)
      assert.equal(res.data[at + 5]! & 0x80, i === 2 ? 0x80 : 0)
      assert.ok(res.data.subarray(at + 16, at + 116).every((b) => b === i))
    }
  })

  test('H.264 and H.265: any NAL sizes and MTU give the framed packets, within the bound', () => {
    const sizes = fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 0, maxLength: 8 })
    fc.assert(
      fc.property(sizes, fc.integer({ min: 4, max: 1500 }), fc.nat(0xffff), fc.integer({ min: 0, max: 255 }), (lens, mtu, seq, channel) => {
        const au264: PacketizerInput = { data: lens.map((n, i) => h264Nal(i % 2 ? 0x41 : 0x06, n, i)), rtpTimestamp: seq * 7 }
        check(() => new H264Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: seq }), [au264], channel)
        const au265: PacketizerInput = { data: lens.map((n, i) => (n < 2 ? Buffer.alloc(n, 0x26) : h265Nal(i % 2 ? 0x0201 : 0x4e01, n, i))), rtpTimestamp: seq * 7 }
        check(() => new H265Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: seq }), [au265], channel)
      }),
      { numRuns: 200 },
    )
  })

  test('AAC, LATM, G.711, Opus: any frame sizes and MTU give the framed packets, within the bound', () => {
    const units = fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 2 })), { minLength: 0, maxLength: 6 })
    fc.assert(
      fc.property(units, fc.integer({ min: 8, max: 1500 }), (spec, mtu) => {
        let ts = 0
        const list: PacketizerInput[] = spec.map(([n, gap], i) => {
          ts += 1024 * (1 + gap)
          return { data: n > 4 ? [frame(4, i), frame(n - 4, i + 1)] : [frame(n, i)], rtpTimestamp: ts }
        })
        check(() => new AacPacketizer({ payloadType: 97, ssrc: 1, mtu, initialSequenceNumber: 0 }), [list])
        check(() => new LatmPacketizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: 0 }), [list])
        check(() => new G711Packetizer({ payloadType: 8, ssrc: 1, mtu, initialSequenceNumber: 0, channels: 2 }), [list.map((u) => ({ ...u, data: [frame(u.data.reduce((a, b) => a + b.length, 0) & ~1, 3)] }))])
        const small = list.filter((u) => u.data.reduce((a, b) => a + b.length, 0) <= mtu)
        check(() => new OpusPacketizer({ payloadType: 111, ssrc: 1, mtu, initialSequenceNumber: 0 }), [small])
      }),
      { numRuns: 200 },
    )
  })
})
