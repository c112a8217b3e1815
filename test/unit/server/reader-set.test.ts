import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { Batch, ReaderSet } from '../../../src/server/stream.js'
import type { StreamReader } from '../../../src/server/stream.js'

/**
 * A reader that logs each delivery and, on its n-th delivery, may make others join or leave
 * (a session ending, or the HTTP side's tap coming or going, while the stream delivers).
 */
type Action = { kind: 'add' | 'delete' | 'clear'; who: number }

function readers(count: number, log: string[], set: () => Set<StreamReader>, during: Map<number, Action[]>): StreamReader[] {
  const all: StreamReader[] = []
  for (let i = 0; i < count; i++) {
    all.push({
      deliver: (track) => {
        log.push(`${i}:${track}`)
        const acts = during.get(i)
        during.delete(i)
        for (const a of acts ?? []) {
          if (a.kind === 'add') set().add(all[a.who]!)
          else if (a.kind === 'delete') set().delete(all[a.who]!)
          else set().clear()
        }
      },
      deliverRtcp: () => {},
      sourceEnded: () => {},
    })
  }
  return all
}

/** What Stream.deliver did before: iterate the Set itself. */
function deliverBySet(set: Set<StreamReader>, index: number, batch: Batch): void {
  for (const r of set) r.deliver(index, batch)
}

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), who: fc.nat(5) }),
  fc.record({ kind: fc.constant('delete' as const), who: fc.nat(5) }),
  fc.record({
    kind: fc.constant('deliver' as const),
    who: fc.nat(5),
    during: fc.array(fc.tuple(fc.nat(5), fc.record({ kind: fc.constantFrom('add' as const, 'delete' as const, 'clear' as const), who: fc.nat(5) })), { maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('clear' as const), who: fc.constant(0) }),
)

describe('ReaderSet', () => {
  test('delivers to the same readers in the same order as iterating a Set, whoever joins or leaves during a delivery (fast-check)', () => {
    const batch = new Batch([Buffer.alloc(12)], true)
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const logA: string[] = []
        const logB: string[] = []
        const a = new ReaderSet()
        const b = new Set<StreamReader>()
        const duringA = new Map<number, Action[]>()
        const duringB = new Map<number, Action[]>()
        const ra = readers(6, logA, () => a, duringA)
        const rb = readers(6, logB, () => b, duringB)
        let track = 0
        for (const o of ops) {
          if (o.kind === 'add') {
            assert.equal(a.add(ra[o.who]!), a)
            b.add(rb[o.who]!)
          } else if (o.kind === 'delete') {
            assert.equal(a.delete(ra[o.who]!), b.delete(rb[o.who]!))
          } else if (o.kind === 'clear') {
            a.clear()
            b.clear()
          } else {
            duringA.clear()
            duringB.clear()
            for (const [at, act] of o.during) {
              duringA.set(at, [...(duringA.get(at) ?? []), act])
              duringB.set(at, [...(duringB.get(at) ?? []), act])
            }
            a.deliver(track, batch)
            deliverBySet(b, track, batch)
            track++
          }
          assert.equal(a.size, b.size)
          assert.deepEqual([...a].map((r) => ra.indexOf(r)), [...b].map((r) => rb.indexOf(r)))
        }
        assert.deepEqual(logA, logB)
      }),
      { numRuns: 500 },
    )
  })
})
