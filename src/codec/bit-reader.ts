import { MediaError } from '../errors.js'

/**
 * MSB-first bit reader over a byte buffer, with the Exp-Golomb codes of H.264 §9.1.
 * Reads past the end throw MediaError (truncated parameter set, short AU header), so
 * callers parse peer data without bounds checks of their own. `reset` lets a hot path
 * reuse one reader instead of allocating per packet.
 */
export class BitReader {
  private buf: Uint8Array
  private pos = 0
  private end = 0

  constructor(buf: Uint8Array, bitLength?: number) {
    this.buf = buf
    this.reset(buf, bitLength)
  }

  /** Point the reader at new bytes; `bitLength` limits it to fewer bits than the buffer holds. */
  reset(buf: Uint8Array, bitLength?: number): this {
    this.buf = buf
    this.pos = 0
    this.end = bitLength === undefined ? buf.length * 8 : Math.min(bitLength, buf.length * 8)
    return this
  }

  /** Bits read so far. */
  get position(): number {
    return this.pos
  }

  get bitsLeft(): number {
    return this.end - this.pos
  }

  readBit(): number {
    if (this.pos >= this.end) this.truncated(1)
    const bit = (this.buf[this.pos >> 3]! >> (7 - (this.pos & 7))) & 1
    this.pos++
    return bit
  }

  readBool(): boolean {
    return this.readBit() === 1
  }

  /** Read n bits (0..32) as an unsigned number. */
  readBits(n: number): number {
    if (n === 0) return 0
    if (n > 32 || n < 0) throw new MediaError(`cannot read ${n} bits at once (at most 32)`)
    if (this.pos + n > this.end) this.truncated(n)
    let value = 0
    for (let left = n; left > 0; ) {
      const bitInByte = this.pos & 7
      const take = Math.min(8 - bitInByte, left)
      const byte = this.buf[this.pos >> 3]!
      const bits = (byte >> (8 - bitInByte - take)) & ((1 << take) - 1)
      // Multiply instead of shifting so 32-bit values stay unsigned.
      value = value * (1 << take) + bits
      this.pos += take
      left -= take
    }
    return value
  }

  skipBits(n: number): void {
    if (this.pos + n > this.end) this.truncated(n)
    this.pos += n
  }

  /** Skip to the next byte boundary. */
  byteAlign(): void {
    this.pos = Math.min(this.end, (this.pos + 7) & ~7)
  }

  /** ue(v): unsigned Exp-Golomb (H.264 §9.1). */
  readUE(): number {
    let zeros = 0
    while (this.readBit() === 0) {
      zeros++
      // 32 leading zeros would exceed 2^32 - 2, the largest value the syntax allows.
      if (zeros > 31) throw new MediaError('invalid Exp-Golomb code (more than 31 leading zero bits)')
    }
    if (zeros === 0) return 0
    return (2 ** zeros - 1) + this.readBits(zeros)
  }

  /** se(v): signed Exp-Golomb (H.264 §9.1.1): 1, -1, 2, -2 ... */
  readSE(): number {
    const k = this.readUE()
    // H.264 §9.1.1, Table 9-3; `0 - x` rather than `-x` so that k = 0 gives 0, not -0.
    return k % 2 === 1 ? (k + 1) / 2 : 0 - k / 2
  }

  private truncated(n: number): never {
    throw new MediaError(`truncated bitstream: needed ${n} bit(s) at bit ${this.pos}, ${this.end - this.pos} left`)
  }
}
