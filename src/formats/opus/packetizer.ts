import { InvalidArgumentError } from '../../errors.js'
import { UnitsPacketizer, unitSize } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'

export interface OpusPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

type Unit = PacketizerInput

/**
 * Opus packets → RTP (RFC 7587 §4.2): one Opus packet per RTP packet, the timestamp on the
 * 48 kHz clock. Opus cannot be fragmented, so a packet larger than the MTU is refused.
 * The marker bit stays clear (it flags the first packet after DTX, which we do not track).
 * Takes one Opus packet or several; empty units are skipped.
 */
export class OpusPacketizer extends UnitsPacketizer {
  private readonly mtu: number

  constructor(opts: OpusPacketizerOptions) {
    super(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 1)
  }

  protected bound(list: readonly Unit[]): number {
    let bound = 0
    for (const unit of list) bound += unitSize(unit)
    return bound + list.length * PACKET_OVERHEAD
  }

  protected write(list: readonly Unit[]): void {
    for (const unit of list) {
      const size = unitSize(unit)
      if (size === 0) continue
      if (size > this.mtu) throw new InvalidArgumentError(`Opus packet of ${size} bytes exceeds the MTU of ${this.mtu}; Opus over RTP cannot be fragmented`)
      let o = this.header.open(size, false, unit.rtpTimestamp) + RTP_HEADER_SIZE
      const pkt = this.header.buf
      for (const part of unit.data) o += part.copy(pkt, o)
    }
  }
}
