import { H264NalType, nalType } from '../../codec/h264-nal.js'
import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface H264DepacketizerOptions {
  /** SPS from sprop-parameter-sets (no start code). */
  sps?: Buffer
  /** PPS from sprop-parameter-sets (no start code). */
  pps?: Buffer
  /**
   * Put the known SPS/PPS in front of IDR units that lack them: 'first-idr' (default) only
   * the first IDR unit, 'every-idr' each one (handy for raw .h264 output and late joiners).
   */
  insertParameterSets?: 'first-idr' | 'every-idr' | 'never'
  /** Drop access unit delimiters (type 9). Default false. */
  stripAud?: boolean
  /** Bytes of NAL data in one access unit before it is dropped. Default 8 MiB. */
  maxAccessUnitSize?: number
  /** NAL units in one access unit before it is dropped. Default 1024. */
  maxNalUnits?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])
const START_CODE = Buffer.from([0, 0, 1])

/**
 * RTP → H.264 access units (RFC 6184, packetization modes 0 and 1: single NAL unit
 * packets, STAP-A and FU-A). One AccessUnit per picture: a unit ends on the marker bit or,
 * for cameras that never set it, when the timestamp changes. Never throws on peer data:
 * what cannot be used is dropped and counted in `dropped`.
 */
export class H264Depacketizer implements Depacketizer {
  private _dropped = 0
  private _sps: Buffer | undefined
  private _pps: Buffer | undefined
  private _parameterSetsVersion = 0
  private readonly insertMode: 'first-idr' | 'every-idr' | 'never'
  private readonly stripAud: boolean
  private readonly maxSize: number
  private readonly maxNalus: number
  private insertedOnce = false

  // The access unit being collected.
  private nalus: Buffer[] = []
  private size = 0
  private timestamp = 0
  private open = false
  private broken = false
  private idr = false
  private hasSps = false
  private hasPps = false
  private hasVcl = false

  // The FU-A being collected: its NAL header (-1 when none), fragments as views.
  private fuHeader = -1
  private readonly fuParts: Buffer[] = []
  private fuSize = 0
  private fuNextSeq = 0
  /** A partial NAL was already counted as dropped: skip fragments until the next start. */
  private fuSkipping = false

  constructor(opts: H264DepacketizerOptions = {}) {
    this._sps = opts.sps && opts.sps.length > 0 ? opts.sps : undefined
    this._pps = opts.pps && opts.pps.length > 0 ? opts.pps : undefined
    this.insertMode = opts.insertParameterSets ?? 'first-idr'
    this.stripAud = opts.stripAud ?? false
    this.maxSize = positive(opts.maxAccessUnitSize ?? 8 * 1024 * 1024, 'maxAccessUnitSize')
    this.maxNalus = positive(opts.maxNalUnits ?? 1024, 'maxNalUnits')
  }

  get dropped(): number {
    return this._dropped
  }

  /** Latest SPS: in-band when the stream carried one, else from the SDP. */
  get sps(): Buffer | undefined {
    return this._sps
  }

  get pps(): Buffer | undefined {
    return this._pps
  }

