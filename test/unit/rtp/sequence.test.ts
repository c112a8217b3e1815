import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { seqAdd, seqDiff, seqLess } from '../../../src/rtp/sequence.js'

describe('sequence arithmetic', () => {
  it('seqDiff is the signed distance, wrap-aware', () => {
    assert.equal(seqDiff(5, 3), 2)
    assert.equal(seqDiff(3, 5), -2)
    assert.equal(seqDiff(7, 7), 0)
    assert.equal(seqDiff(2, 65535), 3)
    assert.equal(seqDiff(65535, 2), -3)
    assert.equal(seqDiff(0, 65535), 1)
    assert.equal(seqDiff(32767, 0), 32767)
    assert.equal(seqDiff(32768, 0), -32768)
  })

  it('seqLess orders across the wrap', () => {
    assert.equal(seqLess(65535, 0), true)
    assert.equal(seqLess(0, 65535), false)
    assert.equal(seqLess(100, 200), true)
    assert.equal(seqLess(200, 200), false)
  })

  it('seqAdd wraps both ways', () => {
    assert.equal(seqAdd(65535, 1), 0)
    assert.equal(seqAdd(0, -1), 65535)
    assert.equal(seqAdd(10, 5), 15)
  })

  it('seqDiff(seqAdd(a, n), a) === n for |n| < 2^15 (exactly 2^15 is ambiguous)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: -32767, max: 32767 }), (a, n) => {
        assert.equal(seqDiff(seqAdd(a, n), a), n)
        assert.equal(seqLess(a, seqAdd(a, n)), n > 0)
      }),
    )
  })
})
