import { InvalidArgumentError } from '../../errors.js'
import {
  PACKET_OVERHEAD,
  RTP_HEADER_SIZE,
  RtpHeaderWriter,
  checkMtu,
  type InterleavedPackets,
  type PacketizerInput,
  type RtpWriterOptions,
} from '../rtp-header.js'

export interface OpusPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

type Unit = PacketizerInput

/**
 * Opus packets → RTP (RFC 7587 §4.2): one Opus packet per RTP packet, the timestamp on the
 * 48 kHz clock. Opus cannot be fragmented, so a packet larger than the MTU is refused.
 * The marker bit stays clear (it flags the first packet after DTX, which we do not track).
 */
export class OpusPacketizer {
  private readonly header: RtpHeaderWriter
  private readonly mtu: number

  constructor(opts: OpusPacketizerOptions) {
    this.header = new RtpHeaderWriter(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 1)
  }

  /** The sequence number the next packet gets. */
  get sequenceNumber(): number {
    return this.header.sequenceNumber
  }

  /** Whole RTP packets (12-byte header included), one per Opus packet; empty units are skipped. */
  packetize(units: Unit | readonly Unit[]): Buffer[] {
    this.header.startList()
    this.write(Array.isArray(units) ? units : [units as Unit])
    return this.header.finishList()
  }

  /** The same packets, each after its `$` header for `channel` (RFC 2326 §10.12), in one buffer. */
  packetizeInterleaved(units: Unit | readonly Unit[], channel: number): InterleavedPackets {
    const list: readonly Unit[] = Array.isArray(units) ? units : [units as Unit]
    let bound = 0
    for (const unit of list) for (const part of unit.data) bound += part.length
    this.header.startInterleaved(channel, bound + list.length * PACKET_OVERHEAD)
    this.write(list)
    return this.header.finishInterleaved()
  }

  private write(list: readonly Unit[]): void {
    for (const unit of list) {
      let size = 0
      for (const part of unit.data) size += part.length
      if (size === 0) continue
      if (size > this.mtu) throw new InvalidArgumentError(`Opus packet of ${size} bytes exceeds the MTU of ${this.mtu}; Opus over RTP cannot be fragmented`)
      let o = this.header.open(size, false, unit.rtpTimestamp) + RTP_HEADER_SIZE
      const pkt = this.header.buf
      for (const part of unit.data) o += part.copy(pkt, o)
    }
  }
}
