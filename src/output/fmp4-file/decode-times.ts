/**
 * Decode times for a video track whose pictures arrive in decode order with presentation
 * times only (RTP carries the presentation time, RFC 6184 §5.1). With B-frames the decode
 * times must be derived: the i-th picture in decode order is decoded at the i-th smallest
 * presentation time (a closed GOP decodes its pictures at the pace they are shown), and its
 * composition offset (ISO/IEC 14496-12 §8.8.8, trun version 1: signed) is pts - dts.
 *
 *   decode order  I0  P3  B1  B2  P6  B4  B5
 *   dts            0   1   2   3   4   5   6
 *   offset         0  +2  -1  -1  +2  -1  -1
 *
 * The i-th smallest pts needs the pictures that may still be shown earlier: a picture with
 * at most D earlier pictures shown after it (its reorder depth) is covered by a look-ahead
 * of D pictures. D is learnt from the stream: MAX_DEPTH until one GOP was seen (so the
 * first B-frames are not missed), then the deepest reordering seen. A deeper reordering
 * than learnt still yields a valid track (decode times are kept strictly increasing).
 */

/** Look-ahead before the first GOP is known, and the most ever used (x264 b-pyramid: 2..3). */
const MAX_DEPTH = 4
/** Pictures remembered to measure reorder depth. */
const WINDOW = 16

export class DecodeTimes {
  /** Presentation times pushed and not yet taken as a decode time, ascending. */
  private readonly pending: number[] = []
  /** The last WINDOW presentation times in decode order. */
  private readonly recent: number[] = []
  /** Deepest reordering seen; -1 until a GOP has been seen. */
  private depth = -1
  private deepest = 0
  private lastDts = -Infinity
  /** Pictures pushed whose decode time is not yet taken. */
  private waiting = 0

  /** Pictures a decode time waits for: the current look-ahead. */
  get lookAhead(): number {
    return this.depth < 0 ? MAX_DEPTH : this.depth
  }

  /**
   * A picture in decode order (ticks). A key frame closes the previous GOP: pass `keyFrame`
   * and call `drain()` before it. Returns how many decode times can now be taken.
   */
  push(pts: number, keyFrame: boolean): number {
    if (keyFrame && this.recent.length > 0) this.depth = Math.min(MAX_DEPTH, Math.max(this.deepest, this.depth))
    let later = 0
    for (const p of this.recent) if (p > pts) later++
    if (later > this.deepest) {
      this.deepest = later
      if (this.depth >= 0 && later > this.depth) this.depth = Math.min(MAX_DEPTH, later)
    }
    this.recent.push(pts)
    if (this.recent.length > WINDOW) this.recent.shift()
    insertSorted(this.pending, pts)
    this.waiting++
    return Math.max(0, this.waiting - this.lookAhead)
  }

  /** The next decode time (ticks), strictly after the previous one. */
  take(): number {
    const min = this.pending.shift()
    if (min === undefined) throw new Error('DecodeTimes.take() without a pushed picture')
    this.waiting--
    const dts = Math.max(min, this.lastDts + 1)
    this.lastDts = dts
    return dts
  }

  /** Decode times of every picture still waiting (the GOP is over, or the stream). */
  drain(): number[] {
    const out: number[] = []
    while (this.waiting > 0) out.push(this.take())
    return out
  }
}

function insertSorted(a: number[], v: number): void {
  let i = a.length
  while (i > 0 && a[i - 1]! > v) i--
  a.splice(i, 0, v)
}
