import { H265NalType } from '../../codec/h265-nal.js'
import { RTP_HEADER_SIZE, RtpHeaderWriter, checkMtu, type RtpWriterOptions } from '../rtp-header.js'

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
  private readonly header: RtpHeaderWriter
  private readonly mtu: number

  constructor(opts: H265PacketizerOptions) {
    this.header = new RtpHeaderWriter(opts)
    // An FU needs its 3 header bytes and one byte of payload.
    this.mtu = checkMtu(opts.mtu ?? 1400, 4)
  }

  /** The sequence number the next packet gets. */
  get sequenceNumber(): number {
    return this.header.sequenceNumber
  }

  /** Whole RTP packets (12-byte header included) for one access unit. */
  packetize(au: { data: readonly Buffer[]; rtpTimestamp: number }): Buffer[] {
    const out: Buffer[] = []
    const ts = au.rtpTimestamp
    let group: Buffer[] = []
    let groupSize = 2 // AP payload header
    for (const nal of au.data) {
      if (nal.length < 2) continue
      if (nal.length > this.mtu) {
        this.flushGroup(out, group, ts)
        group = []
        groupSize = 2
        this.fragment(out, nal, ts)
        continue
      }
      if (group.length > 0 && groupSize + 2 + nal.length > this.mtu) {
        this.flushGroup(out, group, ts)
        group = []
        groupSize = 2
      }
      group.push(nal)
      groupSize += 2 + nal.length
    }
    this.flushGroup(out, group, ts)
    const last = out[out.length - 1]
    if (last) last[1]! |= 0x80 // marker: last packet of the access unit (RFC 7798 §4.1)
    return out
  }

  private flushGroup(out: Buffer[], group: readonly Buffer[], ts: number): void {
    if (group.length === 0) return
    if (group.length === 1) {
      // Single NAL unit packet (§4.4.1): the NAL unit is the payload.
      const nal = group[0]!
      const pkt = this.header.allocate(nal.length, false, ts)
      nal.copy(pkt, RTP_HEADER_SIZE)
      out.push(pkt)
      return
    }
    // AP (§4.4.2): F is the OR, LayerId and TID the lowest of the aggregated units.
    let size = 2
    let f = 0
    let layerId = 63
    let tid = 7
    for (const nal of group) {
      size += 2 + nal.length
      f |= nal[0]! & 0x80
      layerId = Math.min(layerId, ((nal[0]! & 1) << 5) | (nal[1]! >> 3))
      tid = Math.min(tid, nal[1]! & 7)
    }
    const pkt = this.header.allocate(size, false, ts)
    let o = RTP_HEADER_SIZE
    pkt[o++] = f | (H265NalType.Ap << 1) | (layerId >> 5)
    pkt[o++] = ((layerId & 0x1f) << 3) | tid
    for (const nal of group) {
      pkt.writeUInt16BE(nal.length, o)
      o += 2 + nal.copy(pkt, o + 2)
    }
    out.push(pkt)
  }

  /**
   * FU (§4.4.3): the payload header is the NAL header with Type 49; the FU header holds S, E
   * and the original type; the rest of the NAL (after its 2-byte header) is cut into fragments.
   */
  private fragment(out: Buffer[], nal: Buffer, ts: number): void {
    const b0 = (nal[0]! & 0x81) | (H265NalType.Fu << 1)
    const b1 = nal[1]!
    const type = (nal[0]! >> 1) & 0x3f
    const chunk = this.mtu - 3
    for (let off = 2; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length)
      const pkt = this.header.allocate(3 + end - off, false, ts)
      pkt[RTP_HEADER_SIZE] = b0
      pkt[RTP_HEADER_SIZE + 1] = b1
      pkt[RTP_HEADER_SIZE + 2] = (off === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type
      nal.copy(pkt, RTP_HEADER_SIZE + 3, off, end)
      out.push(pkt)
    }
  }
}
