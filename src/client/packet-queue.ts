import type { RtpPacket } from '../rtp/packet-types.js'
import type { Track } from './track.js'

/** One RTP packet from `session.packets()`: a copy, safe to keep. */
export interface ReceivedPacket {
  track: Track
  packet: RtpPacket
  /** performance.now() at arrival. */
  receivedAt: number
}

/**
 * The bounded buffer behind `session.packets()`. Live media cannot be paused: when the
 * consumer is `capacity` packets behind, newer packets are dropped and counted (a gap the
 * consumer sees in the sequence numbers) instead of growing memory.
 */
export class PacketQueue implements AsyncIterableIterator<ReceivedPacket> {
  private readonly items: ReceivedPacket[] = []
  private head = 0
  private waiter: { resolve(r: IteratorResult<ReceivedPacket>): void; reject(e: unknown): void } | undefined
  private ended = false
  private error: unknown
  /** Packets dropped because the consumer was too slow. */
  overflowed = 0
  /** The consumer left the loop: the owner ends its session; return() waits for it. */
  onDetach: (() => void | Promise<void>) | undefined

  constructor(private readonly capacity: number) {}

  /** Queue a copy of `packet` (the session's packet object and payload view are reused). */
  push(track: Track, packet: RtpPacket, receivedAt: number): void {
    if (this.ended) return
    const item: ReceivedPacket = {
      track,
      packet: {
        marker: packet.marker,
        payloadType: packet.payloadType,
        sequenceNumber: packet.sequenceNumber,
        timestamp: packet.timestamp,
        ssrc: packet.ssrc,
        payload: Buffer.from(packet.payload),
      },
      receivedAt,
    }
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      w.resolve({ value: item, done: false })
      return
    }
    if (this.items.length - this.head >= this.capacity) {
      this.overflowed++
      return
    }
    this.items.push(item)
  }

  /** No more packets: pending and later next() calls finish (or reject with `error`). */
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

  next(): Promise<IteratorResult<ReceivedPacket>> {
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

  async return(): Promise<IteratorResult<ReceivedPacket>> {
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
