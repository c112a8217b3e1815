import type { RtpPacket } from '../rtp/packet-types.js'

/**
 * One unit that arrives over several RTP packets (an AAC access unit larger than a packet,
 * RFC 3640 §3.2.3; a LATM AudioMuxElement, RFC 6416 §6.1): its fragments share a timestamp
 * and come in consecutive sequence numbers, the marker on the last. Holds views of the
 * payloads and joins them once, at the end. After a lost fragment, `skipRest` makes
 * `skips` drop the rest of that unit without counting it again.
 */
export class FragmentCollector {
  private readonly parts: Buffer[] = []
  /** Bytes collected so far. */
  size = 0
  /** The RTP timestamp of the unit being collected. */
  timestamp = 0
  private nextSeq = 0
  private skipping = false
  private skipTimestamp = 0

  /** A unit is being collected. */
  get active(): boolean {
    return this.parts.length > 0
  }

  /** `packet` is the next fragment of the unit being collected: same timestamp, the next sequence number. */
  follows(packet: RtpPacket): boolean {
    return packet.timestamp === this.timestamp && packet.sequenceNumber === this.nextSeq
  }

  /** Add `data` (a view of `packet`'s payload) as the next fragment; the first one starts the unit. */
  add(packet: RtpPacket, data: Buffer): void {
    if (this.parts.length === 0) this.timestamp = packet.timestamp
    this.parts.push(data)
    this.size += data.length
    this.nextSeq = (packet.sequenceNumber + 1) & 0xffff
  }

  /**
   * The unit's bytes, joined once (a single fragment is returned as is), and the collector
   * emptied. With `length`, the unit is that long: bytes past it are padding.
   */
  take(length?: number): Buffer {
    let out: Buffer
    if (length === undefined) {
      out = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size)
    } else {
      out = Buffer.allocUnsafe(length)
      let o = 0
      for (const part of this.parts) o += part.copy(out, o, 0, Math.min(part.length, length - o))
    }
    this.clear()
    return out
  }

  /** Forget the unit being collected (lost, malformed or too large). */
  clear(): void {
    this.parts.length = 0
    this.size = 0
  }

  /** Skip the rest of the unit with `packet`'s timestamp, unless `packet` is its last. */
  skipRest(packet: RtpPacket): void {
    this.skipping = !packet.marker
    this.skipTimestamp = packet.timestamp
  }

  /** Skip the rest of the unit being collected (`reset()`: its fragments will not come back). */
  skipCurrent(): void {
    this.skipping = true
    this.skipTimestamp = this.timestamp
  }

  /**
   * `packet` belongs to a unit being skipped (and `isFragment` holds of it): drop it. The
   * first packet of another unit ends the skip.
   */
  skips(packet: RtpPacket, isFragment = true): boolean {
    if (!this.skipping) return false
    if (packet.timestamp === this.skipTimestamp && isFragment) {
      this.skipping = !packet.marker
      return true
    }
    this.skipping = false
    return false
  }

  /** Stop skipping. */
  endSkip(): void {
    this.skipping = false
  }
}
