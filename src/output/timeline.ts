/**
 * Where a recording starts and which timestamps it accepts, shared by every recorder:
 *
 * - With a video track, the recording starts at its first key frame (a decoder can do nothing
 *   with what comes before); earlier frames of every track are dropped.
 * - The first written frame's pts becomes 0; every track is shifted by the same origin, so
 *   audio and video stay in sync.
 * - Per track, timestamps never go backwards in the output. Audio must strictly increase.
 *   Video may reorder inside a GOP (B-frames), but a key frame must come after every earlier
 *   picture and a picture after the previous GOP; a key frame that fails this is dropped with
 *   its whole GOP, whose pictures reference it. (Muxers such as mediabunny reject the rest.)
 */
import { InvalidArgumentError } from '../errors.js'
import type { RecorderDropCounts, RecorderFrame } from './types.js'

/** What a track is to the timeline: a video track (waits for key frames), audio, or not recorded. */
export type TimelineTrackKind = 'video' | 'audio' | 'off'

export const DROPPED = -1

export class Timeline {
  /** Input pts of the first written frame; undefined until the recording starts. */
  origin: number | undefined
  /** Newest input pts written on any track. */
  newest = -Infinity
  readonly dropped: RecorderDropCounts = { beforeStart: 0, backwards: 0, ignored: 0 }

  private readonly kinds: TimelineTrackKind[]
  private readonly primaryVideo: number
  /** Audio: last pts; video: largest pts so far. NaN before the track's first frame. */
  private readonly last: Float64Array
  /** Video: largest pts before the current GOP's key frame. */
  private readonly maxBeforeKey: Float64Array
  /** Video: waiting for a key frame (the first one, or after a key frame was dropped). */
  private readonly waitKey: Uint8Array

  /** `primaryVideo`: the track whose first key frame starts the recording, or -1 for none. */
  constructor(kinds: readonly TimelineTrackKind[], primaryVideo: number) {
    this.kinds = [...kinds]
    this.primaryVideo = primaryVideo
    this.last = new Float64Array(kinds.length).fill(Number.NaN)
    this.maxBeforeKey = new Float64Array(kinds.length).fill(-Infinity)
    this.waitKey = Uint8Array.from(kinds, (k) => (k === 'video' ? 1 : 0))
  }

  get started(): boolean {
    return this.origin !== undefined
  }

  /** Stop recording a track: its later frames count as ignored. */
  disable(track: number): void {
    this.kinds[track] = 'off'
  }

  isEnabled(track: number): boolean {
    const k = this.kinds[track]
    return k !== undefined && k !== 'off'
  }

  /** Largest pts written on a track, or NaN before its first frame. */
  lastPts(track: number): number {
    return this.last[track] ?? Number.NaN
  }

  /**
   * Would `admit` write this frame, leaving the timeline as it is? Lets a recorder skip work
   * (parameter set lookup) for frames about to be dropped before the start.
   */
  wouldStartWith(track: number, keyFrame: boolean): boolean {
    return this.origin !== undefined || this.primaryVideo < 0 || (track === this.primaryVideo && keyFrame)
  }

  /** The output pts (seconds from the origin) of a frame, or DROPPED (counted) when it is not written. */
  admit(track: number, pts: number, keyFrame: boolean): number {
    const kind = this.kinds[track]
    if (kind === undefined || kind === 'off') {
      this.dropped.ignored++
      return DROPPED
    }
    if (this.origin === undefined) {
      if (!this.wouldStartWith(track, keyFrame)) {
        this.dropped.beforeStart++
        return DROPPED
      }
      this.origin = pts
    }
    if (pts < this.origin) {
      // Audio captured before the first key frame that arrives after it.
      this.dropped.beforeStart++
      return DROPPED
    }
    const last = this.last[track]!
    const seen = !Number.isNaN(last)
    if (kind === 'video') {
      if (keyFrame) {
        if (seen && pts <= last) {
          this.dropped.backwards++
          this.waitKey[track] = 1
          return DROPPED
        }
        this.maxBeforeKey[track] = seen ? last : -Infinity
        this.waitKey[track] = 0
      } else if (this.waitKey[track] === 1) {
        if (seen) this.dropped.backwards++
        else this.dropped.beforeStart++
        return DROPPED
      } else if (pts <= this.maxBeforeKey[track]!) {
        this.dropped.backwards++
        return DROPPED
      }
      if (!seen || pts > last) this.last[track] = pts
    } else {
      if (seen && pts <= last) {
        this.dropped.backwards++
        return DROPPED
      }
      this.last[track] = pts
    }
    if (pts > this.newest) this.newest = pts
    return pts - this.origin
  }
}

/** An InvalidArgumentError for a frame no recorder can take, or undefined. */
export function checkFrame(frame: RecorderFrame, trackCount: number): InvalidArgumentError | undefined {
  if (!Number.isInteger(frame.trackIndex) || frame.trackIndex < 0 || frame.trackIndex >= trackCount) {
    return new InvalidArgumentError(`frame for track ${frame.trackIndex}, but the recorder has tracks 0..${trackCount - 1}`)
  }
  if (!Number.isFinite(frame.pts)) return new InvalidArgumentError(`frame pts must be a finite number of seconds, not ${frame.pts}`)
  return undefined
}
