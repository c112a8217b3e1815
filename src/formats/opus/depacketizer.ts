import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface OpusDepacketizerOptions {
  /** Largest Opus packet in bytes before it is dropped. Default 16 KiB (RFC 6716 allows 1275 per frame, 48 frames). */
  maxAccessUnitSize?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → Opus packets (RFC 7587 §4.2): exactly one Opus packet per RTP payload, timestamp at
 * 48 kHz whatever the coded bandwidth. No fragmentation, so nothing spans packets. Empty
 * payloads (a few senders send them for DTX) are dropped and counted.
 */
export class OpusDepacketizer implements Depacketizer {
  private _dropped = 0
  private readonly maxSize: number

  constructor(opts: OpusDepacketizerOptions = {}) {
    const max = opts.maxAccessUnitSize ?? 16 * 1024
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
