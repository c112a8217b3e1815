import { H264NalType } from '../../codec/h264-nal.js'
import {
  PACKET_OVERHEAD,
  RTP_HEADER_SIZE,
  RtpHeaderWriter,
  checkMtu,
  type InterleavedPackets,
  type PacketizerInput,
  type RtpWriterOptions,
} from '../rtp-header.js'

export interface H264PacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

/**
 * H.264 access units → RTP packets (RFC 6184, packetization mode 1). NAL units that fit
 * travel alone or, when several small ones fit together (SPS, PPS, SEI), in one STAP-A;
 * larger ones are split into FU-A fragments. The last packet of the unit has the marker bit.
 */
export class H264Packetizer {
  private readonly w: RtpHeaderWriter
  private readonly mtu: number

  constructor(opts: H264PacketizerOptions) {
    this.w = new RtpHeaderWriter(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 3)
  }

  /** The sequence number the next packet gets. */
  get sequenceNumber(): number {
    return this.w.sequenceNumber
  }

  /** Whole RTP packets (12-byte header included) for one access unit. */
  packetize(au: PacketizerInput): Buffer[] {
    this.w.startList()
    this.write(au)
    return this.w.finishList()
  }

  /** The same packets, each after its `$` header for `channel` (RFC 2326 §10.12), in one buffer. */
  packetizeInterleaved(au: PacketizerInput, channel: number): InterleavedPackets {
    // Upper bound: a fragmented NAL loses its header byte and gains 2 + overhead per fragment;
    // any other NAL costs at most a STAP-A header and length field plus one packet's overhead.
    const chunk = this.mtu - 2
    let bound = 0
    for (const nal of au.data) {
      const n = nal.length
      bound += n > this.mtu ? n - 1 + Math.ceil((n - 1) / chunk) * (2 + PACKET_OVERHEAD) : n + 3 + PACKET_OVERHEAD
    }
    this.w.startInterleaved(channel, bound)
    this.write(au)
    return this.w.finishInterleaved()
  }

  private write(au: PacketizerInput): void {
    const ts = au.rtpTimestamp
    const data = au.data
    // Small NAL units are gathered as a run data[from..to) and flushed as one packet.
    let from = 0
    let groupSize = 1 // STAP-A NAL header
    let i = 0
    for (; i < data.length; i++) {
      const nal = data[i]!
      if (nal.length === 0) continue
      if (nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i + 1
        groupSize = 1
        this.fragment(nal, ts)
        continue
      }
      if (groupSize > 1 && groupSize + 2 + nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i
        groupSize = 1
      }
      groupSize += 2 + nal.length
    }
    this.flushGroup(data, from, i, ts)
    this.w.markLast() // marker: last packet of the access unit (RFC 6184 §5.1)
  }

  /** One packet for the non-empty NAL units in data[from..to). */
  private flushGroup(data: readonly Buffer[], from: number, to: number, ts: number): void {
    let count = 0
    let single: Buffer | undefined
    let size = 1
    let f = 0
    let nri = 0
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length === 0) continue
      count++
      single = nal
      size += 2 + nal.length
      // STAP-A (§5.7.1): F is the OR and NRI the maximum of the aggregated units.
      f |= nal[0]! & 0x80
      nri = Math.max(nri, nal[0]! & 0x60)
    }
    if (count === 0) return
    const w = this.w
    if (count === 1) {
      // Single NAL unit packet (§5.6): the NAL unit is the payload.
      const o = w.open(single!.length, false, ts)
      single!.copy(w.buf, o + RTP_HEADER_SIZE)
      return
    }
    const h = w.open(size, false, ts)
    const pkt = w.buf
    let o = h + RTP_HEADER_SIZE
    pkt[o++] = f | nri | H264NalType.StapA
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length === 0) continue
      pkt[o] = nal.length >>> 8
      pkt[o + 1] = nal.length & 0xff
      o += 2 + nal.copy(pkt, o + 2)
    }
  }

  /**
   * FU-A (§5.8): the NAL header becomes the FU indicator (F, NRI, type 28) and the FU
   * header (S, E, R=0, original type); the rest of the NAL is cut into fragments.
   */
  private fragment(nal: Buffer, ts: number): void {
    const w = this.w
    const indicator = (nal[0]! & 0xe0) | H264NalType.FuA
    const type = nal[0]! & 0x1f
    const chunk = this.mtu - 2
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length)
      const o = w.open(2 + end - off, false, ts) + RTP_HEADER_SIZE
      const pkt = w.buf
      pkt[o] = indicator
      pkt[o + 1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type
      nal.copy(pkt, o + 2, off, end)
    }
  }
}
