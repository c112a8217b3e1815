import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { TimestampUnwrapper } from '../../../src/rtp/timestamp-unwrapper.js'

const TWO_32 = 2 ** 32

describe('TimestampUnwrapper', () => {
  it('maps the first timestamp to itself', () => {
    const u = new TimestampUnwrapper()
    assert.equal(u.last, undefined)
    assert.equal(u.unwrap(0xdeadbeef), 0xdeadbeef)
    assert.equal(u.last, 0xdeadbeef)
  })

  it('continues upward across the 2^32 wrap', () => {
    const u = new TimestampUnwrapper()
    assert.equal(u.unwrap(0xffffff00), 0xffffff00)
    assert.equal(u.unwrap(0xfffffff0), 0xfffffff0)
    assert.equal(u.unwrap(0x10), TWO_32 + 0x10)
    assert.equal(u.unwrap(0x3000), TWO_32 + 0x3000)
    // A second wrap, far later.
    let ts = 0x3000
    let ext = TWO_32 + 0x3000
    for (let i = 0; i < 3; i++) {
      ts = (ts + 0x70000000) >>> 0
      ext += 0x70000000
      assert.equal(u.unwrap(ts), ext)
    }
    assert.ok(ext > 2 * TWO_32)
  })

  it('keeps B-frame steps back just before the wrap behind, not 2^32 ahead', () => {
    const u = new TimestampUnwrapper()
    u.unwrap(0xfffff000)
    assert.equal(u.unwrap(0x00000e10), TWO_32 + 0xe10) // forward across the wrap
    assert.equal(u.unwrap(0xfffffa00), 0xfffffa00) // backwards across the wrap: stays before
    assert.equal(u.unwrap(0x00001c20), TWO_32 + 0x1c20)
  })

  it('small backward steps stay behind the previous value', () => {
    const u = new TimestampUnwrapper()
    assert.equal(u.unwrap(90000), 90000)
    assert.equal(u.unwrap(93600), 93600)
    assert.equal(u.unwrap(86400), 86400)
    assert.equal(u.unwrap(97200), 97200)
  })

  it('goes below 0 when the stream starts just after a wrap and steps back', () => {
    const u = new TimestampUnwrapper()
    assert.equal(u.unwrap(100), 100)
    assert.equal(u.unwrap(0xffffff00), -256 + 0) // 0xffffff00 is 256 before 0
    assert.equal(u.unwrap(200), 200)
  })

  it('reset starts over', () => {
    const u = new TimestampUnwrapper()
    u.unwrap(0xfffffff0)
    u.unwrap(0x10)
    u.reset()
    assert.equal(u.last, undefined)
    assert.equal(u.unwrap(0x10), 0x10)
  })

  it('tracks any walk of steps smaller than 2^31 exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.array(fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), { maxLength: 50 }),
        (start, steps) => {
          const u = new TimestampUnwrapper()
          let ext = u.unwrap(start)
          assert.equal(ext, start)
          for (const step of steps) {
            ext += step
            const wire = ((ext % TWO_32) + TWO_32) % TWO_32
            assert.equal(u.unwrap(wire), ext)
          }
        },
      ),
    )
  })
})
