import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'
import type { NalCodec } from './codec.js'
import { BufferPool } from '../buffer-pool.js'

export interface NalDepacketizerOptions {
  /** Out-of-band parameter sets (no start codes), in the codec's order; empty ones are ignored. */
  parameterSets: ReadonlyArray<Buffer | undefined>
  /** Put the known parameter sets in front of key frames that lack them: the first one, every one, or never. */
  insertParameterSets: 'first' | 'every' | 'never'
  /** Drop access unit delimiters. */
  stripAud: boolean
  /** Bytes of NAL data in one access unit before it is dropped. Default 8 MiB. */
  maxAccessUnitSize: number | undefined
  /** NAL units in one access unit before it is dropped. Default 1024. */
  maxNalUnits: number | undefined
}

const NONE: readonly AccessUnit[] = Object.freeze([])
const START_CODE = Buffer.from([0, 0, 1])
const EMPTY = Buffer.alloc(0)
/** Bytes in front of a fragmented NAL unit in its buffer: the first fragment's FU indicator lands in the last of them. 8 keeps the unit 8-byte aligned, as pooled units are. */
const LEAD = 8

/**
 * RTP → access units of NAL units, for H.264 (RFC 6184) and H.265 (RFC 7798) alike: single
 * NAL unit packets, aggregation packets and fragmentation units, as described by a NalCodec.
 * One AccessUnit per picture: a unit ends on the marker bit or, for senders that never set
 * it, when the timestamp changes. Never throws on peer data: what cannot be used is dropped
 * and counted in `dropped`. Every NAL unit is copied out of its packet once, into buffers
 * from a BufferPool (`copiesPayload`: the payload may be a view of a read buffer that is
 * reused after `push` returns); `release` takes a unit's buffers back once its consumer is
 * done. H264Depacketizer and H265Depacketizer extend it with their options and
 * parameter-set getters. (Over 400 lines: the per-packet hot path of both
 * codecs, kept in one class so that it stays one monomorphic call site.)
 */
export class NalDepacketizer implements Depacketizer {
  // The codec, copied into fields read on every packet.
  private readonly headerSize: number
  private readonly typeShift: number
  private readonly typeMask: number
  /** Bits of the first header byte that an FU takes from its payload header: all but the type. */
  private readonly keepMask: number
  private readonly aggregation: number
  private readonly fragmentation: number
  private readonly firstReserved: number
  private readonly firstVcl: number
  private readonly lastVcl: number
  private readonly firstKey: number
  private readonly lastKey: number
  private readonly firstSet: number
  private readonly setCount: number
  private readonly aud: number

  private _dropped = 0
  /** Latest parameter sets by slot (type - firstSet). */
  private readonly sets: Array<Buffer | undefined>
  private _parameterSetsVersion = 0
  private readonly insertMode: 'first' | 'every' | 'never'
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
  /** The unit holds a key picture (H.264 IDR, H.265 IRAP). */
  private key = false
  /** Bit per parameter set slot present in the unit: H.264 1 SPS, 2 PPS; H.265 1 VPS, 2 SPS, 4 PPS. */
  private hasSets = 0
  private hasVcl = false

  // The FU being collected: its rebuilt NAL header (-1 when none) and type. Fragments are
  // copied in as they come (a packet's payload may be a view of a reused read buffer): the
  // NAL unit is written at LEAD + its header in `fuBuf`, `fuEnd` is where the next fragment's data goes.
  private fuHeader = -1
  private fuType = 0
  private fuBuf: Buffer = EMPTY
  private fuEnd = 0
  private fuNextSeq = 0
  /** A partial NAL was already counted as dropped: skip fragments until the next start. */
  private fuSkipping = false
  /** Where rebuilt NAL units are carved from. */
  private readonly pool = new BufferPool()
  /**
   * Every NAL unit is searched for embedded Annex B start codes (a camera quirk, below) until
   * two key pictures have gone by without one; from then on only non-slice NAL units and key
   * slices are, where cameras glue units together (parameter sets, SEI and the IDR slice in one
   * packet). A legal NAL unit never holds 00 00 01 (emulation prevention, H.264 §7.4.1,
   * H.265 §7.4.2), and the search read every byte received (~6 % of the CPU at 1 000 sessions).
   * The first start code found makes the search cover everything again, for good.
   */
  private scanAll = true
  private cleanKeyUnits = 0

