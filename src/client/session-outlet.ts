// The consumer side of a pull session: frames held until someone consumes them, the one
// frames() and the one packets() iterator, and the 'frame' event. The session places frames
// on its timeline and hands them here; this file knows nothing of RTSP.
import { StateError } from '../errors.js'
import type { RtspError } from '../errors.js'
import type { RtpPacket } from '../rtp/packet-types.js'
import { FrameQueue } from './frame-queue.js'
import { PacketQueue } from './packet-queue.js'
import type { ReceivedPacket } from './packet-queue.js'
import type { Frame, Track } from './track.js'

/** What the outlet needs from its session. */
export interface OutletOwner {
  /** Emit 'frame' to the listeners; true when there were any. */
  emitFrame(frame: Frame): boolean
  /** PullSession.release: the frame's buffers go back to its depacketizer. */
  release(frame: Frame): void
  /** Leaving an iterator's loop ends the session (TEARDOWN, sockets, timers). */
  close(): Promise<void>
  /** The error that ended the session; `closed` false while it runs. */
  ended(): { closed: boolean; err: RtspError | undefined }
}

export class SessionOutlet {
  private queue: FrameQueue | undefined
  private packetQueue: PacketQueue | undefined
  /**
   * Frames that arrive before anyone consumes them: cameras write the first packets (the
   * key frame) together with the PLAY reply, before pull() has returned the session. Held,
   * in order, until frames() is called or a 'frame' listener is added; undefined after.
   */
  early: Frame[] | undefined = []

  constructor(
    private readonly owner: OutletOwner,
    /** PullOptions.frameQueueSize: the bound of the held frames and of each queue. */
    private readonly size: number,
  ) {}

  /** A packet for packets(), copied only when someone iterates. */
  packet(track: Track, pkt: RtpPacket, now: number): void {
    if (this.packetQueue !== undefined) this.packetQueue.push(track, pkt, now)
  }

  /** A frame placed on the timeline: held until someone consumes, else to frames() and 'frame'. */
  frame(frame: Frame): void {
    if (this.early !== undefined) {
      // Nobody consumes yet (pull() has not returned): hold, bounded like the frame queue.
      if (this.early.length < this.size) this.early.push(frame)
      return
    }
    this.deliver(frame)
  }

  /** To the 'frame' listeners, then to frames(): listeners first, so that a frame nobody else saw may be released when the queue drops it. */
  private deliver(frame: Frame): void {
    const shared = this.owner.emitFrame(frame)
    if (this.queue !== undefined) {
      if (shared) this.shared.add(frame)
      this.queue.push(frame)
    }
  }

  /**
   * Frames a 'frame' listener saw too. One that only frames() holds goes back to the
   * depacketizer at once when its queue drops it (overflow, the loop left): at Gbit/s rates,
   * with a consumer slower than the network, that was most of the garbage. The shared ones
   * are the set (not the others): with no listener, a frame gets no identity hash and no
   * ephemeron entry (a slow write barrier for every frame, bench/ingest.ts profile).
   */
  private readonly shared = new WeakSet<Frame>()
  private readonly dropped = (frame: Frame): void => {
    if (!this.shared.has(frame)) this.owner.release(frame)
  }

  /** Hand the held frames to the consumer(s), in order; from now on frames go straight out. */
  flushEarly(): void {
    const early = this.early
    if (early === undefined) return
    this.early = undefined
    for (let i = 0; i < early.length; i++) this.deliver(early[i]!)
  }

  /** The session ends: the iterators finish (with `err` when it failed). */
  end(err: RtspError | undefined): void {
    this.queue?.end(err)
    this.packetQueue?.end(err)
  }

  /** The session is released: end, and drop what was held. */
  release(err: RtspError | undefined): void {
    this.end(err)
    this.early = undefined
  }

  /** PullSession.frames(). `video`: the queue drops to the next key frame when full. */
  frames(video: boolean): AsyncIterableIterator<Frame> {
    if (this.queue !== undefined) throw new StateError({ action: 'iterate frames twice', state: 'iterating', allowed: ['not iterating'] })
    const q = new FrameQueue(this.size, video)
    q.onDrop = this.dropped
    // Leaving the loop (break, return, throw) ends the session: TEARDOWN, sockets, timers.
    q.onDetach = () => {
      if (this.queue === q) this.queue = undefined
      return this.owner.close()
    }
    this.queue = q
    // Frames that came with the PLAY reply (or before frames() was called) come first.
    this.flushEarly()
    const { closed, err } = this.owner.ended()
    if (closed) {
      this.queue = undefined
      q.end(err)
    }
    return q
  }

  /** PullSession.packets(). */
  packets(): AsyncIterableIterator<ReceivedPacket> {
    if (this.packetQueue !== undefined) throw new StateError({ action: 'iterate packets twice', state: 'iterating', allowed: ['not iterating'] })
    const q = new PacketQueue(this.size)
    q.onDetach = () => {
      if (this.packetQueue === q) this.packetQueue = undefined
      return this.owner.close()
    }
    const { closed, err } = this.owner.ended()
    if (closed) q.end(err)
    else this.packetQueue = q
    return q
  }
}
