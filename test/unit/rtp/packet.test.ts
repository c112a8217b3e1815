import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError } from '../../../src/errors.js'
import {
  buildRtpPacket,
  bufferView,
  createRtpPacket,
  parseRtpPacket,
  parseRtpPacketAt,
  viewOf,
  parseRtpPacketInto,
  randomSsrc,
  readCsrc,
  rtpHeaderLength,
  writeRtpHeader,
} from '../../../src/rtp/packet.js'

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

interface Vector {
  name: string
  bytes: string
  marker: boolean
  payloadType: number
  sequenceNumber: number
  timestamp: number
  ssrc: number
  payload: string
  csrcCount?: number
  extensionProfile?: number
  extension?: string
  paddingLength?: number
}

const vectors: Vector[] = [
  {
    name: 'plain H.264 packet',
    bytes: '8060 1234 00000064 deadbeef  65 88 84',
    marker: false, payloadType: 96, sequenceNumber: 0x1234, timestamp: 100, ssrc: 0xdeadbeef, payload: '658884',
  },
  {
    name: 'marker, all-ones fields stay unsigned',
    bytes: '80ff ffff ffffffff ffffffff  01',
    marker: true, payloadType: 127, sequenceNumber: 65535, timestamp: 0xffffffff, ssrc: 0xffffffff, payload: '01',
  },
  {
    name: 'two CSRCs (mixer output)',
    bytes: '8208 0001 00000000 11111111  22222222 33333333  aabb',
    marker: false, payloadType: 8, sequenceNumber: 1, timestamp: 0, ssrc: 0x11111111, payload: 'aabb', csrcCount: 2,
  },
  {
    name: 'RFC 8285 one-byte header extension',
    bytes: '90e0 0002 00015f90 01020304  bede 0001 10ff0000  7c85',
    marker: true, payloadType: 96, sequenceNumber: 2, timestamp: 90000, ssrc: 0x01020304, payload: '7c85',
    extensionProfile: 0xbede, extension: '10ff0000',
  },
  {
    name: 'ONVIF replay extension (profile 0xABAC, 3 words)',
    bytes: '9060 0003 00000001 00000002  abac 0003 e98a2b3c 80000000 80000000  41',
    marker: false, payloadType: 96, sequenceNumber: 3, timestamp: 1, ssrc: 2, payload: '41',
    extensionProfile: 0xabac, extension: 'e98a2b3c8000000080000000',
  },
  {
    name: 'padding of 3 octets',
    bytes: 'a000 0004 00000000 00000005  aabb 0000 03',
    marker: false, payloadType: 0, sequenceNumber: 4, timestamp: 0, ssrc: 5, payload: 'aabb', paddingLength: 3,
  },
  {
    name: 'CSRC + extension + padding together',
    bytes: 'b161 0005 00000006 00000007  00000008  0001 0000  ccdd 0002',
    marker: false, payloadType: 97, sequenceNumber: 5, timestamp: 6, ssrc: 7, payload: 'ccdd',
    csrcCount: 1, extensionProfile: 1, extension: '', paddingLength: 2,
  },
  {
    name: 'empty payload (NAT punch packet)',
    bytes: '8000 0000 00000000 00000000',
    marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: '',
  },
  {
    name: 'padding that eats the whole payload',
    bytes: 'a000 0000 00000000 00000000  0000 03',
    marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: '', paddingLength: 3,
  },
  {
    name: 'padding count 0 (invalid per RFC) read as no padding',
    bytes: 'a000 0000 00000000 00000000  aa00',
    marker: false, payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: 'aa00', paddingLength: 0,
  },
]

