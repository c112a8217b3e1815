import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { BitReader } from '../../../src/codec/bit-reader.js'
import { MediaError } from '../../../src/errors.js'

/** Exp-Golomb encoder for the tests (H.264 §9.1), as a bit string. */
function ue(v: number): string {
  const b = (v + 1).toString(2)
  return '0'.repeat(b.length - 1) + b
}

function fromBits(bits: string): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8))
  for (let i = 0; i < bits.length; i++) if (bits[i] === '1') out[i >> 3]! |= 0x80 >> (i & 7)
  return out
}

describe('BitReader', () => {
  test('reads bits MSB first across byte boundaries', () => {
    const r = new BitReader(Buffer.from([0b1010_1100, 0b0101_0011, 0xff, 0xff, 0xff, 0xff]))
    assert.equal(r.readBit(), 1)
    assert.equal(r.readBits(3), 0b010)
    assert.equal(r.readBits(8), 0b1100_0101)
    assert.equal(r.position, 12)
    assert.equal(r.readBits(4), 0b0011)
    assert.equal(r.readBits(32), 0xffffffff)
    assert.equal(r.bitsLeft, 0)
  })

  test('Exp-Golomb: the codes of H.264 Table 9-2', () => {
    // 1 → 0, 010 → 1, 011 → 2, 00100 → 3, 00111 → 6
    const r = new BitReader(fromBits('1' + '010' + '011' + '00100' + '00111' + '010' + '011'))
    assert.deepEqual([r.readUE(), r.readUE(), r.readUE(), r.readUE(), r.readUE()], [0, 1, 2, 3, 6])
    // se: k=1 → 1, k=2 → -1
    assert.deepEqual([r.readSE(), r.readSE()], [1, -1])
  })

  test('ue/se round-trip for random values up to 2^32 - 2', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 2 }), { minLength: 1, maxLength: 20 }), (values) => {
        const r = new BitReader(fromBits(values.map(ue).join('')))
        for (const v of values) assert.equal(r.readUE(), v)
      }),
    )
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), (v) => {
        const k = v > 0 ? 2 * v - 1 : -2 * v
        assert.equal(new BitReader(fromBits(ue(k))).readSE(), v)
      }),
    )
  })

  test('reading past the end throws MediaError', () => {
    const r = new BitReader(Buffer.from([0xff]))
    r.readBits(6)
    assert.throws(() => r.readBits(3), MediaError)
    assert.throws(() => new BitReader(Buffer.alloc(4)).readUE(), MediaError)
    assert.throws(() => new BitReader(Buffer.alloc(8)).readUE(), MediaError, 'more than 31 leading zeros')
  })

  test('a bit limit shorter than the buffer is honoured; reset reuses the reader', () => {
    const r = new BitReader(Buffer.from([0xff, 0xff]), 10)
    r.readBits(10)
    assert.throws(() => r.readBit(), MediaError)
    r.reset(Buffer.from([0x80]))
    assert.equal(r.readBit(), 1)
    r.byteAlign()
    assert.equal(r.bitsLeft, 0)
  })
})
