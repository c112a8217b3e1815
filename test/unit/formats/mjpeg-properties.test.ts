import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { RtspError } from '../../../src/errors.js'
import { MjpegDepacketizer } from '../../../src/formats/mjpeg/depacketizer.js'
import { MjpegPacketizer } from '../../../src/formats/mjpeg/packetizer.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { jfif, mjpegDecodeOnly, mjpegRoundTrip } from '../../vectors/mjpeg.js'
import { payloadArb } from '../../helpers/payload-arb.js'
import { parseRtp } from '../../vectors/rtp.js'

/** Entropy-coded data as an encoder writes it: 0xff stuffed with 0x00, never a marker. */
const scanArb = fc.uint8Array({ minLength: 1, maxLength: 6000 }).map((b) => {
  const out: number[] = []
  for (const v of b) {
    out.push(v)
    if (v === 0xff) out.push(0)
  }
  return Buffer.from(out)
})

const tableArb = fc.oneof(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ minLength: 128, maxLength: 128 })).map((b) => Buffer.from(b))

const frameArb = fc.record({
  type: fc.constantFrom(0 as const, 1 as const),
  width: fc.integer({ min: 1, max: 255 }).map((n) => n * 8),
  height: fc.integer({ min: 1, max: 255 }).map((n) => n * 8),
  luma: tableArb,
  chroma: tableArb,
  dri: fc.constantFrom(0, 0, 1, 40, 65535),
  scan: scanArb,
})

describe('MJPEG properties', () => {
  test('packetize → depacketize is the identity for rebuilt-form JPEGs', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 273, max: 1500 }), fc.nat(), (frames, mtu, start) => {
        const jpegs = frames.map((f) => jfif(f))
        const p = new MjpegPacketizer({ payloadType: 26, ssrc: 1, mtu, initialSequenceNumber: 65530 })
        const packets = jpegs.flatMap((jpeg, i) => p.packetize({ data: [jpeg], rtpTimestamp: (start + i * 3000) >>> 0 })).map(parseRtp)
        const d = new MjpegDepacketizer()
        const out: AccessUnit[] = []
        for (const pkt of packets) out.push(...d.push(pkt))
        assert.deepEqual(out.map((u) => u.data[0]!.toString('hex')), jpegs.map((j) => j.toString('hex')))
        assert.equal(d.dropped, 0)
      }),
      { numRuns: 100 },
    )
  })

  test('random packets never throw (or only RtspError); frames are whole JPEGs', () => {
    const seeds = [...mjpegRoundTrip, ...mjpegDecodeOnly].flatMap((v) => v.packets.map((p) => p.payload))
    const payloads = payloadArb(seeds)
    const packetArb: fc.Arbitrary<RtpPacket> = fc.record({
      marker: fc.boolean(),
      payloadType: fc.constant(26),
      sequenceNumber: fc.nat(0xffff),
      timestamp: fc.constantFrom(0, 3000, 0xffffffff),
      ssrc: fc.constant(1),
      payload: payloads,
    })
    fc.assert(
      fc.property(fc.array(fc.tuple(packetArb, fc.boolean()), { maxLength: 40 }), (list) => {
        const d = new MjpegDepacketizer({ maxFrameSize: 1000 })
        for (const [p, reset] of list) {
          try {
            for (const u of d.push(p)) {
              const jpeg = u.data[0]!
              assert.equal(u.data.length, 1)
              assert.equal(jpeg.readUInt16BE(0), 0xffd8)
              assert.equal(jpeg.readUInt16BE(jpeg.length - 2), 0xffd9)
            }
            if (reset) d.reset()
          } catch (err) {
            if (!(err instanceof RtspError)) throw err
          }
        }
        assert.ok(d.dropped >= 0)
      }),
      { numRuns: 300 },
    )
  })
})
