import type { Frame } from './track.js'
import { AsyncQueue } from './async-queue.js'

/** Bytes of media a FrameQueue holds at most (besides its frame count): ~3 s at 84 Mbit/s. */
export const FRAME_QUEUE_MAX_BYTES = 32 * 1024 * 1024

/**
 * The bounded buffer behind `session.frames()`. Live media cannot be paused, so a consumer
 * that falls behind loses frames instead of growing memory: on overflow (`capacity` frames,
 * or `maxBytes` of media) the queue is emptied and refilled from the next video key frame
 * (a decoder can start there). A frame handed out is no longer referenced by the queue.
 */
export class FrameQueue extends AsyncQueue<Frame> {
  /** Media bytes of the frames queued. */
  private bytes = 0
  private waitForKey = false
  /** Frames discarded because the consumer was too slow. */
  overflowed = 0

  constructor(
    private readonly capacity: number,
    private readonly hasVideo: boolean,
    private readonly maxBytes = FRAME_QUEUE_MAX_BYTES,
  ) {
    super()
  }

  push(frame: Frame): void {
    if (this.ended || this.deliver(frame)) return
    if (this.waitForKey) {
      if (!(frame.keyFrame && frame.track.type === 'video')) {
        this.overflowed++
        this.onDrop?.(frame)
        return
      }
      this.waitForKey = false
    }
    const size = frameBytes(frame)
    const queued = this.queued
    if (queued >= this.capacity || (queued > 0 && this.bytes + size > this.maxBytes)) {
      this.overflowed += queued
      this.clear()
      if (this.hasVideo && !(frame.keyFrame && frame.track.type === 'video')) {
        this.waitForKey = true
        this.overflowed++
        this.onDrop?.(frame)
        return
      }
    }
    this.enqueue(frame)
    this.bytes += size
  }

  protected override clear(): void {
    super.clear()
    this.bytes = 0
  }

  protected override taken(frame: Frame): void {
    this.bytes -= frameBytes(frame)
  }
}

function frameBytes(frame: Frame): number {
  let n = 0
  for (let i = 0; i < frame.data.length; i++) n += frame.data[i]!.length
  return n
}
