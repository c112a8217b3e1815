import { UnitsPacketizer, unitSize } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'

export interface LatmPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

type Unit = PacketizerInput

/**
 * Raw AAC frames → RTP, RFC 6416 MP4A-LATM with cpresent=0: each frame becomes one
 * AudioMuxElement (one subframe: PayloadLengthInfo + PayloadMux), in one packet when it
 * fits, else fragmented over several with the same timestamp and the marker on the last
 * (§6.1). The SDP carries the StreamMuxConfig (buildStreamMuxConfig, numSubFrames 0).
 * Takes one frame or several; empty frames are skipped.
 */
export class LatmPacketizer extends UnitsPacketizer {
  private readonly mtu: number

  constructor(opts: LatmPacketizerOptions) {
    super(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 2)
  }

  protected bound(list: readonly Unit[]): number {
    let bound = 0
    for (const unit of list) {
      const size = unitSize(unit)
      const total = Math.floor(size / 255) + 1 + size
      bound += total + Math.ceil(total / this.mtu) * PACKET_OVERHEAD
    }
    return bound
  }

  protected write(list: readonly Unit[]): void {
    for (const unit of list) {
      const size = unitSize(unit)
      if (size === 0) continue
      // PayloadLengthInfo: one 0xff per 255 bytes, then the remainder (0..254).
      const lengthBytes = Math.floor(size / 255) + 1
      const total = lengthBytes + size
      if (total <= this.mtu) {
        const pkt = this.header.open(total, true, unit.rtpTimestamp) + RTP_HEADER_SIZE
        const buf = this.header.buf
        let o = writeLength(buf, pkt, size)
        for (const part of unit.data) o += part.copy(buf, o)
        continue
      }
      const element = Buffer.allocUnsafe(total)
      let o = writeLength(element, 0, size)
      for (const part of unit.data) o += part.copy(element, o)
      for (let off = 0; off < total; off += this.mtu) {
        const end = Math.min(off + this.mtu, total)
        const o = this.header.open(end - off, end === total, unit.rtpTimestamp)
        element.copy(this.header.buf, o + RTP_HEADER_SIZE, off, end)
      }
    }
  }
}

function writeLength(buf: Buffer, at: number, size: number): number {
  let o = at
  for (let left = size; left >= 255; left -= 255) buf[o++] = 255
  buf[o++] = size % 255
  return o
}