  /** Increments whenever an in-band SPS or PPS differs from the previous one. */
  get parameterSetsVersion(): number {
    return this._parameterSetsVersion
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    let out: AccessUnit[] | undefined
    if (this.open && packet.timestamp !== this.timestamp) {
      // The previous unit had no marker bit (many cameras never set it): a new timestamp ends it.
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
    const type = nalType(p[0]!)
    if (type === H264NalType.FuA) {
      this.parseFuA(packet)
      return
    }
    // Any other packet type ends a FU-A in progress: its end fragment was lost.
    if (this.fuHeader >= 0) this.dropFragment()
    this.fuSkipping = false
    if (type === H264NalType.StapA) {
      this.parseStapA(p)
    } else if (type < H264NalType.StapA) {
      this.addNal(p)
    }
    // STAP-B, MTAP16/24 and FU-B belong to the interleaved mode (2), which is not supported;
    // types 30 and 31 are reserved and must be ignored (RFC 6184 §5.2).
    else if (type !== 30 && type !== 31) this._dropped++
  }

  /**
   * STAP-A (RFC 6184 §5.7.1):
   *  | STAP-A NAL HDR | NALU 1 size (16) | NALU 1 | NALU 2 size | NALU 2 | ...
   */
  private parseStapA(p: Buffer): void {
    let off = 1
    while (off + 2 <= p.length) {
      const size = p.readUInt16BE(off)
      off += 2
      // Zero-length entries and trailing zero padding (seen from several encoders) are skipped.
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
   * FU-A (RFC 6184 §5.8):
   *  | FU indicator: F NRI type=28 | FU header: S E R type | fragment ...
   */
  private parseFuA(packet: RtpPacket): void {
    const p = packet.payload
    if (p.length < 2) {
      this._dropped++
      return
    }
    const fu = p[1]!
    const start = (fu & 0x80) !== 0
    const end = (fu & 0x40) !== 0
    const header = (p[0]! & 0xe0) | (fu & 0x1f)
    if (start) {
      if (this.fuHeader >= 0) this.dropFragment()
      this.fuSkipping = false
      if (end) {
        // CostarHD and others send a whole NAL as one FU-A with both S and E set.
        const nal = Buffer.allocUnsafe(p.length - 1)
        nal[0] = header
        p.copy(nal, 1, 2)
        this.addNal(nal)
        return
      }
      this.fuHeader = header
      this.fuParts.push(p.subarray(2))
      this.fuSize = p.length - 2
      this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
      return
    }
    if (this.fuHeader >= 0 && (packet.sequenceNumber !== this.fuNextSeq || (this.fuHeader & 0x1f) !== (fu & 0x1f))) {
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
    this.fuParts.push(p.subarray(2))
    this.fuSize += p.length - 2
    this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
    if (this.size + this.fuSize > this.maxSize) {
      this.clearFragment()
      this.fuSkipping = !end
      this.broken = true
      this.nalus = []
      return
    }
    if (!end) return
    // The one copy of a fragmented NAL: header byte + fragments joined.
    const nal = Buffer.allocUnsafe(1 + this.fuSize)
    nal[0] = this.fuHeader
    let o = 1
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
    const type = nalType(nal[0]!)
    if (type === H264NalType.Aud && this.stripAud) return
    if (this.nalus.length >= this.maxNalus || this.size + nal.length > this.maxSize) {
      // Drop the whole unit at its end; free what was collected now.
      this.broken = true
      this.nalus = []
      return
    }
    if (this.hasVcl && type >= H264NalType.Sps && type <= H264NalType.Aud && this.isRepeat(type, nal)) {
      // GStreamer's rtph264pay (config-interval=-1) with multi-slice x264 repeats SPS/PPS
      // before every IDR slice. After the first slice they would start a new access unit
      // (H.264 §7.4.1.2.3) and MPEG-TS demuxers split the picture in two: drop the copies.
      return
    }
    if (type === H264NalType.IdrSlice) this.idr = true
    else if (type === H264NalType.Sps) {
      this.hasSps = true
      if (!this._sps || !this._sps.equals(nal)) {
        // Copied: a view would pin the whole received chunk for the session's lifetime.
        this._sps = Buffer.from(nal)
        this._parameterSetsVersion++
      }
    } else if (type === H264NalType.Pps) {
      this.hasPps = true
      if (!this._pps || !this._pps.equals(nal)) {
        this._pps = Buffer.from(nal)
        this._parameterSetsVersion++
      }
    }
    if (type >= H264NalType.NonIdrSlice && type <= H264NalType.IdrSlice) this.hasVcl = true
    this.nalus.push(nal)
    this.size += nal.length
  }

  /** An SPS/PPS identical to the current one, or any AUD (one per unit is enough). */
  private isRepeat(type: number, nal: Buffer): boolean {
    if (type === H264NalType.Aud) return true
    const known = type === H264NalType.Sps ? this._sps : this._pps
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
      // Parameter sets or SEI sent with their own timestamp or marker (several cameras do):
      // keep them for the next picture instead of emitting a unit without one.
      return out
    }
    const data = this.nalus
    if (this.idr && this.insertMode !== 'never' && !(this.insertMode === 'first-idr' && this.insertedOnce)) {
      this.insertedOnce = true
      // After an access unit delimiter, which must stay first (H.264 §7.4.1.2.3); the PPS after the SPS.
      const at = nalType(data[0]![0]!) === H264NalType.Aud ? 1 : 0
      if (!this.hasSps && this._sps) data.splice(at, 0, this._sps)
      if (!this.hasPps && this._pps) data.splice(afterLastSps(data, at), 0, this._pps)
    }
    const unit: AccessUnit = { rtpTimestamp: this.timestamp, data, keyFrame: this.idr }
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
    this.idr = false
    this.hasSps = false
    this.hasPps = false
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

function afterLastSps(data: readonly Buffer[], from: number): number {
  for (let i = data.length - 1; i >= from; i--) if (nalType(data[i]![0]!) === H264NalType.Sps) return i + 1
  return from
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${n}`)
  return n
}
