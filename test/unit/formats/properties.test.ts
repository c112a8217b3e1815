import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { addEmulationPrevention } from '../../../src/codec/h264-nal.js'
import { RtspError } from '../../../src/errors.js'
import { AacDepacketizer } from '../../../src/formats/aac/depacketizer.js'
import { AacPacketizer } from '../../../src/formats/aac/packetizer.js'
import { H264Depacketizer } from '../../../src/formats/h264/depacketizer.js'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { H265Depacketizer } from '../../../src/formats/h265/depacketizer.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import type { AccessUnit, Depacketizer } from '../../../src/formats/types.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { HBR, LBR, aacRoundTrip } from '../../vectors/aac.js'
import { h264DecodeOnly, h264RoundTrip } from '../../vectors/h264.js'
import { h265DecodeOnly, h265RoundTrip } from '../../vectors/h265.js'
import { payloadArb } from '../../helpers/payload-arb.js'
import { parseRtp } from '../../vectors/rtp.js'

/** A well-formed H.264 NAL unit: F=0, given type, escaped payload ending in a non-zero byte. */
const h264NalArb = (types: number[]) =>
  fc
    .tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 3 }), fc.uint8Array({ maxLength: 3000 }))
    .map(([type, nri, body]) => Buffer.concat([Buffer.from([(nri << 5) | type]), addEmulationPrevention(body), Buffer.from([0x80])]))

/** A well-formed H.265 NAL unit: F=0, given type, any LayerId, TID ≥ 1, escaped payload ending in a non-zero byte. */
const h265NalArb = (types: number[]) =>
  fc
    .tuple(fc.constantFrom(...types), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 3000 }))
    .map(([type, layer, tid, body]) =>
      Buffer.concat([Buffer.from([(type << 1) | (layer >> 5), ((layer & 0x1f) << 3) | tid]), addEmulationPrevention(body), Buffer.from([0x80])]),
    )

const h264Type = (n: Buffer) => n[0]! & 0x1f
const h265Type = (n: Buffer) => (n[0]! >> 1) & 0x3f

/**
 * H.264 and H.265 share one packetizer and depacketizer; the same properties hold for both.
 * An access unit: optional non-VCL units (`nonVcl` types), then at least one slice (`vcl` types).
 */
const nalCodecs = [
  {
    name: 'H.264',
    nalArb: h264NalArb,
    nonVcl: [6, 7, 8, 9, 12],
    vcl: [1, 5],
    isVcl: (n: Buffer) => [1, 5].includes(h264Type(n)),
    isKey: (n: Buffer) => h264Type(n) === 5,
    unitData: (pre: Buffer[], slices: Buffer[]) => [...pre, ...slices],
    /** Smallest MTU: an FU-A needs 2 header bytes and one byte of payload. */
    minMtu: 3,
    numRuns: 150,
    packetizer: (mtu: number, seq: number) => new H264Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: seq }),
    depacketizer: () => new H264Depacketizer({ insertParameterSets: 'never' }),
  },
  {
    name: 'H.265',
    nalArb: h265NalArb,
    // Non-VCL that may precede slices (no VPS/SPS/PPS: the depacketizer drops repeats of those by design).
    nonVcl: [35, 39, 38],
    vcl: [0, 1, 9, 19, 21],
    isVcl: (n: Buffer) => h265Type(n) < 32,
    isKey: (n: Buffer) => h265Type(n) >= 16 && h265Type(n) <= 23,
    // One AUD at most, first (a second one after a slice is dropped as a repeat).
    unitData: (pre: Buffer[], slices: Buffer[]) => [...pre.filter((n, i) => n[0]! >> 1 !== 35 || i === 0), ...slices],
    /** Smallest MTU: an FU needs 3 header bytes and one byte of payload. */
    minMtu: 4,
    numRuns: 120,
    packetizer: (mtu: number, seq: number) => new H265Packetizer({ payloadType: 96, ssrc: 1, mtu, initialSequenceNumber: seq }),
    depacketizer: () => new H265Depacketizer({ insertParameterSets: 'never' }),
  },
]

function feed(d: Depacketizer, packets: readonly RtpPacket[]): AccessUnit[] {
  const out: AccessUnit[] = []
  for (const p of packets) out.push(...d.push(p))
  return out
}

