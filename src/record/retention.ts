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

/**
 * Delete what `segmentsToDelete` picks from `finished` (removed from it as they go); a file
 * already gone counts as deleted, one that cannot be removed stays for the next try.
 */
export async function deleteOldSegments(
  unlink: (file: string) => Promise<void>,
  finished: RetainedSegment[],
  policy: RetentionPolicy,
  currentBytes: number,
): Promise<Array<RetainedSegment & { reason: 'keep' | 'max-size' }>> {
  const now = Date.now()
  const deleted: Array<RetainedSegment & { reason: 'keep' | 'max-size' }> = []
  for (const s of segmentsToDelete(finished, policy, now, currentBytes)) {
    try {
      await unlink(s.file)
    } catch (err) {
      if ((err as { code?: unknown } | null)?.code !== 'ENOENT') continue // try again at the next segment
    }
    finished.splice(finished.indexOf(s), 1)
    deleted.push({ ...s, reason: policy.keepS !== undefined && now - s.closedAt > policy.keepS * 1000 ? 'keep' : 'max-size' })
  }
  return deleted
}
