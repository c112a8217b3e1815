import { seqDiff } from './sequence.js'

export interface ReorderOptions {
  /** Packets held while waiting for a missing one. Default 64. */
  maxPackets?: number
  /** Longest a packet waits for an earlier one before the gap is given up. Default 100 ms. */
  maxDelayMs?: number
}

/**
 * Puts UDP packets of one track back in sequence order (RFC 3550 §A.1 sequence arithmetic):
 * a small ring indexed by sequence number, bounded by packet count and by time. A gap is
 * given up (counted as lost) when the ring is full or its oldest packet has waited
 * `maxDelayMs`; duplicates and packets older than what was released are dropped. Holds the
 * received Buffers only: no per-packet allocation.
 */
export class ReorderBuffer {
  /** Packets given up for (never arrived in time). */
  lost = 0
  /** Duplicates and packets that arrived after their turn. */
  discarded = 0
  /** Packets held at most (maxPackets). */
  private readonly capacity: number
  /**
   * Ring length: a power of two above the capacity. 65536 is a multiple of it, so the slot
   * after 65535's is 0's; with any other length `seq % size` jumps at the wrap and two live
   * packets collide in one slot (issue 11).
   */
  private readonly size: number
  private readonly mask: number
  private readonly maxDelayMs: number
  private readonly slots: Array<Buffer | undefined>
  private readonly arrivals: Float64Array
  private next = -1
  private held = 0

  constructor(opts: ReorderOptions = {}) {
    this.capacity = Math.max(1, Math.min(Math.floor(opts.maxPackets ?? 64) || 64, 32766))
    // Room for one packet over capacity (released at once) and the slot of `next`.
    this.size = 2 ** Math.ceil(Math.log2(this.capacity + 2))
    this.mask = this.size - 1
    this.maxDelayMs = opts.maxDelayMs ?? 100
    this.slots = new Array<Buffer | undefined>(this.size)
    this.arrivals = new Float64Array(this.size)
  }

  /** Packets waiting for an earlier one. */
  get waiting(): number {
    return this.held
  }

  /** Feed one packet; everything that is now in order goes to `emit`, oldest first. */
  push(packet: Buffer, sequenceNumber: number, nowMs: number, emit: (packet: Buffer) => void): void {
    if (this.next < 0) {
      this.next = (sequenceNumber + 1) & 0xffff
      emit(packet)
      return
    }
    const d = seqDiff(sequenceNumber, this.next)
    if (d < 0) {
      this.discarded++
      return
    }
    if (d === 0) {
      this.next = (this.next + 1) & 0xffff
      emit(packet)
      this.drain(emit)
      return
    }
    if (d >= this.size) {
      // Far ahead (a long loss or a restart): release what is held and start again from here.
      this.skipAll(emit)
      this.lost += seqDiff(sequenceNumber, this.next)
      this.next = (sequenceNumber + 1) & 0xffff
      emit(packet)
      return
    }
    const i = sequenceNumber & this.mask
    if (this.slots[i] !== undefined) {
      this.discarded++
      return
    }
    this.slots[i] = packet
    this.arrivals[i] = nowMs
    this.held++
    if (this.held > this.capacity) this.skipGap(emit)
  }

  /** Give up gaps whose oldest waiting packet has waited too long. Call from a timer while `waiting` > 0. */
  flushExpired(nowMs: number, emit: (packet: Buffer) => void): void {
    while (this.held > 0) {
      const oldest = this.oldestHeld()
      if (nowMs - this.arrivals[oldest & this.mask]! < this.maxDelayMs) return
      this.skipGap(emit)
    }
  }

  /** Forget everything (a new session or SSRC). */
  reset(): void {
    this.slots.fill(undefined)
    this.held = 0
    this.next = -1
  }

  /** Sequence number of the first held packet after `next`. */
  private oldestHeld(): number {
    let s = this.next
    for (let k = 0; k < this.size; k++, s = (s + 1) & 0xffff) if (this.slots[s & this.mask] !== undefined) return s
    return s
  }

  /** Declare the missing packets before the first held one lost, then release in order. */
  private skipGap(emit: (packet: Buffer) => void): void {
    const first = this.oldestHeld()
    this.lost += seqDiff(first, this.next)
    this.next = first
    this.drain(emit)
  }

  private skipAll(emit: (packet: Buffer) => void): void {
    while (this.held > 0) this.skipGap(emit)
  }

  private drain(emit: (packet: Buffer) => void): void {
    for (;;) {
      const i = this.next & this.mask
      const p = this.slots[i]
      if (p === undefined) return
      this.slots[i] = undefined
      this.held--
      this.next = (this.next + 1) & 0xffff
      emit(p)
    }
  }
}
