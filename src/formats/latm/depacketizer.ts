import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface LatmDepacketizerOptions {
  /** PayloadMux units per AudioMuxElement (StreamMuxConfig numSubFrames + 1). Default 1. */
  subFrames?: number
  /** otherData follows the payloads of an element: stop reading it after the last subframe. */
  otherDataPresent?: boolean
  /** RTP ticks per AAC frame (the timestamp step between subframes). Default 1024. */
  frameDuration?: number
  /** Largest AudioMuxElement in bytes before it is dropped. Default 64 KiB. */
  maxAccessUnitSize?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → raw AAC frames, RFC 6416 MP4A-LATM with cpresent=0 (the StreamMuxConfig is in the
 * SDP). A packet holds one or more AudioMuxElements, or a fragment of one: fragments share
 * the timestamp and the marker bit ends the element (§6.1). An element with one program and
 * one layer is, per subframe:
 *
 *   | PayloadLengthInfo: 0xff ... 0xff, last byte < 0xff (sum = length) | PayloadMux (length bytes) |
 *
 * Frames are views over the packet when an element fits in one. Never throws on peer data:
 * lengths that overrun the element drop the rest of it, counted in `dropped`.
 */
export class LatmDepacketizer implements Depacketizer {
  private _dropped = 0
  private readonly subFrames: number
  private readonly otherDataPresent: boolean
  private readonly frameDuration: number
  private readonly maxSize: number

  // The element being collected across packets.
  private readonly parts: Buffer[] = []
  private collected = 0
  private fragTimestamp = 0
  private fragNextSeq = 0
  /** After a lost fragment: skip the rest of the element with this timestamp. */
  private skipping = false
  private skipTimestamp = 0

  constructor(opts: LatmDepacketizerOptions = {}) {
    const sub = opts.subFrames ?? 1
    if (!Number.isInteger(sub) || sub < 1 || sub > 64) throw new InvalidArgumentError(`subFrames must be an integer 1-64, got ${sub}`)
    const d = opts.frameDuration ?? 1024
    if (!Number.isInteger(d) || d <= 0) throw new InvalidArgumentError(`frameDuration must be a positive integer, got ${d}`)
    const max = opts.maxAccessUnitSize ?? 64 * 1024
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError(`maxAccessUnitSize must be a positive integer, got ${max}`)
    this.subFrames = sub
    this.otherDataPresent = opts.otherDataPresent ?? false
    this.frameDuration = d
    this.maxSize = max
  }

  get dropped(): number {
    return this._dropped
  }

  reset(): void {
    if (this.parts.length > 0) {
      this.skipTimestamp = this.fragTimestamp
      this.skipping = true
      this.drop()
    }
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    let early: readonly AccessUnit[] = NONE
    if (this.parts.length > 0) {
      if (packet.timestamp !== this.fragTimestamp) {
        // Senders that never set the marker bit: a new timestamp ends the element before it.
        early = this.complete()
      } else if (packet.sequenceNumber !== this.fragNextSeq) {
        this.drop()
        this.skipping = !packet.marker
        this.skipTimestamp = packet.timestamp
        return NONE
      }
    } else if (this.skipping) {
      if (packet.timestamp === this.skipTimestamp) {
        this.skipping = !packet.marker
        return NONE
      }
      this.skipping = false
    }
    const p = packet.payload
    if (p.length === 0 && this.parts.length === 0) {
      this._dropped++
      return early
    }
    this.parts.push(p)
    this.collected += p.length
    this.fragTimestamp = packet.timestamp
    this.fragNextSeq = (packet.sequenceNumber + 1) & 0xffff
    if (this.collected > this.maxSize) {
      this.drop()
      this.skipping = !packet.marker
      this.skipTimestamp = packet.timestamp
      return early
    }
    if (!packet.marker) return early
    const units = this.complete()
    if (early.length === 0) return units
    return units.length === 0 ? early : [...early, ...units]
  }

  /** Parse the collected element(s) into frames; malformed ones are counted. */
  private complete(): readonly AccessUnit[] {
    // Join fragments once per element.
    const buf = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.collected)
    const ts = this.fragTimestamp
    this.parts.length = 0
    this.collected = 0
    let out: AccessUnit[] | undefined
    let off = 0
    let k = 0
    while (off < buf.length) {
      for (let i = 0; i < this.subFrames; i++) {
        // PayloadLengthInfo (ISO/IEC 14496-3 §1.7.3, frameLengthType 0)
        let len = 0
        let b: number
        do {
          if (off >= buf.length) return this.malformed(out)
          b = buf[off++]!
          len += b
        } while (b === 255)
        if (off + len > buf.length) return this.malformed(out)
        if (len > 0) {
          const unit: AccessUnit = { rtpTimestamp: (ts + k * this.frameDuration) >>> 0, data: [buf.subarray(off, off + len)], keyFrame: true }
          if (out) out.push(unit)
          else out = [unit]
        }
        off += len
        k++
      }
      // otherData runs to the end of the element; its bits are not ours.
      if (this.otherDataPresent) break
    }
    return out ?? NONE
  }

  private malformed(out: AccessUnit[] | undefined): readonly AccessUnit[] {
    this._dropped++
    return out ?? NONE
  }

  private drop(): void {
    this._dropped++
    this.parts.length = 0
    this.collected = 0
  }
}
