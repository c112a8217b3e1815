/**
 * 16-bit RTP sequence number arithmetic (RFC 3550 §5.1: the number wraps at 2^16; order
 * is decided by the shorter distance around the circle, as in RFC 1982 serial numbers).
 */

/**
 * Signed distance from `b` to `a`, in -32768..32767: positive when `a` comes after `b`
 * (`seqDiff(2, 65535) === 3`), negative when before, 0 when equal.
 */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) ^ 0x8000) - 0x8000
}

/** True when `a` comes before `b` (wrap-aware). */
export function seqLess(a: number, b: number): boolean {
  return seqDiff(a, b) < 0
}

/** `a + n` modulo 2^16 (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff
}
