/**
 * Buffers for rebuilt units (joined FU fragments), carved from one slab per depacketizer
 * instead of one ArrayBuffer each. A fresh ArrayBuffer costs a native allocation, its
 * external-memory accounting and later a GC finalization: at 25 frames/s × 1000 sessions that
 * was the largest single cost of the receive path (bench/scale.ts profile). Units larger
 * than half the slab get their own buffer, as before. The slab is small (32 KiB: three
 * pictures of a 2 Mbit/s 25 fps stream) because each session holds its current one. A
 * slab is freed once no unit carved from it is referenced, so a consumer that keeps one
 * unit pins at most one slab of its own session (never another session's: each
 * depacketizer has its own pool).
 */
export class BufferPool {
  private slab: Buffer | undefined
  private used = 0
  private readonly maxPooled: number

  constructor(private readonly slabSize = 32 * 1024) {
    this.maxPooled = slabSize >>> 1
  }

  /** `size` bytes, not initialized. */
  alloc(size: number): Buffer {
    if (size > this.maxPooled) return Buffer.allocUnsafeSlow(size)
    let slab = this.slab
    if (slab === undefined || this.used + size > slab.length) {
      slab = this.slab = Buffer.allocUnsafeSlow(this.slabSize)
      this.used = 0
    }
    const start = this.used
    // 8-byte aligned, as Node's own pool does, so typed-array views over units stay possible.
    this.used = (start + size + 7) & ~7
    return slab.subarray(start, start + size)
  }
}
