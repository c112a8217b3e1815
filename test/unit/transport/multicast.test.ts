import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.js'
import { isMulticastIPv4, MulticastAddressPool } from '../../../src/transport/multicast.js'

describe('isMulticastIPv4 (RFC 5771: 224.0.0.0/4)', () => {
  it('takes 224.x to 239.x only', () => {
    for (const a of ['224.0.0.1', '239.255.255.255', '232.1.2.3']) assert.equal(isMulticastIPv4(a), true, a)
    for (const a of ['223.255.255.255', '240.0.0.1', '127.0.0.1', '::1', 'ff02::1', '239.0.0', 'x']) assert.equal(isMulticastIPv4(a), false, a)
  })
})

describe('MulticastAddressPool', () => {
  it('hands out a block lowest first, skipping its first address, and reuses released ones', () => {
    const pool = new MulticastAddressPool('239.1.2.0/30')
    assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()], ['239.1.2.1', '239.1.2.2', '239.1.2.3', undefined])
    pool.release('239.1.2.2')
    assert.equal(pool.allocate(), '239.1.2.2')
  })

  it('a /32 (or a bare address) is that one address; a block given mid-range starts at its base', () => {
    const one = new MulticastAddressPool('239.9.9.9')
    assert.deepEqual([one.allocate(), one.allocate()], ['239.9.9.9', undefined])
    assert.equal(new MulticastAddressPool('239.0.0.77/24').allocate(), '239.0.0.1')
  })

  it('refuses what is not an IPv4 multicast block, saying what to give', () => {
    for (const bad of ['10.0.0.0/8', '239.0.0.0/33', '0.0.0.0/0', '239.0.0.0/x', 'ff02::/16', '']) {
      assert.throws(() => new MulticastAddressPool(bad), (e: unknown) => e instanceof InvalidArgumentError && /239\.0\.0\.0\/24/.test(e.message), bad)
    }
  })
})
