import { H265NalType, h265NalType, isH265Irap, isH265ParameterSet, isH265Vcl } from '../../codec/h265-nal.js'
import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface H265DepacketizerOptions {
  /** VPS, SPS and PPS from sprop-vps/sps/pps (no start codes). */
  vps?: Buffer
  sps?: Buffer
  pps?: Buffer
  /**
   * Put the known VPS/SPS/PPS in front of IRAP units that lack them: 'first-irap' (default)
   * only the first, 'every-irap' each one (raw .h265 output, late joiners), or 'never'.
   */
  insertParameterSets?: 'first-irap' | 'every-irap' | 'never'
  /** Bytes of NAL data in one access unit before it is dropped. Default 8 MiB. */
  maxAccessUnitSize?: number
  /** NAL units in one access unit before it is dropped. Default 1024. */
  maxNalUnits?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])
const START_CODE = Buffer.from([0, 0, 1])

/**
 * RTP → H.265 access units (RFC 7798 without DONL, i.e. sprop-max-don-diff 0: single NAL
 * unit packets, aggregation packets and fragmentation units). One AccessUnit per picture: a
 * unit ends on the marker bit or, for senders that never set it, when the timestamp changes.
 * Key frame = IRAP picture (NAL types 16–23). Never throws on peer data: what cannot be used
 * is dropped and counted in `dropped`.
 */
export class H265Depacketizer implements Depacketizer {
  private _dropped = 0
  private _vps: Buffer | undefined
  private _sps: Buffer | undefined
  private _pps: Buffer | undefined
  private _parameterSetsVersion = 0
  private readonly insertMode: 'first-irap' | 'every-irap' | 'never'
  private readonly maxSize: number
  private readonly maxNalus: number
  private insertedOnce = false

  // The access unit being collected.
  private nalus: Buffer[] = []
  private size = 0
  private timestamp = 0
  private open = false
  private broken = false
  private irap = false
  /** Bit per parameter set type present in the unit: 1 VPS, 2 SPS, 4 PPS. */
  private hasSets = 0
  private hasVcl = false

  // The FU being collected: its rebuilt 2-byte NAL header (-1 when none), fragments as views.
  private fuHeader = -1
  private readonly fuParts: Buffer[] = []
  private fuSize = 0
  private fuNextSeq = 0
  /** A partial NAL was already counted as dropped: skip fragments until the next start. */
  private fuSkipping = false

  constructor(opts: H265DepacketizerOptions = {}) {
    this._vps = nonEmpty(opts.vps)
    this._sps = nonEmpty(opts.sps)
    this._pps = nonEmpty(opts.pps)
    this.insertMode = opts.insertParameterSets ?? 'first-irap'
    this.maxSize = positive(opts.maxAccessUnitSize ?? 8 * 1024 * 1024, 'maxAccessUnitSize')
    this.maxNalus = positive(opts.maxNalUnits ?? 1024, 'maxNalUnits')
  }

  get dropped(): number {
    return this._dropped
  }

  /** Latest VPS/SPS/PPS: in-band when the stream carried them, else from the SDP. */
  get vps(): Buffer | undefined {
    return this._vps
  }

  get sps(): Buffer | undefined {
    return this._sps
  }

  get pps(): Buffer | undefined {
    return this._pps
  }

  /** Increments whenever an in-band VPS, SPS or PPS differs from the previous one. */
  get parameterSetsVersion(): number {
    return this._parameterSetsVersion
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    let out: AccessUnit[] | undefined
    if (this.open && packet.timestamp !== this.timestamp) {
      // The previous unit had no marker bit (some cameras never set it): a new timestamp ends it.
      out = this.flush(out)
    }
    if (!this.open) {
      this.open = true
      this.timestamp = packet.timestamp
    }
    this.parse(packet)
    if (packet.marker) out = this.flush(out)
    return out ?? NONE
  }

  reset(): void {
    const partial = this.fuHeader >= 0 || (this.open && (this.nalus.length > 0 || this.broken))
    if (partial) this._dropped++
    this.clearFragment()
    // The unit just counted may go on in fragments whose start is gone: do not count it twice.
    if (partial) this.fuSkipping = true
    this.clearUnit()
  }

