import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface G711DepacketizerOptions {
  /** Largest payload in bytes before it is dropped. Default 64 KiB. */
  maxAccessUnitSize?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → G.711 samples (RFC 3551 §4.5.14): the payload is a run of 8-bit A-law / µ-law
 * samples (interleaved when there are several channels), the timestamp that of the first.
 * One packet is one access unit, a view over the packet. Empty payloads are dropped.
 */
export class G711Depacketizer implements Depacketizer {
  private _dropped = 0
  private readonly maxSize: number

  constructor(opts: G711DepacketizerOptions = {}) {
    const max = opts.maxAccessUnitSize ?? 64 * 1024
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError(`maxAccessUnitSize must be a positive integer, got ${max}`)
    this.maxSize = max
  }

  get dropped(): number {
    return this._dropped
  }

  reset(): void {
    // Nothing spans packets.
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    const p = packet.payload
    if (p.length === 0 || p.length > this.maxSize) {
      this._dropped++
      return NONE
    }
    return [{ rtpTimestamp: packet.timestamp, data: [p], keyFrame: true }]
  }
}