  constructor(codec: NalCodec, opts: NalDepacketizerOptions) {
    this.headerSize = codec.headerSize
    this.typeShift = codec.typeShift
    this.typeMask = codec.typeMask
    this.keepMask = 0xff & ~(codec.typeMask << codec.typeShift)
    this.aggregation = codec.aggregation
    this.fragmentation = codec.fragmentation
    this.firstReserved = codec.firstReserved
    this.firstVcl = codec.firstVcl
    this.lastVcl = codec.lastVcl
    this.firstKey = codec.firstKey
    this.lastKey = codec.lastKey
    this.firstSet = codec.firstParameterSet
    this.setCount = codec.parameterSetCount
    this.aud = codec.aud
    this.sets = []
    for (let i = 0; i < codec.parameterSetCount; i++) {
      const set = opts.parameterSets[i]
      this.sets.push(set !== undefined && set.length > 0 ? set : undefined)
    }
    this.insertMode = opts.insertParameterSets
    this.stripAud = opts.stripAud
    this.maxSize = positive(opts.maxAccessUnitSize ?? 8 * 1024 * 1024, 'maxAccessUnitSize')
    this.maxNalus = positive(opts.maxNalUnits ?? 1024, 'maxNalUnits')
  }

  /** push() copies what it keeps of a packet's payload. */
  readonly copiesPayload = true

  get dropped(): number {
    return this._dropped
  }

  /** A unit this depacketizer made, which its consumer no longer uses: its buffers are reused. */
  release(data: readonly Buffer[]): void {
    for (let i = 0; i < data.length; i++) this.pool.release(data[i]!)
  }

  /** Increments whenever an in-band parameter set differs from the previous one. */
  get parameterSetsVersion(): number {
    return this._parameterSetsVersion
  }

  /** Latest parameter set of a slot: in-band when the stream carried one, else from the SDP. */
  protected parameterSet(slot: number): Buffer | undefined {
    return this.sets[slot]
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
    this.discardNalus()
    this.clearUnit()
  }

  private parse(packet: RtpPacket): void {
    const p = packet.payload
    if (p.length === 0) return
    if (p.length < this.headerSize) {
      // Shorter than the H.265 payload header.
      this._dropped++
      return
    }
    const type = (p[0]! >> this.typeShift) & this.typeMask
    if (type === this.fragmentation) {
      this.parseFragment(packet)
      return
    }
    // Any other packet type ends an FU-A / FU in progress: its end fragment was lost.
    if (this.fuHeader >= 0) this.dropFragment()
    this.fuSkipping = false
    if (type === this.aggregation) this.parseAggregation(p)
    else if (type < this.aggregation) this.addNal(p)
    // Known but unsupported packet types are dropped, reserved ones ignored (see NalCodec.firstReserved).
    else if (type < this.firstReserved) this._dropped++
  }

