import { BitReader } from '../../codec/bit-reader.js'
import { readPayloadBytes, readPayloadLength, readStreamMuxConfig, sameStreamMuxConfig, type StreamMuxConfig } from '../../codec/latm.js'
import { InvalidArgumentError, RtspError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import { FragmentCollector } from '../fragments.js'
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
  /**
   * cpresent=1: every AudioMuxElement starts with useSameStreamMux and, when that is 0, a
   * StreamMuxConfig (RFC 6416 §6.1, ISO/IEC 14496-3 §1.7.3 AudioMuxElement(1)). subFrames,
   * otherDataPresent and frameDuration then come from the latest in-band config.
   */
  muxConfigPresent?: boolean
  /** cpresent=1: the config to use until one arrives in-band (the SDP's `config`, when it has one). */
  config?: StreamMuxConfig
  /** cpresent=1: the RTP clock, to turn an in-band config's frame length into ticks. Default: its sample rate. */
  clockRate?: number
}

/** RTP ticks per AAC frame: the ASC's frame length scaled to the RTP clock (1024 for LC at its own rate). */
export function latmFrameDuration(smc: StreamMuxConfig, clockRate: number): number {
  const { frameLength, sampleRate } = smc.asc
  if (frameLength && sampleRate > 0 && clockRate > 0) {
    const d = Math.round((frameLength * clockRate) / sampleRate)
    if (d > 0) return d
  }
  return 1024
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → raw AAC frames, RFC 6416 MP4A-LATM with cpresent=0 (the StreamMuxConfig is in the
 * SDP) or cpresent=1 (it is in-band; see `muxConfigPresent`). A packet holds one or more AudioMuxElements, or a fragment of one: fragments share
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
  private subFrames: number
  private otherDataPresent: boolean
  private frameDuration: number
  private readonly maxSize: number
  private readonly muxConfigPresent: boolean
  private readonly clockRate: number | undefined
  private config: StreamMuxConfig | undefined
  private readonly reader = new BitReader(Buffer.alloc(0))

  /** The element being collected across packets. */
  private readonly frag = new FragmentCollector()

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
    this.muxConfigPresent = opts.muxConfigPresent ?? false
    this.clockRate = opts.clockRate
    if (opts.config !== undefined) this.useConfig(opts.config)
  }

  get dropped(): number {
    return this._dropped
  }

  /**
   * The StreamMuxConfig in use with cpresent=1: the latest in-band one, else the one given;
   * undefined until one is known. A new object when the stream's config changes.
   */
  get streamMuxConfig(): StreamMuxConfig | undefined {
    return this.config
  }

  private useConfig(smc: StreamMuxConfig): void {
    this.config = smc
    this.subFrames = smc.subFrames
    this.otherDataPresent = smc.otherDataPresent
    this.frameDuration = latmFrameDuration(smc, this.clockRate ?? smc.asc.sampleRate)
  }

  reset(): void {
    if (this.frag.active) {
      this.frag.skipCurrent()
      this.drop()
    }
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    let early: readonly AccessUnit[] = NONE
    const frag = this.frag
    if (frag.active) {
      if (packet.timestamp !== frag.timestamp) {
        // Senders that never set the marker bit: a new timestamp ends the element before it.
        early = this.complete()
      } else if (!frag.follows(packet)) {
        this.drop()
        frag.skipRest(packet)
        return NONE
      }
    } else if (frag.skips(packet)) {
      return NONE
    }
    const p = packet.payload
    if (p.length === 0 && !frag.active) {
      this._dropped++
      return early
    }
    frag.add(packet, p)
    if (frag.size > this.maxSize) {
      this.drop()
      frag.skipRest(packet)
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
    const ts = this.frag.timestamp
    const buf = this.frag.take()
    if (this.muxConfigPresent) return this.completeInBand(buf, ts)
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

  /**
   * AudioMuxElement(1) (ISO/IEC 14496-3 §1.7.3), one or more per element buffer:
   *
   *   useSameStreamMux (1 bit) | [StreamMuxConfig, when 0] | per subframe: PayloadLengthInfo, PayloadMux | [otherData] | byte_align
   *
   * Everything after the first bit is at any bit offset: payloads are copied into place.
   * Elements before the first config cannot be read and are dropped (counted), as are
   * malformed ones; frames before the fault are kept.
   */
  private completeInBand(buf: Buffer, ts: number): readonly AccessUnit[] {
    const r = this.reader.reset(buf)
    let out: AccessUnit[] | undefined
    let k = 0
    try {
      while (r.bitsLeft >= 8) {
        if (!r.readBool()) {
          const smc = readStreamMuxConfig(r, buf, true)
          // A repeat of the config in use keeps the object (and saves the work that follows a change).
          if (this.config === undefined || !sameStreamMuxConfig(this.config, smc)) this.useConfig(smc)
        }
        const c = this.config
        // Without a config the payload lengths cannot be found; with several chunks per layer
        // (allStreamsSameTimeFraming 0) they are laid out differently: not read.
        if (c === undefined || !c.allStreamsSameTimeFraming) return this.malformed(out)
        for (let i = 0; i < this.subFrames; i++) {
          const len = readPayloadLength(r)
          const data = readPayloadBytes(r, buf, len)
          if (len > 0) {
            const unit: AccessUnit = { rtpTimestamp: (ts + k * this.frameDuration) >>> 0, data: [data], keyFrame: true }
            if (out) out.push(unit)
            else out = [unit]
          }
          k++
        }
        // otherData runs to the end of the element; its bits are not ours.
        if (this.otherDataPresent) break
        r.byteAlign()
      }
    } catch (err) {
      if (err instanceof RtspError) return this.malformed(out)
      throw err
    }
    return out ?? NONE
  }

  private malformed(out: AccessUnit[] | undefined): readonly AccessUnit[] {
    this._dropped++
    return out ?? NONE
  }

  private drop(): void {
    this._dropped++
    this.frag.clear()
  }
}
