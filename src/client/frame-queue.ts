import type { Frame } from './track.js'

/** Bytes of media a FrameQueue holds at most (besides its frame count): ~3 s at 84 Mbit/s. */
export const FRAME_QUEUE_MAX_BYTES = 32 * 1024 * 1024

/**
 * The bounded buffer behind `session.frames()`. Live media cannot be paused, so a consumer
 * that falls behind loses frames instead of growing memory: on overflow (`capacity` frames,
 * or `maxBytes` of media) the queue is emptied and refilled from the next video key frame
 * (a decoder can start there). A frame handed out is no longer referenced by the queue.
 */
export class FrameQueue implements AsyncIterableIterator<Frame> {
  private readonly items: Array<Frame | undefined> = []
  /** Media bytes of the frames queued (items[head..]). */
  private bytes = 0
  private head = 0
  private waiter: { resolve(r: IteratorResult<Frame>): void; reject(e: unknown): void } | undefined
  private ended = false
  private error: unknown
  private waitForKey = false
  /** Frames discarded because the consumer was too slow. */
  overflowed = 0
  /** The consumer left the loop (break, return, throw): the owner ends its session; return() waits for it. */
  onDetach: (() => void | Promise<void>) | undefined

  constructor(
    private readonly capacity: number,
    private readonly hasVideo: boolean,
    private readonly maxBytes = FRAME_QUEUE_MAX_BYTES,
  ) {}

  push(frame: Frame): void {
    if (this.ended) return
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: frame, done: false })
      return
    }
    if (this.waitForKey) {
      if (!(frame.keyFrame && frame.track.type === 'video')) {
        this.overflowed++
        return
      }
      this.waitForKey = false
    }
    const size = frameBytes(frame)
    const queued = this.items.length - this.head
    if (queued >= this.capacity || (queued > 0 && this.bytes + size > this.maxBytes)) {
      this.overflowed += queued
      this.items.length = 0
      this.head = 0
      this.bytes = 0
      if (this.hasVideo && !(frame.keyFrame && frame.track.type === 'video')) {
        this.waitForKey = true
        this.overflowed++
        return
      }
    }
    this.items.push(frame)
    this.bytes += size
  }

  /** No more frames: pending and later next() calls finish (or reject with `error`). */
  end(error?: unknown): void {
    if (this.ended) return
    this.ended = true
    this.error = error
    const w = this.waiter
    this.waiter = undefined
    if (w !== undefined) {
      if (error !== undefined) w.reject(error)
      else w.resolve({ value: undefined, done: true })
    }
  }

  next(): Promise<IteratorResult<Frame>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head]!
      // Released at once: a consumed frame (and the buffers under it) must not stay reachable
      // from the queue; 1024 of them were kept before (issue #14: RSS).
      this.items[this.head++] = undefined
      this.bytes -= frameBytes(value)
      if (this.head === this.items.length) {
        this.items.length = 0
        this.head = 0
      } else if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head)
        this.head = 0
      }
      return Promise.resolve({ value, done: false })
    }
    if (this.ended) {
      if (this.error !== undefined) {
        const e = this.error
        this.error = undefined
        return Promise.reject(e)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  async return(): Promise<IteratorResult<Frame>> {
    this.ended = true
    this.items.length = 0
    this.head = 0
    this.bytes = 0
    const detach = this.onDetach
    this.onDetach = undefined
    await detach?.()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

function frameBytes(frame: Frame): number {
  let n = 0
  for (let i = 0; i < frame.data.length; i++) n += frame.data[i]!.length
  return n
}