const malformed: Array<[string, string]> = [
  ['empty', ''],
  ['11 bytes', '8060 0001 00000001 000000'],
  ['version 0', '0060 0001 00000001 00000001 aa'],
  ['version 1', '4060 0001 00000001 00000001 aa'],
  ['version 3', 'c060 0001 00000001 00000001 aa'],
  ['CSRC count beyond the end', '8360 0001 00000001 00000001 00000002 00000003'],
  ['extension header truncated', '9060 0001 00000001 00000001 bede'],
  ['extension length beyond the end', '9060 0001 00000001 00000001 bede 0002 00000000'],
  ['padding longer than the payload', 'a060 0001 00000001 00000001 aa 05'],
  ['padding reaching into the header', 'a060 0001 00000001 00000001 ff'],
  ['padding bit on a header-only packet', 'a060 0001 00000001 0000000c'],
]

describe('parseRtpPacket', () => {
  for (const v of vectors) {
    it(v.name, () => {
      const buf = hex(v.bytes)
      const p = parseRtpPacket(buf)
      assert.ok(p)
      assert.equal(p.marker, v.marker)
      assert.equal(p.payloadType, v.payloadType)
      assert.equal(p.sequenceNumber, v.sequenceNumber)
      assert.equal(p.timestamp, v.timestamp)
      assert.equal(p.ssrc, v.ssrc)
      assert.equal(p.payload.toString('hex'), v.payload)
      assert.equal(p.csrcCount, v.csrcCount ?? 0)
      assert.equal(p.extensionProfile, v.extensionProfile ?? 0)
      assert.equal(p.extension?.toString('hex'), v.extension)
      assert.equal(p.paddingLength, v.paddingLength ?? 0)
    })
  }

  for (const [name, bytes] of malformed) {
    it(`malformed: ${name} → undefined`, () => {
      assert.equal(parseRtpPacket(hex(bytes)), undefined)
    })
  }

  it('payload and extension are views over the datagram, not copies', () => {
    const buf = hex(vectors[3]!.bytes)
    const p = parseRtpPacket(buf)!
    assert.equal(p.payload.buffer, buf.buffer)
    assert.equal(p.payload.byteOffset, buf.byteOffset + 20)
    assert.equal(p.extension!.buffer, buf.buffer)
    buf[buf.length - 1] = 0x00
    assert.equal(p.payload[1], 0x00)
  })

  it('parses a packet inside a larger buffer (interleaved frame view)', () => {
    const frame = Buffer.concat([hex('24000010'), hex(vectors[0]!.bytes)])
    const p = parseRtpPacket(frame.subarray(4))!
    assert.equal(p.sequenceNumber, 0x1234)
    assert.equal(p.payload.toString('hex'), '658884')
  })

  it('reads CSRCs', () => {
    const buf = hex(vectors[2]!.bytes)
    assert.equal(readCsrc(buf, 0), 0x22222222)
    assert.equal(readCsrc(buf, 1), 0x33333333)
  })
})

describe('parseRtpPacketInto', () => {
  it('refills one object, clearing the fields an earlier packet set', () => {
    const target = createRtpPacket()
    assert.equal(parseRtpPacketInto(hex(vectors[6]!.bytes), target), true)
    assert.equal(target.csrcCount, 1)
    assert.ok(target.extension)
    assert.equal(parseRtpPacketInto(hex(vectors[0]!.bytes), target), true)
    assert.equal(target.csrcCount, 0)
    assert.equal(target.extension, undefined)
    assert.equal(target.extensionProfile, 0)
    assert.equal(target.paddingLength, 0)
    assert.equal(target.payload.toString('hex'), '658884')
    assert.equal(parseRtpPacketInto(hex('4060'), target), false)
  })
})

