import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { FrameQueue } from '../../../src/client/frame-queue.js'
import type { Frame, Track } from '../../../src/client/track.js'

const video = { type: 'video' } as Track
const frame = (bytes: number, keyFrame = false): Frame => ({ track: video, timestamp: 0, pts: 0, keyFrame, data: [Buffer.alloc(bytes)] })

describe('FrameQueue', () => {
  it('is bounded by bytes as well as by count: over maxBytes it empties and waits for a key frame (issue #14)', async () => {
    const q = new FrameQueue(1024, true, 100)
    q.push(frame(40, true))
    q.push(frame(40))
    q.push(frame(40)) // 120 bytes > 100: the queue is emptied, this frame is not a key frame
    q.push(frame(10)) // still waiting for a key frame
    const key = frame(30, true)
    q.push(key)
    assert.equal(q.overflowed, 4)
    assert.equal((await q.next()).value, key)
  })

  it('hands every frame it drops to onDrop, and none it delivers (the session reuses their buffers)', async () => {
    const q = new FrameQueue(1024, true, 100)
    const dropped: Frame[] = []
    q.onDrop = (f) => dropped.push(f)
    const frames = [frame(40, true), frame(40), frame(40), frame(10)]
    for (const f of frames) q.push(f)
    const key = frame(30, true)
    q.push(key)
    assert.deepEqual(dropped, frames)
    assert.equal((await q.next()).value, key)
    const left = frame(5)
    q.push(left)
    await q.return()
    assert.deepEqual(dropped, [...frames, left])
  })

  it('takes a frame larger than maxBytes when it is empty', async () => {
    const q = new FrameQueue(1024, true, 100)
    const big = frame(500, true)
    q.push(big)
    assert.equal(q.overflowed, 0)
    assert.equal((await q.next()).value, big)
  })

  it('counts bytes back as frames are taken, so a consumer that keeps up never overflows', async () => {
    const q = new FrameQueue(1024, true, 100)
    for (let i = 0; i < 50; i++) {
      q.push(frame(60, i === 0))
      assert.equal((await q.next()).value?.data[0]?.length, 60)
    }
    assert.equal(q.overflowed, 0)
  })

  it('does not reference a frame once it has been handed out', async () => {
    const q = new FrameQueue(1024, true)
    q.push(frame(10, true))
    q.push(frame(10))
    await q.next()
    const items = (q as unknown as { items: unknown[] }).items
    assert.equal(items.filter((f) => f !== undefined).length, 1)
    await q.next()
    assert.equal(items.length, 0)
  })
})