const hex = (units: readonly AccessUnit[]) => units.map((u) => ({ ts: u.rtpTimestamp, key: u.keyFrame, data: u.data.map((b) => b.toString('hex')) }))

for (const c of nalCodecs) {
  const unitsArb = fc.array(
    fc.tuple(fc.array(c.nalArb(c.nonVcl), { maxLength: 3 }), fc.array(c.nalArb(c.vcl), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 9000 })),
    { minLength: 1, maxLength: 6 },
  )

  const toAccessUnits = (spec: Array<[Buffer[], Buffer[], number]>, start: number): AccessUnit[] => {
    let ts = start
    return spec.map(([pre, slices, step]) => {
      ts = (ts + step) >>> 0
      const data = c.unitData(pre, slices)
      return { rtpTimestamp: ts, data, keyFrame: data.some(c.isKey) }
    })
  }

  describe(`${c.name} properties`, () => {
    test('packetize → depacketize is the identity', () => {
      fc.assert(
        fc.property(unitsArb, fc.integer({ min: c.minMtu, max: 1500 }), fc.nat(0xffff), fc.nat(), (spec, mtu, seq, start) => {
          const units = toAccessUnits(spec, start)
          const packetizer = c.packetizer(mtu, seq)
          const packets = units.flatMap((u) => packetizer.packetize(u)).map(parseRtp)
          const d = c.depacketizer()
          assert.deepEqual(hex(feed(d, packets)), hex(units))
          assert.equal(d.dropped, 0)
        }),
        { numRuns: c.numRuns },
      )
    })

    test('with packets lost, every slice that comes out is a whole slice of its own unit', () => {
      fc.assert(
        fc.property(unitsArb, fc.integer({ min: c.minMtu, max: 600 }), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (spec, mtu, keep) => {
          const units = toAccessUnits(spec, 0)
          const packetizer = c.packetizer(mtu, 0)
          const packets = units.flatMap((u) => packetizer.packetize(u)).map(parseRtp).filter((_, i) => keep[i % 64])
          const byTs = new Map(units.map((u) => [u.rtpTimestamp, u.data.map((b) => b.toString('hex'))]))
          const all = new Set(units.flatMap((u) => u.data.map((b) => b.toString('hex'))))
          for (const u of feed(c.depacketizer(), packets)) {
            const original = byTs.get(u.rtpTimestamp)
            assert.ok(original, 'timestamp of a sent unit')
            for (const n of u.data) {
              const s = n.toString('hex')
              // Slices only from their own unit; parameter sets may have been carried from a unit whose
              // slices were lost, and non-VCL units are held for the next picture when their slices were lost.
              assert.ok(c.isVcl(n) ? original.includes(s) : all.has(s))
            }
          }
        }),
        { numRuns: c.numRuns },
      )
    })
  })
}

describe('AAC properties', () => {
  const aacArb = fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.constantFrom(1024, 1024, 1024, 2048)), { minLength: 1, maxLength: 12 })

  const toUnits = (spec: Array<[Uint8Array, number]>, start: number): AccessUnit[] => {
    let ts = start
    return spec.map(([bytes, step]) => {
      ts = (ts + step) >>> 0
      return { rtpTimestamp: ts, data: [Buffer.from(bytes)], keyFrame: true }
    })
  }

  test('packetize → depacketize is the identity', () => {
    fc.assert(
      fc.property(aacArb, fc.integer({ min: 5, max: 1500 }), fc.nat(), (spec, mtu, start) => {
        const units = toUnits(spec, start)
        const packets = new AacPacketizer({ payloadType: 97, ssrc: 1, mtu, initialSequenceNumber: 65530 }).packetize(units).map(parseRtp)
        const d = new AacDepacketizer(HBR)
        assert.deepEqual(hex(feed(d, packets)), hex(units))
        assert.equal(d.dropped, 0)
      }),
      { numRuns: 150 },
    )
  })

  test('with packets lost, every frame that comes out is a whole frame at its timestamp', () => {
    fc.assert(
      fc.property(aacArb, fc.integer({ min: 5, max: 800 }), fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (spec, mtu, keep) => {
        const units = toUnits(spec, 0)
        const packets = new AacPacketizer({ payloadType: 97, ssrc: 1, mtu, initialSequenceNumber: 0 }).packetize(units).map(parseRtp).filter((_, i) => keep[i % 64])
        const byTs = new Map(units.map((u) => [u.rtpTimestamp, u.data[0]!.toString('hex')]))
        for (const u of feed(new AacDepacketizer(HBR), packets)) assert.equal(u.data[0]!.toString('hex'), byTs.get(u.rtpTimestamp))
      }),
      { numRuns: 150 },
    )
  })
})