describe('buildRtpPacket / writeRtpHeader', () => {
  it('writes the fixed header', () => {
    const out = buildRtpPacket({ marker: true, payloadType: 96, sequenceNumber: 0x1234, timestamp: 100, ssrc: 0xdeadbeef }, hex('658884'))
    assert.equal(out.toString('hex'), '80e0123400000064deadbeef658884')
  })

  it('takes sequence numbers modulo 2^16 and timestamps modulo 2^32', () => {
    const out = buildRtpPacket({ payloadType: 0, sequenceNumber: 65537, timestamp: 2 ** 32 + 5, ssrc: 1 }, Buffer.alloc(0))
    const p = parseRtpPacket(out)!
    assert.equal(p.sequenceNumber, 1)
    assert.equal(p.timestamp, 5)
  })

  it('writes CSRCs, extension (zero-padded to 32 bits) and padding', () => {
    const out = buildRtpPacket(
      { payloadType: 97, sequenceNumber: 5, timestamp: 6, ssrc: 7, csrcs: [8], extension: { profile: 0xbede, data: hex('10ff') }, paddingLength: 2 },
      hex('ccdd'),
    )
    assert.equal(out.toString('hex'), 'b1610005000000060000000700000008bede000110ff0000ccdd0002')
    assert.equal(rtpHeaderLength({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0, csrcs: [1, 2] }), 20)
  })

  it('writes at an offset and returns where the payload goes', () => {
    const buf = Buffer.alloc(20, 0xee)
    assert.equal(writeRtpHeader(buf, 4, { payloadType: 8, sequenceNumber: 9, timestamp: 10, ssrc: 11 }), 16)
    assert.equal(buf.toString('hex'), 'eeeeeeee800800090000000a0000000beeeeeeee')
  })

  it('rejects fields out of range with InvalidArgumentError', () => {
    const base = { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0 }
    for (const bad of [
      { ...base, payloadType: 128 },
      { ...base, payloadType: -1 },
      { ...base, ssrc: 2 ** 32 },
      { ...base, sequenceNumber: 1.5 },
      { ...base, timestamp: Number.NaN },
      { ...base, csrcs: new Array<number>(16).fill(0) },
    ]) {
      assert.throws(() => buildRtpPacket(bad, Buffer.alloc(0)), InvalidArgumentError)
    }
    assert.throws(() => buildRtpPacket({ ...base, paddingLength: 256 }, Buffer.alloc(0)), InvalidArgumentError)
    assert.throws(() => writeRtpHeader(Buffer.alloc(11), 0, base), InvalidArgumentError)
  })

  it('randomSsrc gives a 32-bit unsigned integer', () => {
    const s = randomSsrc()
    assert.ok(Number.isInteger(s) && s >= 0 && s <= 0xffffffff)
  })
})

