import { H265NalType } from '../../codec/h265-nal.js'
import {
  PACKET_OVERHEAD,
  RTP_HEADER_SIZE,
  RtpHeaderWriter,
  checkMtu,
  type InterleavedPackets,
  type PacketizerInput,
  type RtpWriterOptions,
} from '../rtp-header.js'

export interface H265PacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

/**
 * H.265 access units → RTP packets (RFC 7798, sprop-max-don-diff 0). NAL units that fit
 * travel alone or, when several small ones fit together (VPS, SPS, PPS, SEI), in one
 * aggregation packet; larger ones are split into fragmentation units. The last packet of
 * the unit has the marker bit. NAL units shorter than their 2-byte header are skipped.
 */
export class H265Packetizer {
  private readonly w: RtpHeaderWriter
  private readonly mtu: number

  constructor(opts: H265PacketizerOptions) {
    this.w = new RtpHeaderWriter(opts)
    // An FU needs its 3 header bytes and one byte of payload.
    this.mtu = checkMtu(opts.mtu ?? 1400, 4)
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
    // Upper bound: a fragmented NAL loses its 2 header bytes and gains 3 + overhead per
    // fragment; any other NAL costs at most an AP header and length field plus one packet's overhead.
    const chunk = this.mtu - 3
    let bound = 0
    for (const nal of au.data) {
      const n = nal.length
      bound += n > this.mtu ? n - 2 + Math.ceil((n - 2) / chunk) * (3 + PACKET_OVERHEAD) : n + 4 + PACKET_OVERHEAD
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
    let groupSize = 2 // AP payload header
    let i = 0
    for (; i < data.length; i++) {
      const nal = data[i]!
      if (nal.length < 2) continue
      if (nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i + 1
        groupSize = 2
        this.fragment(nal, ts)
        continue
      }
      if (groupSize > 2 && groupSize + 2 + nal.length > this.mtu) {
        this.flushGroup(data, from, i, ts)
        from = i
        groupSize = 2
      }
      groupSize += 2 + nal.length
    }
    this.flushGroup(data, from, i, ts)
    this.w.markLast() // marker: last packet of the access unit (RFC 7798 §4.1)
  }

  /** One packet for the NAL units of 2 bytes or more in data[from..to). */
  private flushGroup(data: readonly Buffer[], from: number, to: number, ts: number): void {
    let count = 0
    let single: Buffer | undefined
    let size = 2
    let f = 0
    let layerId = 63
    let tid = 7
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length < 2) continue
      count++
      single = nal
      size += 2 + nal.length
      // AP (§4.4.2): F is the OR, LayerId and TID the lowest of the aggregated units.
      f |= nal[0]! & 0x80
      layerId = Math.min(layerId, ((nal[0]! & 1) << 5) | (nal[1]! >> 3))
      tid = Math.min(tid, nal[1]! & 7)
    }
    if (count === 0) return
    const w = this.w
    if (count === 1) {
      // Single NAL unit packet (§4.4.1): the NAL unit is the payload.
      const o = w.open(single!.length, false, ts)
      single!.copy(w.buf, o + RTP_HEADER_SIZE)
      return
    }
    const h = w.open(size, false, ts)
    const pkt = w.buf
    let o = h + RTP_HEADER_SIZE
    pkt[o++] = f | (H265NalType.Ap << 1) | (layerId >> 5)
    pkt[o++] = ((layerId & 0x1f) << 3) | tid
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length < 2) continue
      pkt[o] = nal.length >>> 8
      pkt[o + 1] = nal.length & 0xff
      o += 2 + nal.copy(pkt, o + 2)
    }
  }

  /**
   * FU (§4.4.3): the payload header is the NAL header with Type 49; the FU header holds S, E
   * and the original type; the rest of the NAL (after its 2-byte header) is cut into fragments.
   */
  private fragment(nal: Buffer, ts: number): void {
    const w = this.w
    const b0 = (nal[0]! & 0x81) | (H265NalType.Fu << 1)
    const b1 = nal[1]!
    const type = (nal[0]! >> 1) & 0x3f
    const chunk = this.mtu - 3
    for (let off = 2; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length)
      const o = w.open(3 + end - off, false, ts) + RTP_HEADER_SIZE
      const pkt = w.buf
      pkt[o] = b0
      pkt[o + 1] = b1
      pkt[o + 2] = (off === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type
      nal.copy(pkt, o + 3, off, end)
    }
  }
}
