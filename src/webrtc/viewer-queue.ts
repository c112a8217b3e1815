import type { LiveFrame } from '../http/live-media.js'

/**
 * One viewer's frames between the path's fan-out (synchronous, must never block) and the
 * viewer's sender. Bounded in bytes: when a viewer falls that far behind, everything queued
 * is dropped and video resumes at the next key frame (the go2rtc / MediaMTX policy), so a
 * slow viewer costs bounded memory and never holds the others back. Pure: no timers.
 */
export class ViewerQueue {
  private frames: LiveFrame[] = []
  private bytes = 0
  /** Video waits for a key frame: at the start and after an overflow. */
  private waitingForKey: boolean
  /** Frames dropped (overflow, or video before the first key frame). */
  dropped = 0
  /** Times the queue overflowed. */
  overflows = 0

  constructor(
    private readonly maxBytes: number,
    private readonly isVideo: (track: number) => boolean,
  ) {
    this.waitingForKey = true
  }

  get length(): number {
    return this.frames.length
  }

  get queuedBytes(): number {
    return this.bytes
  }

  /** Queue a frame; returns false when it was dropped. */
  push(frame: LiveFrame): boolean {
    const video = this.isVideo(frame.track)
    if (video && this.waitingForKey) {
      if (!frame.keyFrame) {
        this.dropped++
        return false
      }
      this.waitingForKey = false
    }
    let size = 0
    for (const part of frame.data) size += part.length
    if (this.bytes + size > this.maxBytes && this.frames.length > 0) {
      this.dropped += this.frames.length
      this.overflows++
      this.frames = []
      this.bytes = 0
      // Video frames after the dropped ones reference them: wait for the next key frame.
      if (video && !frame.keyFrame) {
        this.waitingForKey = true
        this.dropped++
        return false
      }
      if (!video) this.waitingForKey = true
    }
    this.frames.push(frame)
    this.bytes += size
    return true
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  take(): LiveFrame[] {
    const out = this.frames
    this.frames = []
    this.bytes = 0
    return out
  }
}