  private parse(packet: RtpPacket): void {
    const p = packet.payload
    if (p.length === 0) return
    if (p.length < 2) {
      this._dropped++
      return
    }
    const type = h265NalType(p[0]!)
    if (type === H265NalType.Fu) {
      this.parseFu(packet)
      return
    }
    // Any other packet type ends an FU in progress: its end fragment was lost.
    if (this.fuHeader >= 0) this.dropFragment()
    this.fuSkipping = false
    if (type === H265NalType.Ap) this.parseAp(p)
    else if (type < H265NalType.Ap) this.addNal(p)
    // PACI (50) is not supported; 51–63 are unspecified and must be ignored (RFC 7798 §4.4).
    else if (type === H265NalType.Paci) this._dropped++
  }

  /**
   * Aggregation packet (RFC 7798 §4.4.2), without DONL/DOND:
   *  | PayloadHdr (Type=48) | NALU 1 size (16) | NALU 1 | NALU 2 size | NALU 2 | ...
   */
  private parseAp(p: Buffer): void {
    let off = 2
    while (off + 2 <= p.length) {
      const size = p.readUInt16BE(off)
      off += 2
      // Zero-length entries and trailing zero padding are skipped, as for STAP-A.
      if (size === 0) continue
      if (off + size > p.length) {
        this._dropped++
        return
      }
      this.addNal(p.subarray(off, off + size))
      off += size
    }
  }

  /**
   * Fragmentation unit (RFC 7798 §4.4.3), without DONL:
   *  | PayloadHdr (Type=49) | FU header: S E FuType(6) | FU payload ...
   */
  private parseFu(packet: RtpPacket): void {
    const p = packet.payload
    if (p.length < 3) {
      this._dropped++
      return
    }
    const fu = p[2]!
    const start = (fu & 0x80) !== 0
    const end = (fu & 0x40) !== 0
    const fuType = fu & 0x3f
    // The NAL header: F, LayerId and TID from the payload header, the type from the FU header.
    const header = (((p[0]! & 0x81) | (fuType << 1)) << 8) | p[1]!
    if (start) {
      if (this.fuHeader >= 0) this.dropFragment()
      this.fuSkipping = false
      if (end) {
        // A whole NAL in one FU with both S and E set (the H.264 CostarHD quirk, seen in H.265 too).
        const nal = Buffer.allocUnsafe(p.length - 1)
        nal.writeUInt16BE(header, 0)
        p.copy(nal, 2, 3)
        this.addNal(nal)
        return
      }
      this.fuHeader = header
      this.fuParts.push(p.subarray(3))
      this.fuSize = p.length - 3
      this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
      return
    }
    if (this.fuHeader >= 0 && (packet.sequenceNumber !== this.fuNextSeq || ((this.fuHeader >> 9) & 0x3f) !== fuType)) {
      // A fragment in the middle went missing: the NAL cannot be rebuilt.
      this.dropFragment()
      this.fuSkipping = true
    }
    if (this.fuHeader < 0) {
      // Fragment without its start (joined mid-NAL, or loss): count the NAL once, resync at the next start.
      if (!this.fuSkipping) this._dropped++
      this.fuSkipping = !end
      return
    }
    this.fuParts.push(p.subarray(3))
    this.fuSize += p.length - 3
    this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
    if (this.size + this.fuSize > this.maxSize) {
      this.clearFragment()
      this.fuSkipping = !end
      this.broken = true
      this.nalus = []
      return
    }
    if (!end) return
    // The one copy of a fragmented NAL: 2-byte header + fragments joined.
    const nal = Buffer.allocUnsafe(2 + this.fuSize)
    nal.writeUInt16BE(this.fuHeader, 0)
    let o = 2
    for (const part of this.fuParts) o += part.copy(nal, o)
    this.clearFragment()
    this.addNal(nal)
  }

  private addNal(nal: Buffer): void {
    if (nal.indexOf(START_CODE) !== -1) {
      // Some cameras put several NAL units, separated by Annex B start codes, in one NAL unit packet.
      let start = 0
      for (;;) {
        const sc = nal.indexOf(START_CODE, start)
        let end = sc === -1 ? nal.length : sc
        while (end > start && nal[end - 1] === 0) end--
        if (end > start) this.addOne(nal.subarray(start, end))
        if (sc === -1) return
        start = sc + 3
      }
    }
    this.addOne(nal)
  }

