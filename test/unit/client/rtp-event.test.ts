/**
 * Issue 14: the 'rtp' event is emitted only while someone listens (the packet path reads a
 * field, set when a listener is added, instead of calling listenerCount() per packet).
 * Listeners added, removed and added again, and once(), against the scripted camera.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { startFakeCamera } from '../../helpers/fake-camera.js'
import { RtspClient } from '../../../src/index.js'
import type { PullSession } from '../../../src/index.js'

/** Resolves after `n` more 'frame' events. */
async function frames(session: PullSession, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await once(session, 'frame')
}

describe("PullSession 'rtp' event", () => {
  test('reaches listeners while they are attached, and only then', async (t) => {
    const camera = await startFakeCamera({ fps: 100 })
    t.after(() => camera.stop())
    const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url())
    t.after(() => session.close())

    let first = 0
    const onFirst = (_track: unknown, p: { sequenceNumber: number; payload: Buffer }): void => {
      assert.ok(Buffer.isBuffer(p.payload))
      first++
    }
    session.on('rtp', onFirst)
    await frames(session, 3)
    assert.ok(first > 0, 'a listener added after pull() gets packets')

    session.off('rtp', onFirst)
    const atRemoval = first
    await frames(session, 3)
    assert.equal(first, atRemoval, 'a removed listener gets nothing more')

    let onceCalls = 0
    session.once('rtp', () => onceCalls++)
    await frames(session, 3)
    assert.equal(onceCalls, 1)

    let again = 0
    const seqs: number[] = []
    session.on('rtp', (_track, p) => {
      again++
      seqs.push(p.sequenceNumber)
    })
    await frames(session, 3)
    assert.ok(again > 0, 'a listener added after the last one went gets packets again')
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1]! + 1) & 0xffff)
  })
})
