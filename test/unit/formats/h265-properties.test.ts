import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { addEmulationPrevention } from '../../../src/codec/h264-nal.js'
import { RtspError } from '../../../src/errors.js'
import { H265Depacketizer } from '../../../src/formats/h265/depacketizer.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { h265DecodeOnly, h265RoundTrip } from '../../vectors/h265.js'
import { parseRtp } from '../../vectors/rtp.js'

/** A well-formed NAL unit: F=0, given type, any LayerId, TID ≥ 1, escaped payload ending in a non-zero byte. */
const nalArb = (types: number[]) =>
  fc
    .tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 3000 }))
    .map(([type, layer, tid, body]) =>
      Buffer.concat([Buffer.from([(type << 1) | (layer >> 5), ((layer & 0x1f) << 3) | tid]), addEmulationPrevention(body), Buffer.from([0x80])]),
    )

// Non-VCL that may precede slices (no VPS/SPS/PPS: the depacketizer drops repeats of those by design).
const NON_VCL = [35, 39, 38]
const VCL = [0, 1, 9, 19, 21]

const unitsArb = fc.array(
  fc.tuple(fc.array(nalArb(NON_VCL), { maxLength: 3 }), fc.array(nalArb(VCL), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 9000 })),
  { minLength: 1, maxLength: 6 },
)

function toAccessUnits(spec: Array<[Buffer[], Buffer[], number]>, start: number): AccessUnit[] {
  let ts = start
  return spec.map(([pre, slices, step]) => {
    ts = (ts + step) >>> 0
    // One AUD at most, first (a second one after a slice is dropped as a repeat).
    const data = [...pre.filter((n, i) => (n[0]! >> 1) !== 35 || i === 0), ...slices]
    return { rtpTimestamp: ts, data, keyFrame: data.some((n) => ((n[0]! >> 1) & 0x3f) >= 16 && ((n[0]! >> 1) & 0x3f) <= 23) }
  })
}

function feed(d: H265Depacketizer, packets: readonly RtpPacket[]): AccessUnit[] {
  const out: AccessUnit[] = []
  for (const p of packets) out.push(...d.push(p))
  return out
}

const hex = (units: readonly AccessUnit[]) => units.map((u) => ({ ts: u.rtpTimestamp, key: u.keyFrame, data: u.data.map((b) => b.toString('hex')) }))

describe('H.265 properties', () => {
  test('packetize → depacketize is the identity', () => {
    fc.assert(
      fc.property(unitsArb, fc.integer({ min: 4, max: 1500 }), fc.nat(0xffff), fc.nat(), (spec, mtu, seq, start) => {
        const units = toAccessUnits(spec, start)
        const packetizer = new H265Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: seq })
        const packets = units.flatMap((u) => packetizer.packetize(u)).map(parseRtp)
        const d = new H265Depacketizer({ insertParameterSets: 'never' })
        assert.deepEqual(hex(feed(d, packets)), hex(units))
        assert.equal(d.dropped, 0)
      }),
      { numRuns: 120 },
    )
  })

  test('with packets lost, every slice that comes out is a whole slice of its own unit', () => {
    fc.assert(
      fc.property(unitsArb, fc.integer({ min: 4, max: 600 }), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (spec, mtu, keep) => {
        const units = toAccessUnits(spec, 0)
        const packetizer = new H265Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: 0 })
        const packets = units.flatMap((u) => packetizer.packetize(u)).map(parseRtp).filter((_, i) => keep[i % 64])
        const byTs = new Map(units.map((u) => [u.rtpTimestamp, u.data.map((b) => b.toString('hex'))]))
        const all = new Set(units.flatMap((u) => u.data.map((b) => b.toString('hex'))))
        for (const u of feed(new H265Depacketizer({ insertParameterSets: 'never' }), packets)) {
          const original = byTs.get(u.rtpTimestamp)
          assert.ok(original, 'timestamp of a sent unit')
          for (const n of u.data) {
            const s = n.toString('hex')
            // slices only from their own unit; non-VCL units are held for the next picture when their slices were lost
            assert.ok(((n[0]! >> 1) & 0x3f) < 32 ? original.includes(s) : all.has(s))
          }
        }
      }),
      { numRuns: 120 },
    )
  })

  test('random packets never throw (or only RtspError), and units hold whole NAL units', () => {
    const seeds = [...h265RoundTrip, ...h265DecodeOnly].flatMap((v) => v.packets.map((p) => p.payload))
    const payloadArb = fc.oneof(
      fc.constantFrom(...seeds),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([s, i, v]) => {
        const b = Buffer.from(s)
        if (b.length > 0) b[i % b.length] = v
        return b
      }),
      fc.tuple(fc.constantFrom(0x60, 0x62, 0x64, 0x40, 0x42, 0x26), fc.uint8Array({ maxLength: 40 })).map(([t, b]) => Buffer.concat([Buffer.from([t, 1]), b])),
    )
    const packetArb: fc.Arbitrary<RtpPacket> = fc.record({
      marker: fc.boolean(),
      payloadType: fc.constant(96),
      sequenceNumber: fc.nat(0xffff),
      timestamp: fc.constantFrom(0, 3000, 0xffffffff),
      ssrc: fc.constant(1),
      payload: payloadArb,
    })
    for (const make of [
      () => new H265Depacketizer({ maxAccessUnitSize: 200, maxNalUnits: 8 }),
      () => new H265Depacketizer({ vps: Buffer.from([0x40, 1]), sps: Buffer.from([0x42, 1]), pps: Buffer.from([0x44, 1]), insertParameterSets: 'every-irap' }),
    ]) {
      fc.assert(
        fc.property(fc.array(fc.tuple(packetArb, fc.boolean()), { maxLength: 40 }), (list) => {
          const d = make()
          for (const [p, reset] of list) {
            try {
              for (const u of d.push(p)) for (const b of u.data) assert.ok(Buffer.isBuffer(b) && b.length >= 2)
              if (reset) d.reset()
            } catch (err) {
              if (!(err instanceof RtspError)) throw err
            }
          }
          assert.ok(d.dropped >= 0)
        }),
        { numRuns: 300 },
      )
    }
  })
})