  private addOne(nal: Buffer): void {
    if (this.broken) return
    if (nal.length < 2) {
      // Shorter than the 2-byte NAL header: no NAL unit at all.
      this._dropped++
      return
    }
    const type = h265NalType(nal[0]!)
    if (this.nalus.length >= this.maxNalus || this.size + nal.length > this.maxSize) {
      // Drop the whole unit at its end; free what was collected now.
      this.broken = true
      this.nalus = []
      return
    }
    if (this.hasVcl && (type === H265NalType.Aud || (isH265ParameterSet(type) && this.isKnown(type, nal)))) {
      // Parameter sets repeated between the slices of one picture (rtph265pay config-interval=-1
      // with multi-slice encoders) would start a new access unit (H.265 §7.4.2.4.4): drop the copies.
      return
    }
    if (isH265Irap(type)) this.irap = true
    else if (isH265ParameterSet(type)) {
      this.hasSets |= 1 << (type - H265NalType.Vps)
      if (!this.isKnown(type, nal)) {
        // Copied: a view would pin the whole received chunk for the session's lifetime.
        const copy = Buffer.from(nal)
        if (type === H265NalType.Vps) this._vps = copy
        else if (type === H265NalType.Sps) this._sps = copy
        else this._pps = copy
        this._parameterSetsVersion++
      }
    }
    if (isH265Vcl(type)) this.hasVcl = true
    this.nalus.push(nal)
    this.size += nal.length
  }

  private isKnown(type: number, nal: Buffer): boolean {
    const known = type === H265NalType.Vps ? this._vps : type === H265NalType.Sps ? this._sps : this._pps
    return known !== undefined && known.equals(nal)
  }

  private flush(out: AccessUnit[] | undefined): AccessUnit[] | undefined {
    if (this.fuHeader >= 0) this.dropFragment()
    this.fuSkipping = false
    this.open = false
    if (this.broken) {
      this._dropped++
      this.clearUnit()
      return out
    }
    if (this.nalus.length === 0) return out
    if (!this.hasVcl) {
      // Parameter sets or SEI sent with their own timestamp or marker: keep them for the next picture.
      return out
    }
    const data = this.nalus
    if (this.irap && this.insertMode !== 'never' && !(this.insertMode === 'first-irap' && this.insertedOnce)) {
      this.insertedOnce = true
      // After an access unit delimiter, which must stay first (H.265 §7.4.2.4.4); VPS, SPS, PPS in order.
      let at = h265NalType(data[0]![0]!) === H265NalType.Aud ? 1 : 0
      const sets = [this._vps, this._sps, this._pps]
      for (let i = 0; i < 3; i++) {
        const set = sets[i]
        if (this.hasSets & (1 << i)) {
          at = afterLast(data, H265NalType.Vps + i, at)
        } else if (set) {
          data.splice(at, 0, set)
          at++
        }
      }
    }
    const unit: AccessUnit = { rtpTimestamp: this.timestamp, data, keyFrame: this.irap }
    this.clearUnit()
    if (out) out.push(unit)
    else out = [unit]
    return out
  }

  private clearUnit(): void {
    this.nalus = []
    this.size = 0
    this.open = false
    this.broken = false
    this.irap = false
    this.hasSets = 0
    this.hasVcl = false
  }

  private dropFragment(): void {
    this._dropped++
    this.clearFragment()
  }

  private clearFragment(): void {
    this.fuHeader = -1
    this.fuParts.length = 0
    this.fuSize = 0
  }
}

/** The index after the last NAL of `type` at or after `from`, or `from` when there is none. */
function afterLast(data: readonly Buffer[], type: number, from: number): number {
  for (let i = data.length - 1; i >= from; i--) if (h265NalType(data[i]![0]!) === type) return i + 1
  return from
}

function nonEmpty(b: Buffer | undefined): Buffer | undefined {
  return b !== undefined && b.length > 0 ? b : undefined
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${n}`)
  return n
}
