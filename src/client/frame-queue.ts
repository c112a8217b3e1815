import type { Frame } from './track.js'

/**
 * The bounded buffer behind `session.frames()`. Live media cannot be paused, so a consumer
 * that falls behind loses frames instead of growing memory: on overflow the queue is
 * emptied and refilled from the next video key frame (a decoder can start there).
 */
export class FrameQueue implements AsyncIterableIterator<Frame> {
  private readonly items: Frame[] = []
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
    if (this.items.length - this.head >= this.capacity) {
      this.overflowed += this.items.length - this.head
      this.items.length = 0
      this.head = 0
      if (this.hasVideo && !(frame.keyFrame && frame.track.type === 'video')) {
        this.waitForKey = true
        this.overflowed++
        return
      }
    }
    this.items.push(frame)
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
      const value = this.items[this.head++]!
      if (this.head > 1024 && this.head * 2 > this.items.length) {
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
    const detach = this.onDetach
    this.onDetach = undefined
    await detach?.()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
