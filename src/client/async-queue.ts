/**
 * The consumer side shared by `session.frames()` and `session.packets()`: a FIFO with one
 * waiting `next()`, an end (with or without an error), and `return()` for a consumer that
 * leaves its `for await` loop. What to admit and what to drop on overflow is the subclass's.
 * An item handed out is no longer referenced by the queue (issue #14: consumed frames kept
 * their buffers reachable).
 */
export abstract class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: Array<T | undefined> = []
  private head = 0
  private waiter: { resolve(r: IteratorResult<T>): void; reject(e: unknown): void } | undefined
  private error: unknown
  protected ended = false
  /** The consumer left the loop (break, return, throw): the owner ends its session; return() waits for it. */
  onDetach: (() => void | Promise<void>) | undefined

  /** Items waiting for the consumer. */
  protected get queued(): number {
    return this.items.length - this.head
  }

  /** Give `item` to a consumer waiting in next(); false when none waits (then enqueue it or drop it). */
  protected deliver(item: T): boolean {
    const w = this.waiter
    if (w === undefined) return false
    this.waiter = undefined
    w.resolve({ value: item, done: false })
    return true
  }

  protected enqueue(item: T): void {
    this.items.push(item)
  }

  /** Drop every queued item (overflow or return()). */
  protected clear(): void {
    const drop = this.onDrop
    if (drop !== undefined) {
      for (let i = this.head; i < this.items.length; i++) drop(this.items[i]!)
    }
    this.items.length = 0
    this.head = 0
  }

  /** Called with each item dropped without reaching the consumer (overflow, return(), end of the loop). */
  onDrop: ((item: T) => void) | undefined

  /** An item left the queue for the consumer (bookkeeping such as queued bytes). */
  protected taken(_item: T): void {}

  /** No more items: pending and later next() calls finish (or reject with `error`). */
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

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head]!
      this.items[this.head++] = undefined
      this.taken(value)
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

  async return(): Promise<IteratorResult<T>> {
    this.ended = true
    this.clear()
    const detach = this.onDetach
    this.onDetach = undefined
    await detach?.()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
