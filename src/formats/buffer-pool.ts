/**
 * Buffers for rebuilt units (NAL units copied out of RTP packets), carved from one slab per
 * depacketizer instead of one ArrayBuffer each. A fresh ArrayBuffer costs a native
 * allocation, its external-memory accounting and later a GC finalization: at 25 frames/s ×
 * 1000 sessions that was the largest single cost of the receive path (bench/scale.ts
 * profile). The slab is small (32 KiB: three pictures of a 2 Mbit/s 25 fps stream) because
 * each session holds its current one.
 *
 * Units are handed back with `release` when a consumer is done with them (PullSession.release):
 * once every unit carved from the current slab is back, the slab is carved again from its
 * start, so a consumer that keeps up allocates nothing. Units larger than half the slab get
 * a buffer of their own; released ones go to a free list shared by every pool of the process
 * (bounded), so a 1080p picture's buffer is reused instead of left to the GC, and no session
 * keeps a large buffer of its own. A unit that is never released is freed by the GC as before.
 *
 * A unit of unknown size (a fragmented NAL unit, RFC 6184 §5.8) is written into an open
 * region (`open`, `grow`, `close`): the rest of the slab first, a larger own buffer when it
 * outgrows that.
 */

/**
 * Released large buffers kept for reuse, shared by all pools: at most this many, and bytes.
 * The bytes cover a whole frame queue (FRAME_QUEUE_MAX_BYTES, 32 MiB) and then some: a
 * consumer slower than the network gets its queue dropped at once (released) and refilled,
 * and a smaller list made the refill allocate what the drop had just let go. Pulling 1080p
 * unpaced (bench/ingest.ts BENCH_UNPACED): 3.7 GB allocated in 8 s and RSS ~190 MB with
 * 16 MiB; 50 MB and a flat 118 MB with 48 MiB. What is on the list is not also queued:
 * the two together stay about one queue's worth.
 */
const FREE_MAX_COUNT = 128
const FREE_MAX_BYTES = 48 * 1024 * 1024
const freeList: ArrayBuffer[] = []
let freeBytes = 0
/** The large buffers pools handed out: only these are taken back. */
const owned = new WeakSet<ArrayBuffer>()

/** A large buffer of at least `size` bytes: the smallest fitting one from the free list, else new. */
function takeLarge(size: number): Buffer {
  let best = -1
  for (let i = 0; i < freeList.length; i++) {
    const len = freeList[i]!.byteLength
    if (len >= size && (best < 0 || len < freeList[best]!.byteLength)) best = i
  }
  if (best >= 0) {
    const ab = freeList[best]!
    freeList[best] = freeList[freeList.length - 1]!
    freeList.pop()
    freeBytes -= ab.byteLength
    return Buffer.from(ab, 0, ab.byteLength)
  }
  const buf = Buffer.allocUnsafeSlow(size)
  owned.add(buf.buffer as ArrayBuffer)
  return buf
}

/** Hand back a large buffer; false when it is not one of ours. */
function giveLarge(ab: ArrayBuffer): boolean {
  if (!owned.has(ab)) return false
  if (freeList.length >= FREE_MAX_COUNT || freeBytes + ab.byteLength > FREE_MAX_BYTES) return true
  if (freeList.includes(ab)) return true // released twice: keep it once
  freeList.push(ab)
  freeBytes += ab.byteLength
  return true
}

export class BufferPool {
  private slab: Buffer | undefined
  private used = 0
  /** Units carved from the current slab and not released (the open region counts as one). */
  private live = 0
  /** Where the open region starts in the slab; -1 when none is open there. */
  private openAt = -1
  /** The size of the last unit that needed a buffer of its own (0 when it fit the slab): the next one is opened at about its size. */
  private hint = 0
  private readonly maxPooled: number

  constructor(private readonly slabSize = 32 * 1024) {
    this.maxPooled = slabSize >>> 1
  }

  /** `size` bytes, not initialized. */
  alloc(size: number): Buffer {
    if (size > this.maxPooled) return takeLarge(size).subarray(0, size)
    const slab = this.room(size)
    const start = this.used
    // 8-byte aligned, as Node's own pool does, so typed-array views over units stay possible.
    this.used = (start + size + 7) & ~7
    this.live++
    return slab.subarray(start, start + size)
  }

  /**
   * Start a unit whose size is not known yet: a buffer of at least `min` bytes to write it
   * into (its length is the room there is). Nothing else may be allocated until `close`.
   */
  open(min: number): Buffer {
    // Pictures of one stream are of similar size: opening at the last one's (+1/8) spares
    // most units a grow (a copy) and the slack it leaves.
    const want = Math.max(min, this.hint + (this.hint >>> 3))
    if (want > this.maxPooled) return takeLarge(want)
    const slab = this.room(min)
    this.openAt = this.used
    this.live++
    return slab.subarray(this.used)
  }

  /** The open unit needs `min` bytes: a larger buffer with its first `length` bytes copied. */
  grow(buf: Buffer, length: number, min: number): Buffer {
    // Half as large again at least, so a unit growing packet by packet is copied O(1) times per byte.
    const next = takeLarge(Math.max(min, buf.length + (buf.length >>> 1), this.maxPooled * 2))
    next.set(length === buf.length ? buf : buf.subarray(0, length))
    if (this.openAt >= 0 && buf.buffer === this.slab!.buffer) {
      // The slab region is given up: the slab keeps what it had before it.
      this.openAt = -1
      this.unref()
    } else {
      giveLarge(buf.buffer as ArrayBuffer)
    }
    return next
  }

  /** The open unit is complete: its first `length` bytes. */
  close(buf: Buffer, length: number): Buffer {
    if (this.openAt >= 0 && buf.buffer === this.slab!.buffer) {
      const start = this.openAt
      this.openAt = -1
      this.used = (start + length + 7) & ~7
      this.hint = 0
      return this.slab!.subarray(start, start + length)
    }
    this.hint = length > this.maxPooled ? length : 0
    return buf.subarray(0, length)
  }

  /** Abandon the open unit (lost fragments). */
  abandon(buf: Buffer): void {
    if (this.openAt >= 0 && buf.buffer === this.slab!.buffer) {
      this.openAt = -1
      this.unref()
    } else {
      giveLarge(buf.buffer as ArrayBuffer)
    }
  }

  /**
   * A unit from `alloc` or `close` that nobody uses any more (each one once). Buffers that
   * are not this pool's current slab nor a large one of any pool are ignored. True when the
   * buffer was taken back.
   */
  release(buf: Buffer): boolean {
    const ab = buf.buffer as ArrayBuffer
    if (this.slab !== undefined && ab === this.slab.buffer) {
      this.unref()
      return true
    }
    return giveLarge(ab)
  }

  private unref(): void {
    // Every unit is back: carve the slab again from its start.
    if (--this.live === 0 && this.openAt < 0) this.used = 0
  }

  /** The current slab when it has `size` bytes left, else a new one. */
  private room(size: number): Buffer {
    let slab = this.slab
    if (slab === undefined || this.used + size > slab.length) {
      slab = this.slab = Buffer.allocUnsafeSlow(this.slabSize)
      this.used = 0
      this.live = 0
    }
    return slab
  }
}