describe('properties', () => {
  it('parseRtpPacket never throws on random bytes, and views stay in bounds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), fc.boolean(), (bytes, forceV2) => {
        const buf = Buffer.from(bytes)
        if (forceV2 && buf.length > 0) buf[0] = (buf[0]! & 0x3f) | 0x80
        const p = parseRtpPacket(buf)
        if (p) {
          assert.ok(p.payload.byteOffset >= buf.byteOffset + 12)
          assert.ok(p.payload.byteOffset + p.payload.length <= buf.byteOffset + buf.length)
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('parseRtpPacketAt(buf, start, end) reads what parseRtpPacketInto reads of buf.subarray(start, end)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), fc.nat(), fc.nat(), fc.boolean(), (bytes, x, y, forceV2) => {
        const buf = Buffer.from(bytes)
        const start = buf.length === 0 ? 0 : x % (buf.length + 1)
        const end = start + (y % (buf.length - start + 1))
        if (forceV2 && start < end) buf[start] = (buf[start]! & 0x3f) | 0x80
        const a = createRtpPacket()
        const b = createRtpPacket()
        const okA = parseRtpPacketAt(buf, start, end, a)
        const okB = parseRtpPacketInto(buf.subarray(start, end), b)
        assert.equal(okA, okB)
        if (okA) {
          assert.deepEqual({ ...a, payload: undefined, extension: undefined }, { ...b, payload: undefined, extension: undefined })
          assert.equal(a.payload.byteOffset, b.payload.byteOffset)
          assert.equal(a.payload.length, b.payload.length)
          assert.equal(a.extension?.byteOffset, b.extension?.byteOffset)
          assert.equal(a.extension?.length, b.extension?.length)
        }
      }),
      { numRuns: 5000 },
    )
  })

  it('viewOf(buf, start, end) is buf.subarray(start, end), a Buffer over the same memory, whichever buffer came before (pooled buffers share one ArrayBuffer)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 32 }), (inputs, picks) => {
        // Buffer.from of small arrays carves them from Node's shared pool: distinct Buffers, one ArrayBuffer.
        const bufs = inputs.map(([bytes]) => Buffer.from(bytes))
        for (const pick of [0, ...picks]) {
          const i = pick % bufs.length
          const buf = bufs[i]!
          const start = inputs[i]![1] % (buf.length + 1)
          const end = start + (inputs[i]![2] % (buf.length - start + 1))
          const view = viewOf(buf, start, end)
          const want = buf.subarray(start, end)
          assert.ok(Buffer.isBuffer(view))
          assert.equal(view.constructor, Buffer)
          assert.equal(view.buffer, want.buffer)
          assert.equal(view.byteOffset, want.byteOffset)
          assert.equal(view.length, want.length)
          if (view.length > 0) {
            view[0] = view[0]! ^ 0xff
            assert.equal(buf[start], view[0])
            view[0] = view[0]! ^ 0xff
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('bufferView(arrayBuffer, offset, length) is Buffer.from(arrayBuffer, offset, length): same class, same memory', () => {
    fc.assert(
      fc.property(fc.nat({ max: 64 }), fc.nat(), fc.nat(), (size, a, b) => {
        const ab = new ArrayBuffer(size)
        const offset = a % (size + 1)
        const length = b % (size - offset + 1)
        const view = bufferView(ab, offset, length)
        const want = Buffer.from(ab, offset, length)
        assert.ok(Buffer.isBuffer(view))
        assert.equal(Object.getPrototypeOf(view), Object.getPrototypeOf(want))
        assert.equal(view.constructor, Buffer)
        assert.equal(view.buffer, ab)
        assert.equal(view.byteOffset, offset)
        assert.equal(view.length, length)
        // subarray and slice give Buffers too (Node's Symbol.species), as for any Buffer.
        assert.ok(Buffer.isBuffer(view.subarray(0)))
        assert.equal(Object.getPrototypeOf(view.subarray(0)), Buffer.prototype)
      }),
      { numRuns: 500 },
    )
  })

  it('build → parse round-trips', () => {
    const fields = fc.record({
      marker: fc.boolean(),
      payloadType: fc.integer({ min: 0, max: 127 }),
      sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
      timestamp: fc.integer({ min: 0, max: 0xffffffff }),
      ssrc: fc.integer({ min: 0, max: 0xffffffff }),
      csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
      extension: fc.option(fc.record({ profile: fc.integer({ min: 0, max: 0xffff }), words: fc.uint8Array({ maxLength: 16 }) })),
      paddingLength: fc.integer({ min: 0, max: 255 }),
    })
    fc.assert(
      fc.property(fields, fc.uint8Array({ maxLength: 64 }), (f, payload) => {
        const extData = f.extension ? Buffer.from(f.extension.words.subarray(0, f.extension.words.length & ~3)) : undefined
        const buf = buildRtpPacket(
          { ...f, extension: f.extension && extData ? { profile: f.extension.profile, data: extData } : undefined },
          payload,
        )
        const p = parseRtpPacket(buf)
        assert.ok(p)
        assert.equal(p.marker, f.marker)
        assert.equal(p.payloadType, f.payloadType)
        assert.equal(p.sequenceNumber, f.sequenceNumber)
        assert.equal(p.timestamp, f.timestamp)
        assert.equal(p.ssrc, f.ssrc)
        assert.equal(p.csrcCount, f.csrcs.length)
        f.csrcs.forEach((c, i) => assert.equal(readCsrc(buf, i), c))
        assert.equal(p.extensionProfile, f.extension?.profile ?? 0)
        assert.deepEqual(p.extension && Buffer.from(p.extension), extData)
        assert.equal(p.paddingLength, f.paddingLength)
        assert.deepEqual(Buffer.from(p.payload), Buffer.from(payload))
      }),
      { numRuns: 2000 },
    )
  })
})
