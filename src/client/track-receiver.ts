// The data plane of one received track, pure: RTP in (a $-frame payload or a UDP datagram)
// → reorder (UDP) → loss detection → depacketize → access units out, and the RTCP sender
// reports of the track. No sockets, no timers: the session feeds it and arms the reorder
// timer; the time of arrival comes in with every packet.
import type { Track } from './track.js'
import type { AccessUnit, Depacketizer, FormatHandler } from '../formats/types.js'
import type { RtpPacket } from '../rtp/packet-types.js'
import { createRtpPacket, parseRtpPacketAt } from '../rtp/packet.js'
import { seqDiff } from '../rtp/sequence.js'
import { ReorderBuffer } from '../rtp/reorder-buffer.js'
import type { ReorderOptions } from '../rtp/reorder-buffer.js'
import { ReceiverStats } from '../rtcp/receiver-stats.js'
import { isRtcp, isRtcpAt, ntpMiddle32, parseRtcpPacket } from '../rtcp/packets.js'
import { BufferPool } from '../formats/buffer-pool.js'

/** Where a receiver's output goes; one object for all tracks (no per-packet closures). */
export interface TrackReceiverSink {
  /** A packet in sequence order, not a duplicate; `packet` is reused for the next one. */
  packet(rx: TrackReceiver, packet: RtpPacket, now: number): void
  /** Packets `expected` up to (not including) `got` never came; the partial unit was dropped. */
  loss(rx: TrackReceiver, expected: number, got: number): void
  /** One access unit the depacketizer completed. */
  unit(rx: TrackReceiver, au: AccessUnit, now: number): void
  /** An RTCP sender report (RFC 3550 §6.4.1): the wall clock and the RTP time of one instant. */
  senderReport(rx: TrackReceiver, unixMs: number, rtpTimestamp: number): void
}

export class TrackReceiver {
  /** One packet object, refilled for every packet: no allocation on the packet path. */
  readonly packet = createRtpPacket()
  readonly stats: ReceiverStats
  readonly depacketizer: Depacketizer
  /** UDP only: puts datagrams back in order. Undefined over TCP or with reordering off. */
  readonly reorder: ReorderBuffer | undefined
  packetsReceived = 0
  bytesReceived = 0
  malformed = 0
  rtcpPacketsReceived = 0
  /** Arrival time of the last RTP packet parsed (duplicates too); 0 before the first. */
  lastPacketAt = 0
  /**
   * `receive` gets views of a read buffer that is reused once it returns (TCP interleaved
   * over a plain socket, RtspConnection.reusesReadBuffer): a depacketizer that keeps views
   * of its payloads gets a copy.
   */
  set transient(reused: boolean) {
    this.copyPayloads = reused && this.depacketizer.copiesPayload !== true
  }
  /** Payloads are copied before the depacketizer sees them (decided once, not per packet). */
  private copyPayloads = false
  /** Where those copies are carved from (undefined until one is needed). */
  private copies: BufferPool | undefined
  private expectedSeq = -1
  /** Arrival time of the datagram the reorder buffer is releasing packets for. */
  private now = 0
  /** Bound once: the reorder buffer's output goes on down the packet path. */
  private readonly emitOrdered = (buf: Buffer): void => this.receive(buf, this.now)
  private readonly handler: Pick<FormatHandler, 'updateDetails'>

  constructor(
    readonly track: Track,
    handler: Pick<FormatHandler, 'createDepacketizer' | 'updateDetails'>,
    private readonly sink: TrackReceiverSink,
    reorder?: ReorderOptions,
  ) {
    this.handler = handler
    this.depacketizer = handler.createDepacketizer()
    this.stats = new ReceiverStats({ clockRate: track.clockRate })
    this.reorder = reorder !== undefined ? new ReorderBuffer(reorder) : undefined
  }

