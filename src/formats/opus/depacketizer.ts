import { PacketPerUnitDepacketizer } from '../packet-per-unit.js'

export interface OpusDepacketizerOptions {
  /** Largest Opus packet in bytes before it is dropped. Default 16 KiB (RFC 6716 allows 1275 per frame, 48 frames). */
  maxAccessUnitSize?: number
}

/**
 * RTP → Opus packets (RFC 7587 §4.2): exactly one Opus packet per RTP payload, timestamp at
 * 48 kHz whatever the coded bandwidth. No fragmentation, so nothing spans packets. Empty
 * payloads (a few senders send them for DTX) are dropped and counted.
 */
export class OpusDepacketizer extends PacketPerUnitDepacketizer {
  constructor(opts: OpusDepacketizerOptions = {}) {
    super(opts.maxAccessUnitSize ?? 16 * 1024)
  }
}
