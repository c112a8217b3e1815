import { InvalidArgumentError } from '../../errors.js'
import { RTP_HEADER_SIZE, RtpHeaderWriter, checkMtu, type RtpWriterOptions } from '../rtp-header.js'

export interface OpusPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

interface Unit {
  data: readonly Buffer[]
  rtpTimestamp: number
}

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
    const list: readonly Unit[] = Array.isArray(units) ? units : [units as Unit]
    const out: Buffer[] = []
    for (const unit of list) {
      let size = 0
      for (const part of unit.data) size += part.length
      if (size === 0) continue
      if (size > this.mtu) throw new InvalidArgumentError(`Opus packet of ${size} bytes exceeds the MTU of ${this.mtu}; Opus over RTP cannot be fragmented`)
      const pkt = this.header.allocate(size, false, unit.rtpTimestamp)
      let o = RTP_HEADER_SIZE
      for (const part of unit.data) o += part.copy(pkt, o)
      out.push(pkt)
    }
    return out
  }
}
