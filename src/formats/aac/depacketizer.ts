import { BitReader } from '../../codec/bit-reader.js'
import { InvalidArgumentError, MediaError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import { FragmentCollector } from '../fragments.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface AacDepacketizerOptions {
  /** AU-size bits: 13 for AAC-hbr, 6 for AAC-lbr. */
  sizeLength: number
  /** AU-Index bits of the first AU header: 3 (hbr) or 2 (lbr). */
  indexLength: number
  /** AU-Index-delta bits of the following headers: 3 (hbr) or 2 (lbr). */
  indexDeltaLength: number
  ctsDeltaLength?: number
  dtsDeltaLength?: number
  randomAccessIndication?: boolean
  streamStateIndication?: number
  auxiliaryDataSizeLength?: number
  /** RTP ticks per frame (the timestamp step between AUs of one packet). Default 1024. */
  frameDuration?: number
  /** Largest AU in bytes before it is dropped. Default 256 KiB. */
  maxAccessUnitSize?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → raw AAC frames (RFC 3640 mpeg4-generic, AAC-hbr / AAC-lbr). A packet carries
 *
 *  | AU-headers-length (16) | AU-header 1 | ... | AU-header n | pad | AU 1 | ... | AU n |
 *
 * with AU-header = AU-size | AU-Index (first) or AU-Index-delta (others) | optional fields.
 * An AU larger than one packet is fragmented: each fragment repeats the header with the
 * full size and the marker bit ends the AU (§3.2.3). Never throws on peer data.
 */
export class AacDepacketizer implements Depacketizer {
  private _dropped = 0
  private readonly sizeLength: number
  private readonly indexLength: number
  private readonly indexDeltaLength: number
  private readonly ctsDeltaLength: number
  private readonly dtsDeltaLength: number
  private readonly rapLength: number
  private readonly streamStateLength: number
  private readonly auxLength: number
  private readonly hasHeaders: boolean
  private readonly frameDuration: number
  private readonly maxSize: number
  private readonly reader = new BitReader(Buffer.alloc(0))
  private readonly sizes: number[] = []
  private readonly steps: number[] = []
  private dataOffset = 0

  // The fragmented AU being collected (expected = -1 when none; 0 when no AU headers give its size).
  private expected = -1
  private readonly frag = new FragmentCollector()

  constructor(opts: AacDepacketizerOptions) {
    this.sizeLength = fieldBits(opts.sizeLength, 'sizeLength')
    this.indexLength = fieldBits(opts.indexLength, 'indexLength')
    this.indexDeltaLength = fieldBits(opts.indexDeltaLength, 'indexDeltaLength')
    this.ctsDeltaLength = fieldBits(opts.ctsDeltaLength ?? 0, 'ctsDeltaLength')
    this.dtsDeltaLength = fieldBits(opts.dtsDeltaLength ?? 0, 'dtsDeltaLength')
    this.rapLength = opts.randomAccessIndication ? 1 : 0
    this.streamStateLength = fieldBits(opts.streamStateIndication ?? 0, 'streamStateIndication')
    this.auxLength = fieldBits(opts.auxiliaryDataSizeLength ?? 0, 'auxiliaryDataSizeLength')
    // §3.2.1: with every header field 0 bits there is no AU header section at all.
    this.hasHeaders = this.sizeLength + this.indexLength + this.indexDeltaLength + this.ctsDeltaLength +
      this.dtsDeltaLength + this.rapLength + this.streamStateLength > 0
    const d = opts.frameDuration ?? 1024
    if (!Number.isInteger(d) || d <= 0) throw new InvalidArgumentError(`frameDuration must be a positive integer, got ${d}`)
    this.frameDuration = d
    const max = opts.maxAccessUnitSize ?? 256 * 1024
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError(`maxAccessUnitSize must be a positive integer, got ${max}`)
    this.maxSize = max
  }

  get dropped(): number {
    return this._dropped
  }

  reset(): void {
    if (this.expected >= 0) this.dropFragment()
    this.frag.endSkip()
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    return this.hasHeaders ? this.pushWithHeaders(packet) : this.pushWithoutHeaders(packet)
  }

  private pushWithHeaders(packet: RtpPacket): readonly AccessUnit[] {
    const p = packet.payload
    const count = this.readHeaders(p)
    if (count < 0) {
      if (this.expected >= 0) this.dropFragment()
      this._dropped++
      return NONE
    }
    let off = this.dataOffset
    if (this.expected >= 0) {
      // Continuation of a fragmented AU: same timestamp, next sequence number, one header with the same size.
      const sameAu = count === 1 && this.sizes[0] === this.expected && packet.timestamp === this.frag.timestamp
      if (sameAu && this.frag.follows(packet)) return this.continueFragment(packet, p.subarray(off))
      this.dropFragment()
      if (sameAu) {
        // A fragment went missing: skip the rest of this AU without counting it again.
        this.frag.skipRest(packet)
        return NONE
      }
    }
    // A fragment of an AU being skipped: one header, its AU larger than the packet.
    if (this.frag.skips(packet, count === 1 && off + this.sizes[0]! > p.length)) return NONE
    let out: AccessUnit[] | undefined
    let step = 0
    for (let i = 0; i < count; i++) {
      const size = this.sizes[i]!
      step += this.steps[i]!
      if (off + size <= p.length) {
        if (size > 0) {
          const unit: AccessUnit = {
            rtpTimestamp: (packet.timestamp + step * this.frameDuration) >>> 0,
            data: [p.subarray(off, off + size)],
            keyFrame: true,
          }
          if (out) out.push(unit)
          else out = [unit]
        }
        off += size
      } else if (count === 1 && !packet.marker) {
        if (size <= this.maxSize) {
          // First fragment of an AU larger than the packet.
          this.expected = size
          this.frag.add(packet, p.subarray(off))
        } else {
          this._dropped++
          this.frag.skipRest(packet)
        }
      } else {
        // Truncated AU in a packet of several, or a lone "fragment" that the marker says is the last.
        this._dropped++
        break
      }
    }
    return out ?? NONE
  }

  /**
   * Parse the AU-headers-length and the AU headers (§3.2.1) into sizes / steps and the
   * offset of the first AU into dataOffset. Returns the AU count, -1 when malformed.
   */
  private readHeaders(p: Buffer): number {
    if (p.length < 2) return -1
    const headerBits = p.readUInt16BE(0)
    let off = 2 + ((headerBits + 7) >> 3)
    if (off > p.length) return -1
    const r = this.reader.reset(p.subarray(2, off), headerBits)
    let count = 0
    try {
      while (r.bitsLeft > 0) {
        const before = r.bitsLeft
        this.sizes[count] = r.readBits(this.sizeLength)
        // The first header has AU-Index, the others AU-Index-delta: AU n+1 is index + 1 + delta.
        this.steps[count] = count === 0 ? (r.skipBits(this.indexLength), 0) : 1 + r.readBits(this.indexDeltaLength)
        if (this.ctsDeltaLength > 0 && r.readBool()) r.skipBits(this.ctsDeltaLength)
        if (this.dtsDeltaLength > 0 && r.readBool()) r.skipBits(this.dtsDeltaLength)
        r.skipBits(this.rapLength + this.streamStateLength)
        count++
        // A layout where later headers take 0 bits would never end.
        if (r.bitsLeft === before) return -1
      }
      if (this.auxLength > 0) {
        // Auxiliary section (§3.2.2): its size field, its data, padding to a byte.
        const aux = new BitReader(p.subarray(off))
        const auxBits = aux.readBits(this.auxLength)
        off += (this.auxLength + auxBits + 7) >> 3
        if (off > p.length) return -1
      }
    } catch (err) {
      if (err instanceof MediaError) return -1
      throw err
    }
    if (count === 0) return -1
    this.dataOffset = off
    return count
  }

  private continueFragment(packet: RtpPacket, data: Buffer): readonly AccessUnit[] {
    this.frag.add(packet, data)
    if (this.frag.size < this.expected) {
      if (packet.marker) this.dropFragment() // the last fragment came up short
      return NONE
    }
    // Complete: join the fragments once; bytes past the AU size are padding.
    const unit: AccessUnit = { rtpTimestamp: this.frag.timestamp, data: [this.frag.take(this.expected)], keyFrame: true }
    this.clearFragment()
    return [unit]
  }

  /** No AU header section: a packet holds one AU or one fragment, and the marker ends it. */
  private pushWithoutHeaders(packet: RtpPacket): readonly AccessUnit[] {
    const p = packet.payload
    if (this.expected >= 0 && !this.frag.follows(packet)) this.dropFragment()
    if (this.expected < 0) {
      if (packet.marker) return p.length > 0 ? [{ rtpTimestamp: packet.timestamp, data: [p], keyFrame: true }] : NONE
      this.expected = 0
    }
    this.frag.add(packet, p)
    if (this.frag.size > this.maxSize) {
      this.dropFragment()
      return NONE
    }
    if (!packet.marker) return NONE
    const unit: AccessUnit = { rtpTimestamp: this.frag.timestamp, data: [this.frag.take()], keyFrame: true }
    this.clearFragment()
    return [unit]
  }

  private dropFragment(): void {
    this._dropped++
    this.clearFragment()
  }

  private clearFragment(): void {
    this.expected = -1
    this.frag.clear()
  }
}

function fieldBits(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 32) throw new InvalidArgumentError(`${name} must be an integer 0-32, got ${n}`)
  return n
}
