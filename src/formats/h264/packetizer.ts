import { H264NalType } from '../../codec/h264-nal.js'
import { RTP_HEADER_SIZE, RtpHeaderWriter, checkMtu, type RtpWriterOptions } from '../rtp-header.js'

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
  private readonly header: RtpHeaderWriter
  private readonly mtu: number

  constructor(opts: H264PacketizerOptions) {
    this.header = new RtpHeaderWriter(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 3)
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
    let groupSize = 1 // STAP-A NAL header
    for (const nal of au.data) {
      if (nal.length === 0) continue
      if (nal.length > this.mtu) {
        this.flushGroup(out, group, ts)
        group = []
        groupSize = 1
        this.fragment(out, nal, ts)
        continue
      }
      if (group.length > 0 && groupSize + 2 + nal.length > this.mtu) {
        this.flushGroup(out, group, ts)
        group = []
        groupSize = 1
      }
      group.push(nal)
      groupSize += 2 + nal.length
    }
    this.flushGroup(out, group, ts)
    const last = out[out.length - 1]
    if (last) last[1]! |= 0x80 // marker: last packet of the access unit (RFC 6184 §5.1)
    return out
  }

  private flushGroup(out: Buffer[], group: readonly Buffer[], ts: number): void {
    if (group.length === 0) return
    if (group.length === 1) {
      // Single NAL unit packet (§5.6): the NAL unit is the payload.
      const nal = group[0]!
      const pkt = this.header.allocate(nal.length, false, ts)
      nal.copy(pkt, RTP_HEADER_SIZE)
      out.push(pkt)
      return
    }
    // STAP-A (§5.7.1): F is the OR and NRI the maximum of the aggregated units.
    let size = 1
    let f = 0
    let nri = 0
    for (const nal of group) {
      size += 2 + nal.length
      f |= nal[0]! & 0x80
      nri = Math.max(nri, nal[0]! & 0x60)
    }
    const pkt = this.header.allocate(size, false, ts)
    let o = RTP_HEADER_SIZE
    pkt[o++] = f | nri | H264NalType.StapA
    for (const nal of group) {
      pkt.writeUInt16BE(nal.length, o)
      o += 2 + nal.copy(pkt, o + 2)
    }
    out.push(pkt)
  }

  /**
   * FU-A (§5.8): the NAL header becomes the FU indicator (F, NRI, type 28) and the FU
   * header (S, E, R=0, original type); the rest of the NAL is cut into fragments.
   */
  private fragment(out: Buffer[], nal: Buffer, ts: number): void {
    const indicator = (nal[0]! & 0xe0) | H264NalType.FuA
    const type = nal[0]! & 0x1f
    const chunk = this.mtu - 2
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length)
      const pkt = this.header.allocate(2 + end - off, false, ts)
      pkt[RTP_HEADER_SIZE] = indicator
      pkt[RTP_HEADER_SIZE + 1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type
      nal.copy(pkt, RTP_HEADER_SIZE + 2, off, end)
      out.push(pkt)
    }
  }
}