  /** Packets the reorder buffer holds, waiting for an earlier one (the session's timer flushes them). */
  get waiting(): number {
    return this.reorder?.waiting ?? 0
  }

  /** A UDP datagram: RTP version 2 and a whole header, else dropped; then through the reorder buffer. */
  receiveDatagram(buf: Buffer, now: number): void {
    if (buf.length < 12 || buf[0]! >> 6 !== 2) {
      this.malformed++
      return
    }
    const rb = this.reorder
    if (rb === undefined || isRtcp(buf)) return this.receive(buf, now)
    this.now = now
    rb.push(buf, buf.readUInt16BE(2), now, this.emitOrdered)
  }

  /** Give up gaps older than the reorder buffer's delay; returns the packets still waiting. */
  flushExpired(now: number): number {
    const rb = this.reorder
    if (rb === undefined) return 0
    this.now = now
    rb.flushExpired(now, this.emitOrdered)
    return rb.waiting
  }

  /** One RTP packet in order (a $-frame payload over TCP, or what the reorder buffer released). */
  receive(buf: Buffer, now: number): void {
    this.receiveAt(buf, 0, buf.length, now)
  }

  /** `receive` of the packet at `buf[start, end)` (a $-frame as a range of the read buffer: no view of it is made). */
  receiveAt(buf: Buffer, start: number, end: number, now: number): void {
    // RTCP sent where RTP was expected (some cameras send their sender reports on the RTP
    // channel or port): PT 192-223 sits where no RTP stream's marker + payload type does (RFC 5761 §4).
    if (isRtcpAt(buf, start, end)) return this.receiveRtcp(buf.subarray(start, end), now)
    const pkt = this.packet
    if (!parseRtpPacketAt(buf, start, end, pkt)) {
      this.malformed++
      return
    }
    this.lastPacketAt = now
    this.packetsReceived++
    this.bytesReceived += end - start
    this.stats.onRtp(pkt.sequenceNumber, pkt.timestamp, now, pkt.payload.length, pkt.ssrc)
    if (this.expectedSeq >= 0) {
      const d = seqDiff(pkt.sequenceNumber, this.expectedSeq)
      if (d < 0) return // duplicate or late: the unit it belonged to is gone
      if (d > 0) {
        this.depacketizer.reset() // loss: drop the partial unit
        this.sink.loss(this, this.expectedSeq, pkt.sequenceNumber)
      }
    }
    this.expectedSeq = (pkt.sequenceNumber + 1) & 0xffff
    this.sink.packet(this, pkt, now)
    if (this.copyPayloads) {
      const copy = (this.copies ??= new BufferPool()).alloc(pkt.payload.length)
      copy.set(pkt.payload)
      pkt.payload = copy
    }
    const units = this.depacketizer.push(pkt)
    for (let i = 0; i < units.length; i++) this.sink.unit(this, units[i]!, now)
  }

  /** The buffers of a unit this receiver made, which nobody uses any more (PullSession.release). */
  release(data: readonly Buffer[]): void {
    this.depacketizer.release?.(data)
  }

  /** An RTCP compound packet from the server (RFC 3550 §6.1). */
  receiveRtcp(buf: Buffer, now: number): void {
    const packets = parseRtcpPacket(buf)
    if (packets === undefined) return
    this.rtcpPacketsReceived++
    for (const p of packets) {
      if (p.type !== 'sr') continue
      this.stats.onSenderReport(ntpMiddle32(p.ntp), now)
      this.sink.senderReport(this, p.unixMs, p.rtpTimestamp)
    }
  }

  /**
   * In-band codec details of a unit (an SPS with another size, the first JPEG, an LATM
   * config) into the track's details, by the format's own hook. True when they changed.
   */
  updateDetails(au: Pick<AccessUnit, 'data' | 'keyFrame'>): boolean {
    const update = this.handler.updateDetails
    return update !== undefined && update(this.track.details, au, this.depacketizer)
  }
}
