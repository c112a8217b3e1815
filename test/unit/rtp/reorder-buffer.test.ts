import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ReorderBuffer } from '../../../src/rtp/reorder-buffer.js'

/** A packet is just its sequence number here. */
const pkt = (seq: number) => Buffer.from([seq >> 8, seq & 0xff])
const seqOf = (b: Buffer) => b.readUInt16BE(0)

function run(order: number[], opts = {}, flushAt?: number): { out: number[]; rb: ReorderBuffer } {
  const rb = new ReorderBuffer(opts)
  const out: number[] = []
  const emit = (b: Buffer) => out.push(seqOf(b))
  for (const s of order) rb.push(pkt(s), s, 0, emit)
  if (flushAt !== undefined) rb.flushExpired(flushAt, emit)
  return { out, rb }
}

describe('ReorderBuffer', () => {
  it('in order passes straight through', () => {
    assert.deepEqual(run([1, 2, 3, 4]).out, [1, 2, 3, 4])
  })
  it('swapped neighbours come out sorted, nothing lost', () => {
    const { out, rb } = run([1, 3, 2, 5, 4, 6])
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6])
    assert.equal(rb.lost, 0)
  })
  it('duplicates and late packets are discarded', () => {
    const { out, rb } = run([1, 2, 2, 3, 1])
    assert.deepEqual(out, [1, 2, 3])
    assert.equal(rb.discarded, 2)
  })
  it('a gap is given up after maxDelayMs and counted', () => {
    const { out, rb } = run([1, 2, 4, 5], { maxDelayMs: 100 }, 150)
    assert.deepEqual(out, [1, 2, 4, 5])
    assert.equal(rb.lost, 1)
    assert.equal(rb.waiting, 0)
  })
  it('a full buffer gives up the gap at once (bounded memory)', () => {
    const order = [1, ...Array.from({ length: 10 }, (_, i) => i + 3)]
    const { out, rb } = run(order, { maxPackets: 8 })
    assert.ok(rb.waiting < 8)
    assert.equal(rb.lost, 1)
    assert.deepEqual(out, out.slice().sort((a, b) => a - b))
  })
  it('works across the 16-bit wrap', () => {
    assert.deepEqual(run([65534, 0, 65535, 1]).out, [65534, 65535, 0, 1])
  })
  it('issue 11: every maxPackets 1..300 keeps all packets across the 65535 → 0 wrap', () => {
    for (let size = 1; size <= 300; size++) {
      // Pairs swapped (a gap of one held packet at a time) from before to after the wrap; a
      // ring of a non-power-of-two length put 65535 and 0 (or neighbours) in clashing slots.
      for (const start of [65536 - size - 3, 65536 - Math.ceil(size / 2), 65535]) {
        // The first packet opens the window; then (start+2, start+1), (start+4, start+3), …
        const order = [start]
        const pairs = size + 6
        for (let i = 1; i <= 2 * pairs; i += 2) order.push((start + i + 1) & 0xffff, (start + i) & 0xffff)
        const { out, rb } = run(order, { maxPackets: size })
        const expected = Array.from({ length: order.length }, (_, i) => (start + i) & 0xffff)
        assert.equal(rb.lost, 0, `size ${size} start ${start}`)
        assert.equal(rb.discarded, 0, `size ${size} start ${start}`)
        assert.deepEqual(out, expected, `size ${size} start ${start}`)
      }
    }
  })
  it('issue 11: a window-sized permutation across the wrap comes out whole for every size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 300 }), fc.infiniteStream(fc.nat()), (size, back, rnd) => {
        const start = (65536 - back) & 0xffff
        const n = 3 * size + 10
        const seqs = Array.from({ length: n }, (_, i) => (start + i) & 0xffff)
        // Shuffle in blocks smaller than the smallest ring the size gives (2): swap neighbours.
        const it = rnd[Symbol.iterator]()
        for (let b = 1; b + 1 < n; b += 2) if ((it.next().value as number) % 2 === 0) [seqs[b], seqs[b + 1]] = [seqs[b + 1]!, seqs[b]!]
        const { out, rb } = run(seqs, { maxPackets: size })
        assert.equal(rb.lost, 0)
        assert.deepEqual(out, Array.from({ length: n }, (_, i) => (start + i) & 0xffff))
      }),
    )
  })
  it('property: any permutation within the window comes out sorted with no loss', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 2, max: 40 }), fc.infiniteStream(fc.nat()), (start, n, rnd) => {
        // Shuffle within blocks of 8 so every packet stays inside the 64-packet window.
        const seqs = Array.from({ length: n }, (_, i) => (start + i) & 0xffff)
        const it = rnd[Symbol.iterator]()
        for (let b = 1; b < n; b += 8) {
          const block = seqs.slice(b, b + 8)
          block.sort(() => ((it.next().value as number) % 3) - 1)
          seqs.splice(b, block.length, ...block)
        }
        const { out, rb } = run(seqs)
        assert.equal(rb.lost, 0)
        assert.deepEqual(out, Array.from({ length: n }, (_, i) => (start + i) & 0xffff))
      }),
    )
  })
})
