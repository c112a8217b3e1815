import { InvalidArgumentError } from '../errors.js'
import type { RtpPacket } from '../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from './types.js'

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * The depacketizer of formats where one RTP payload is one access unit and nothing spans
 * packets (G.711, Opus): the unit is a view over the payload, stamped with the packet's
 * timestamp. Empty and oversized payloads are dropped and counted.
 */
export class PacketPerUnitDepacketizer implements Depacketizer {
  private _dropped = 0
  private readonly maxSize: number

  constructor(maxAccessUnitSize: number) {
    if (!Number.isInteger(maxAccessUnitSize) || maxAccessUnitSize <= 0) {
      throw new InvalidArgumentError(`maxAccessUnitSize must be a positive integer, got ${maxAccessUnitSize}`)
    }
    this.maxSize = maxAccessUnitSize
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
