import { InvalidArgumentError } from '../errors.js'

/** MSB-first bit writer for the small configs we build (AudioSpecificConfig, StreamMuxConfig). */
export class BitWriter {
  private readonly bytes: number[] = []
  private cur = 0
  private n = 0

  /** The low `bits` bits of `value`, most significant first. */
  write(value: number, bits: number): void {
    if (bits > 31) throw new InvalidArgumentError('BitWriter writes at most 31 bits at once')
    for (let i = bits - 1; i >= 0; i--) {
      this.cur = (this.cur << 1) | ((value >>> i) & 1)
      if (++this.n === 8) {
        this.bytes.push(this.cur)
        this.cur = 0
        this.n = 0
      }
    }
  }

  /** The bytes written, the last one padded with zero bits. */
  finish(): Buffer {
    if (this.n > 0) this.bytes.push(this.cur << (8 - this.n))
    return Buffer.from(this.bytes)
  }
}