describe('random packets never throw (or only RtspError)', () => {
  // H.264 and AAC: seeds from both codecs' vectors; STAP-A, FU-A, STAP-B, FU-B with F/NRI bits.
  const mixedSeeds = [
    ...h264RoundTrip.flatMap((v) => v.packets.map((p) => p.payload)),
    ...h264DecodeOnly.flatMap((v) => v.packets.map((p) => p.payload)),
    ...aacRoundTrip.flatMap((v) => v.packets.map((p) => p.payload)),
  ]
  const mixedPayloads = payloadArb(mixedSeeds, [[0x18], [0x1c], [0x78], [0x7c], [0x19], [0x1d]])
  // H.265: AP, FU, PACI, VPS, SPS, IDR headers with TID 1.
  const h265Seeds = [...h265RoundTrip, ...h265DecodeOnly].flatMap((v) => v.packets.map((p) => p.payload))
  const h265Payloads = payloadArb(h265Seeds, [[0x60, 1], [0x62, 1], [0x64, 1], [0x40, 1], [0x42, 1], [0x26, 1]])

  /** Feed random packets (and resets); units must hold whole buffers of at least `minLength` bytes. */
  const check = (make: () => Depacketizer, payload = mixedPayloads, minLength = 1) => {
    const packetArb: fc.Arbitrary<RtpPacket> = fc.record({
      marker: fc.boolean(),
      payloadType: fc.constant(96),
      sequenceNumber: fc.nat(0xffff),
      timestamp: fc.constantFrom(0, 3000, 0xffffffff),
      ssrc: fc.constant(1),
      payload,
    })
    fc.assert(
      fc.property(fc.array(fc.tuple(packetArb, fc.boolean()), { maxLength: 40 }), (list) => {
        const d = make()
        for (const [p, reset] of list) {
          try {
            for (const u of d.push(p)) {
              assert.ok(Array.isArray(u.data))
              for (const b of u.data) assert.ok(Buffer.isBuffer(b) && b.length >= minLength)
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
  }

  test('H264Depacketizer', () => check(() => new H264Depacketizer({ maxAccessUnitSize: 200, maxNalUnits: 8 })))
  test('H264Depacketizer with sprop parameter sets', () => check(() => new H264Depacketizer({ sps: Buffer.from([0x67, 1]), pps: Buffer.from([0x68, 2]), insertParameterSets: 'every-idr', stripAud: true })))
  // Units hold whole NAL units: never shorter than the 2-byte header.
  test('H265Depacketizer', () => check(() => new H265Depacketizer({ maxAccessUnitSize: 200, maxNalUnits: 8 }), h265Payloads, 2))
  test('H265Depacketizer with sprop parameter sets', () =>
    check(() => new H265Depacketizer({ vps: Buffer.from([0x40, 1]), sps: Buffer.from([0x42, 1]), pps: Buffer.from([0x44, 1]), insertParameterSets: 'every-irap' }), h265Payloads, 2))
  test('AacDepacketizer (AAC-hbr)', () => check(() => new AacDepacketizer({ ...HBR, maxAccessUnitSize: 100 })))
  test('AacDepacketizer (AAC-lbr)', () => check(() => new AacDepacketizer(LBR)))
  test('AacDepacketizer with every optional field', () =>
    check(() => new AacDepacketizer({ ...HBR, ctsDeltaLength: 3, dtsDeltaLength: 5, randomAccessIndication: true, streamStateIndication: 2, auxiliaryDataSizeLength: 7 })))
  test('AacDepacketizer without AU headers', () => check(() => new AacDepacketizer({ sizeLength: 0, indexLength: 0, indexDeltaLength: 0, maxAccessUnitSize: 50 })))
})
