import { PacketPerUnitDepacketizer } from '../packet-per-unit.js'

export interface G711DepacketizerOptions {
  /** Largest payload in bytes before it is dropped. Default 64 KiB. */
  maxAccessUnitSize?: number
}

/**
 * RTP → G.711 samples (RFC 3551 §4.5.14): the payload is a run of 8-bit A-law / µ-law
 * samples (interleaved when there are several channels), the timestamp that of the first.
 * One packet is one access unit, a view over the packet. Empty payloads are dropped.
 */
export class G711Depacketizer extends PacketPerUnitDepacketizer {
  constructor(opts: G711DepacketizerOptions = {}) {
    super(opts.maxAccessUnitSize ?? 64 * 1024)
  }
}