  /**
   * STAP-A (RFC 6184 §5.7.1) and aggregation packet (RFC 7798 §4.4.2, without DONL/DOND):
   *  | STAP-A NAL HDR        | NALU 1 size (16) | NALU 1 | NALU 2 size | NALU 2 | ...
   *  | PayloadHdr (Type=48)  | NALU 1 size (16) | NALU 1 | NALU 2 size | NALU 2 | ...
   */
  private parseAggregation(p: Buffer): void {
    let off = this.headerSize
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
   * FU-A (RFC 6184 §5.8) and fragmentation unit (RFC 7798 §4.4.3, without DONL):
   *  | FU indicator: F NRI type=28 | FU header: S E R type    | fragment ...
   *  | PayloadHdr (Type=49)        | FU header: S E FuType(6) | FU payload ...
   */
  private parseFragment(packet: RtpPacket): void {
    const p = packet.payload
    const hs = this.headerSize
    if (p.length < hs + 1) {
      this._dropped++
      return
    }
    const fu = p[hs]!
    const start = (fu & 0x80) !== 0
    const end = (fu & 0x40) !== 0
    const fuType = fu & this.typeMask
    // The NAL header: F and NRI (H.264), or F, LayerId and TID (H.265) from the payload
    // header, the type from the FU header.
    const b0 = (p[0]! & this.keepMask) | (fuType << this.typeShift)
    const header = hs === 1 ? b0 : (b0 << 8) | p[1]!
    const skip = hs + 1
    if (start) {
      if (this.fuHeader >= 0) this.dropFragment()
      this.fuSkipping = false
      if (end) {
        // CostarHD and others send a whole NAL as one FU-A with both S and E set (seen in H.265 too).
        const nal = this.pool.alloc(p.length - 1)
        writeHeader(nal, header, hs)
        p.copy(nal, hs, skip)
        this.addRebuilt(nal)
        return
      }
      // The payload goes in LEAD - 1 bytes in: its FU header lands on the NAL header's last
      // byte (written at the end) and its data right after the header.
      const buf = this.pool.open(LEAD - 1 + p.length)
      buf.set(p, LEAD - 1)
      this.fuBuf = buf
      this.fuEnd = LEAD - 1 + p.length
      this.fuHeader = header
      this.fuType = fuType
      this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
      return
    }
    if (this.fuHeader >= 0 && (packet.sequenceNumber !== this.fuNextSeq || this.fuType !== fuType)) {
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
    const size = this.fuEnd + p.length - skip
    if (this.size + size - LEAD > this.maxSize) {
      this.clearFragment()
      this.fuSkipping = !end
      this.broken = true
      this.discardNalus()
      return
    }
    let buf = this.fuBuf
    if (size > buf.length) buf = this.fuBuf = this.pool.grow(buf, this.fuEnd, size)
    // The whole payload is set skip bytes early, over the tail of the data before it, whose
    // bytes are saved and put back: `Buffer#copy` from an offset makes a view per call
    // (Node 20's `_copyActual`), `set` of the whole payload does not (bench/ingest.ts profile).
    const at = this.fuEnd - skip
    const a = buf[at]!
    const b = buf[at + 1]!
    if (skip === 2) {
      buf.set(p, at)
    } else {
      const c = buf[at + 2]!
      buf.set(p, at)
      buf[at + 2] = c
    }
    buf[at] = a
    buf[at + 1] = b
    this.fuEnd = size
    this.fuNextSeq = (packet.sequenceNumber + 1) & 0xffff
    if (!end) return
    const nal = this.pool.close(buf, size).subarray(LEAD)
    writeHeader(nal, this.fuHeader, hs)
    this.fuHeader = -1
    this.fuBuf = EMPTY
    this.addRebuilt(nal)
  }

  /** A NAL unit rebuilt from an FU, in the pool already. */
  private addRebuilt(nal: Buffer): void {
    if (!this.hasStartCode(nal)) {
      this.addOne(nal)
    } else {
      // Seen in a decode vector: the fragmented NAL unit holds several, with Annex B start
      // codes between them; each is copied apart and the whole given back.
      this.addSplit(nal)
      this.pool.release(nal)
    }
  }

  /** A NAL unit in a packet (single NAL unit packet, aggregated unit): copied into the pool. */
  private addNal(src: Buffer): void {
    if (this.broken) return
    // Some cameras put several NAL units, separated by Annex B start codes, in one NAL unit packet.
    if (this.hasStartCode(src)) this.addSplit(src)
    else this.addOne(this.copy(src, 0, src.length))
  }

  /** An embedded start code, where `scans` says to look; finding one keeps the search on everything for good. */
  private hasStartCode(nal: Buffer): boolean {
    if (!this.scans(nal) || nal.indexOf(START_CODE) === -1) return false
    this.scanAll = true
    this.cleanKeyUnits = -1
    return true
  }

  /** The NAL units between the Annex B start codes of `src`, each copied into the pool. */
  private addSplit(src: Buffer): void {
    if (this.broken) return
    let start = 0
    for (;;) {
      const sc = src.indexOf(START_CODE, start)
      let end = sc === -1 ? src.length : sc
      while (end > start && src[end - 1] === 0) end--
      if (end > start) this.addOne(this.copy(src, start, end))
      if (sc === -1) return
      start = sc + 3
    }
  }

  /** Is this NAL unit searched for embedded start codes (see `scanAll`)? */
  private scans(nal: Buffer): boolean {
    if (this.scanAll || nal.length === 0) return true
    const type = (nal[0]! >> this.typeShift) & this.typeMask
    return type < this.firstVcl || type > this.lastVcl || (type >= this.firstKey && type <= this.lastKey)
  }

  private copy(src: Buffer, start: number, end: number): Buffer {
    const nal = this.pool.alloc(end - start)
    if (start === 0 && end === src.length) nal.set(src)
    else src.copy(nal, 0, start, end)
    return nal
  }

  /** A NAL unit copied into the pool: kept in the unit, or given back. */
  private addOne(nal: Buffer): void {
    if (this.broken) {
      this.pool.release(nal)
      return
    }
    if (nal.length < this.headerSize) {
      // Shorter than the 2-byte H.265 NAL header: no NAL unit at all.
      this._dropped++
      this.pool.release(nal)
      return
    }
    const type = (nal[0]! >> this.typeShift) & this.typeMask
    if (type === this.aud && this.stripAud) {
      this.pool.release(nal)
      return
    }
    if (this.nalus.length >= this.maxNalus || this.size + nal.length > this.maxSize) {
      // Drop the whole unit at its end; free what was collected now.
      this.broken = true
      this.pool.release(nal)
      this.discardNalus()
      return
    }
    const slot = type - this.firstSet
    const isSet = slot >= 0 && slot < this.setCount
    if (this.hasVcl && (type === this.aud || (isSet && this.isKnown(slot, nal)))) {
      // GStreamer's rtph264pay / rtph265pay (config-interval=-1) with multi-slice encoders
      // (x264) repeat the parameter sets before every IDR slice. After the first slice they
      // would start a new access unit (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4) and MPEG-TS
      // demuxers split the picture in two: drop the copies, and any AUD (one per unit is enough).
      this.pool.release(nal)
      return
    }
    if (type >= this.firstKey && type <= this.lastKey) this.key = true
    else if (isSet) {
      this.hasSets |= 1 << slot
      if (!this.isKnown(slot, nal)) {
        // Copied: a view would pin the whole received chunk for the session's lifetime.
        this.sets[slot] = Buffer.from(nal)
        this._parameterSetsVersion++
      }
    }
    if (type >= this.firstVcl && type <= this.lastVcl) this.hasVcl = true
    this.nalus.push(nal)
    this.size += nal.length
  }

  /** A parameter set identical to the current one of its slot. */
  private isKnown(slot: number, nal: Buffer): boolean {
    const known = this.sets[slot]
    return known !== undefined && known.equals(nal)
  }

  private flush(out: AccessUnit[] | undefined): AccessUnit[] | undefined {
    if (this.fuHeader >= 0) this.dropFragment()
    this.fuSkipping = false
    this.open = false
    if (this.broken) {
      this._dropped++
      this.discardNalus()
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
    if (this.key && this.insertMode !== 'never' && !(this.insertMode === 'first' && this.insertedOnce)) {
      this.insertedOnce = true
      // After an access unit delimiter, which must stay first (H.264 §7.4.1.2.3, H.265
      // §7.4.2.4.4); the sets in order (VPS, SPS, PPS), each after any of the earlier ones.
      let at = this.typeOf(data[0]!) === this.aud ? 1 : 0
      for (let i = 0; i < this.setCount; i++) {
        const set = this.sets[i]
        if (this.hasSets & (1 << i)) {
          at = this.afterLast(data, this.firstSet + i, at)
        } else if (set) {
          data.splice(at, 0, set)
          at++
        }
      }
    }
    // Two key pictures without an embedded start code: the search narrows (see scanAll).
    if (this.key && this.scanAll && this.cleanKeyUnits >= 0 && ++this.cleanKeyUnits >= 2) this.scanAll = false
    const unit: AccessUnit = { rtpTimestamp: this.timestamp, data, keyFrame: this.key }
    this.clearUnit()
    if (out) out.push(unit)
    else out = [unit]
    return out
  }

  private typeOf(nal: Buffer): number {
    return (nal[0]! >> this.typeShift) & this.typeMask
  }

  /** The index after the last NAL of `type` at or after `from`, or `from` when there is none. */
  private afterLast(data: readonly Buffer[], type: number, from: number): number {
    for (let i = data.length - 1; i >= from; i--) if (this.typeOf(data[i]!) === type) return i + 1
    return from
  }

  private clearUnit(): void {
    this.nalus = []
    this.size = 0
    this.open = false
    this.broken = false
    this.key = false
    this.hasSets = 0
    this.hasVcl = false
  }

  /** The NAL units collected for a unit that is dropped go back to the pool. */
  private discardNalus(): void {
    const nalus = this.nalus
    for (let i = 0; i < nalus.length; i++) this.pool.release(nalus[i]!)
    this.nalus = []
  }

  private dropFragment(): void {
    this._dropped++
    this.clearFragment()
  }

  private clearFragment(): void {
    if (this.fuHeader >= 0) this.pool.abandon(this.fuBuf)
    this.fuHeader = -1
    this.fuBuf = EMPTY
  }
}

/** The 1- or 2-byte NAL header at the start of a rebuilt NAL unit. */
function writeHeader(nal: Buffer, header: number, size: number): void {
  if (size === 1) {
    nal[0] = header
  } else {
    nal[0] = header >>> 8
    nal[1] = header & 0xff
  }
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${n}`)
  return n
}
