import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { BufferPool } from '../../../src/formats/buffer-pool.js'

describe('BufferPool (issue #14: units reused instead of left to the GC)', () => {
  it('carves the slab again from its start once every unit is back, never over a unit still held', () => {
    const pool = new BufferPool(1024)
    const a = pool.alloc(100)
    const b = pool.alloc(100)
    assert.equal(a.buffer, b.buffer)
    assert.notEqual(a.byteOffset, b.byteOffset)
    b.fill(7)
    assert.equal(pool.release(a), true)
    const c = pool.alloc(100) // b is still out: c comes after it
    assert.ok(c.byteOffset >= b.byteOffset + 100)
    c.fill(1)
    assert.deepEqual([...new Set(b)], [7])
    pool.release(b)
    pool.release(c)
    assert.equal(pool.alloc(10).byteOffset, a.byteOffset)
  })

  it('an open unit grows past the slab into a buffer of its own, keeping what was written', () => {
    const pool = new BufferPool(1024)
    let buf = pool.open(10)
    buf.fill(3, 0, 10)
    buf = pool.grow(buf, 10, 4000)
    assert.ok(buf.length >= 4000)
    assert.deepEqual([...buf.subarray(0, 10)], new Array(10).fill(3))
    const unit = pool.close(buf, 4000)
    assert.equal(unit.length, 4000)
    // The slab region it left is free again: the next small unit starts at the slab's start.
    const small = pool.alloc(8)
    assert.equal(small.byteOffset, 0)
  })

  it('a released large buffer is taken again for the next large unit, by any pool', () => {
    const p1 = new BufferPool(1024)
    const p2 = new BufferPool(1024)
    const big = p1.alloc(300_000)
    const ab = big.buffer
    assert.equal(p1.release(big), true)
    assert.equal(p1.release(big), true) // twice: kept once
    const again = p2.alloc(200_000)
    assert.equal(again.buffer, ab)
    const other = p2.alloc(200_000)
    assert.notEqual(other.buffer, ab)
  })

  it('ignores buffers that are not its own', () => {
    const pool = new BufferPool(1024)
    pool.alloc(10)
    assert.equal(pool.release(Buffer.from('a parameter set copied elsewhere')), false)
    assert.equal(pool.release(Buffer.allocUnsafeSlow(100_000)), false)
  })
})
