/** Which finished segments retention deletes: pure, so it is tested without a disk. */

export interface RetainedSegment {
  file: string
  bytes: number
  /** Local wall-clock ms when the segment was closed. */
  closedAt: number
}

export interface RetentionPolicy {
  /** Delete segments closed longer ago than this (seconds). */
  keepS?: number
  /** Delete the oldest segments while all of them together exceed this (bytes). */
  maxBytes?: number
}

/**
 * The segments to delete, oldest first. `segments` are the finished ones (oldest first);
 * `currentBytes` is what the segment being written holds: it counts toward maxBytes but is
 * never deleted.
 */
export function segmentsToDelete(segments: readonly RetainedSegment[], policy: RetentionPolicy, now: number, currentBytes = 0): RetainedSegment[] {
  const out: RetainedSegment[] = []
  let total = currentBytes
  for (const s of segments) total += s.bytes
  for (const s of segments) {
    const tooOld = policy.keepS !== undefined && now - s.closedAt > policy.keepS * 1000
    const tooBig = policy.maxBytes !== undefined && total > policy.maxBytes
    if (!tooOld && !tooBig) break
    out.push(s)
    total -= s.bytes
  }
  return out
}
