/**
 * Extends 32-bit RTP timestamps (RFC 3550 §5.1: they wrap at 2^32, every ~13 h at 90 kHz)
 * into a number line that never breaks at the wrap.
 *
 * Each value is placed at the shortest signed 32-bit distance from the previous one, so:
 * - the first timestamp maps to itself (0..2^32-1), not to 0;
 * - a forward step across the wrap continues upward (0xffffff00 → 0x10 gives 2^32 + 0x10);
 * - a small backward step (B-frames, reordering) stays behind the previous value, also
 *   across the wrap, and may go below 0 when the stream starts just after a wrap;
 * - a jump of 2^31 or more is ambiguous and read as the shorter way round.
 * Results are safe integers for millennia at any clock rate RTP uses.
 */
export class TimestampUnwrapper {
  #started = false
  #last32 = 0
  #lastExtended = 0

  /** Extend one 32-bit timestamp (as on the wire, unsigned). No allocation. */
  unwrap(ts32: number): number {
    if (!this.#started) {
      this.#started = true
      this.#last32 = ts32 >>> 0
      this.#lastExtended = this.#last32
      return this.#lastExtended
    }
    // `| 0` turns the modulo-2^32 difference into a signed 32-bit step.
    const step = (ts32 - this.#last32) | 0
    this.#last32 = ts32 >>> 0
    this.#lastExtended += step
    return this.#lastExtended
  }

  /** The last extended value returned, or undefined before the first `unwrap`. */
  get last(): number | undefined {
    return this.#started ? this.#lastExtended : undefined
  }

  /** Forget the history: the next timestamp maps to itself again (new SSRC, seek). */
  reset(): void {
    this.#started = false
    this.#last32 = 0
    this.#lastExtended = 0
  }
}
