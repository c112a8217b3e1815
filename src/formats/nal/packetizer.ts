import { RtpPacketizer } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'
import type { NalCodec } from './codec.js'

export interface NalPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

/**
 * Access units of NAL units → RTP packets, for H.264 (RFC 6184, packetization mode 1) and
 * H.265 (RFC 7798, sprop-max-don-diff 0) alike, as described by a NalCodec. NAL units that
 * fit travel alone or, when several small ones fit together (parameter sets, SEI), in one
 * aggregation packet (STAP-A, AP); larger ones are split into fragmentation units (FU-A,
 * FU). The last packet of the unit has the marker bit. NAL units shorter than their header
 * are skipped. H264Packetizer and H265Packetizer extend it with their codec.
 */
export class NalPacketizer extends RtpPacketizer<PacketizerInput> {
  private readonly mtu: number
  private readonly codec: NalCodec
  private readonly headerSize: number
  private readonly typeShift: number
  private readonly typeMask: number
  /** Bits of the first header byte that an FU keeps from the NAL header: all but the type. */
  private readonly keepMask: number
  private readonly fragmentation: number

  constructor(codec: NalCodec, opts: NalPacketizerOptions) {
    super(opts)
    // An FU-A / FU needs its 2 / 3 header bytes and one byte of payload.
    this.mtu = checkMtu(opts.mtu ?? 1400, codec.headerSize + 2)
    this.codec = codec
    this.headerSize = codec.headerSize
    this.typeShift = codec.typeShift
    this.typeMask = codec.typeMask
    this.keepMask = 0xff & ~(codec.typeMask << codec.typeShift)
    this.fragmentation = codec.fragmentation
  }

  protected prepare(au: PacketizerInput): PacketizerInput {
    return au
  }

  protected bound(au: PacketizerInput): number {
    // Upper bound: a fragmented NAL loses its header and gains an FU's header + overhead per
    // fragment; any other NAL costs at most an aggregation header and length field plus one
    // packet's overhead.
    const hs = this.headerSize
    const fuHeaderSize = hs + 1
    const chunk = this.mtu - fuHeaderSize
    let bound = 0
    for (const nal of au.data) {
      const n = nal.length
      bound += n > this.mtu ? n - hs + Math.ceil((n - hs) / chunk) * (fuHeaderSize + PACKET_OVERHEAD) : n + hs + 2 + PACKET_OVERHEAD
    }
    return bound
  }

  protected write(au: PacketizerInput): void {
    const ts = au.rtpTimestamp
    const data = au.data
    const hs = this.headerSize
    // Small NAL units are gathered as a run data[from..to) and flushed as one packet.
    let from = 0
    let groupSize = hs // aggregation packet header
    let i = 0
    for (; i < data.length; i++) {
      const nal = data[i]!
      if (nal.length < hs) continue
      if (nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i + 1
        groupSize = hs
        this.fragment(nal, ts)
        continue
      }
      if (groupSize > hs && groupSize + 2 + nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i
        groupSize = hs
      }
      groupSize += 2 + nal.length
    }
    this.flushGroup(data, from, i, ts)
    this.header.markLast() // marker: last packet of the access unit (RFC 6184 §5.1, RFC 7798 §4.1)
  }

  /** One packet for the NAL units at least as long as their header in data[from..to). */
  private flushGroup(data: readonly Buffer[], from: number, to: number, ts: number): void {
    const hs = this.headerSize
    let count = 0
    let single: Buffer | undefined
    let size = hs
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length < hs) continue
      count++
      single = nal
      size += 2 + nal.length
    }
    if (count === 0) return
    const w = this.header
    if (count === 1) {
      // Single NAL unit packet (RFC 6184 §5.6, RFC 7798 §4.4.1): the NAL unit is the payload.
      const o = w.open(single!.length, false, ts)
      w.buf.set(single!, o + RTP_HEADER_SIZE)
      return
    }
    // STAP-A (RFC 6184 §5.7.1) or AP (RFC 7798 §4.4.2): payload header, then size + NAL unit each.
    const header = this.codec.aggregationHeader(data, from, to)
    const h = w.open(size, false, ts)
    const pkt = w.buf
    let o = h + RTP_HEADER_SIZE
    if (hs === 2) pkt[o++] = header >>> 8
    pkt[o++] = header & 0xff
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length < hs) continue
      pkt[o] = nal.length >>> 8
      pkt[o + 1] = nal.length & 0xff
      pkt.set(nal, o + 2)
      o += 2 + nal.length
    }
  }

  /**
   * FU-A (RFC 6184 §5.8): the NAL header becomes the FU indicator (F, NRI, type 28) and the
   * FU header (S, E, R=0, original type). FU (RFC 7798 §4.4.3): the payload header is the
   * NAL header with Type 49; the FU header holds S, E and the original type. The rest of the
   * NAL (after its header) is cut into fragments.
   */
  private fragment(nal: Buffer, ts: number): void {
    const w = this.header
    const hs = this.headerSize
    const b0 = (nal[0]! & this.keepMask) | (this.fragmentation << this.typeShift)
    const b1 = nal[1]! // H.265: LayerId and TID, kept
    const type = (nal[0]! >> this.typeShift) & this.typeMask
    const chunk = this.mtu - hs - 1
    // Copied with TypedArray set() from a plain Uint8Array's subarray(), both V8 builtins:
    // Buffer#copy is four JS frames deep (argument checks) that run interpreted, then cost
    // TurboFan a large compile, through the first seconds of every push (issue 14).
    const body = new Uint8Array(nal.buffer, nal.byteOffset, nal.length)
    for (let off = hs; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length)
      const o = w.open(hs + 1 + end - off, false, ts) + RTP_HEADER_SIZE
      const pkt = w.buf
      pkt[o] = b0
      if (hs === 2) pkt[o + 1] = b1
      pkt[o + hs] = (off === hs ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type
      pkt.set(body.subarray(off, end), o + hs + 1)
    }
  }
}
