import type { RtpPacket } from '../rtp/packet-types.js'
import type { Track } from './track.js'
import { AsyncQueue } from './async-queue.js'

/** One RTP packet from `session.packets()`: a copy, safe to keep. */
export interface ReceivedPacket {
  track: Track
  packet: RtpPacket
  /** performance.now() at arrival. */
  receivedAt: number
}

/**
 * The bounded buffer behind `session.packets()`. Live media cannot be paused: when the
 * consumer is `capacity` packets behind, newer packets are dropped and counted (a gap the
 * consumer sees in the sequence numbers) instead of growing memory.
 */
export class PacketQueue extends AsyncQueue<ReceivedPacket> {
  /** Packets dropped because the consumer was too slow. */
  overflowed = 0

  constructor(private readonly capacity: number) {
    super()
  }

  /** Queue a copy of `packet` (the session's packet object and payload view are reused). */
  push(track: Track, packet: RtpPacket, receivedAt: number): void {
    if (this.ended) return
    if (this.queued >= this.capacity) {
      this.overflowed++
      return
    }
    const item: ReceivedPacket = {
      track,
      packet: {
        marker: packet.marker,
        payloadType: packet.payloadType,
        sequenceNumber: packet.sequenceNumber,
        timestamp: packet.timestamp,
        ssrc: packet.ssrc,
        payload: Buffer.from(packet.payload),
      },
      receivedAt,
    }
    if (!this.deliver(item)) this.enqueue(item)
  }
}
