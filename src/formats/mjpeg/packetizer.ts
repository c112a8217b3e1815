import { parseJpeg, type ParsedJpeg } from '../../codec/jpeg.js'
import { RtpPacketizer } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'

export interface MjpegPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
}

/**
 * Baseline JPEG frames → RTP/JPEG packets (RFC 2435). The frame's DQT/SOF/DRI become the
 * 8-byte main header (plus the restart header when it has restart markers), its tables travel
 * in-band with Q = 255 in the first packet, and its scan data is cut at the MTU. The last
 * packet has the marker bit. Throws UnsupportedError for JPEGs RFC 2435 cannot carry
 * (progressive, optimized Huffman tables, 4:4:4, larger than 2040x2040). Takes one JPEG
 * file per call, rtpTimestamp at 90 kHz.
 */
export class MjpegPacketizer extends RtpPacketizer<PacketizerInput, ParsedJpeg> {
  private readonly mtu: number

  constructor(opts: MjpegPacketizerOptions) {
    super(opts)
    // Main + restart + table headers and two 128-byte 16-bit tables must fit the first packet.
    this.mtu = checkMtu(opts.mtu ?? 1400, 8 + 4 + 4 + 256 + 1)
  }

  protected prepare(frame: PacketizerInput): ParsedJpeg {
    return parseJpeg(frame.data.length === 1 ? frame.data[0]! : Buffer.concat(frame.data))
  }

  /** Upper bound: the first packet carries the tables; every packet at most 12 header bytes and 12 of RTP/JPEG headers. */
  protected bound(j: ParsedJpeg): number {
    const tableLength = j.tables[0].length + j.tables[1].length
    const packets = 1 + Math.ceil(j.scan.length / (this.mtu - 12))
    return j.scan.length + 4 + tableLength + packets * (12 + PACKET_OVERHEAD)
  }

  protected write(j: ParsedJpeg, frame: PacketizerInput): void {
    const rtpTimestamp = frame.rtpTimestamp
    const restart = j.restartInterval > 0
    const precision = (j.tables[0].length === 128 ? 1 : 0) | (j.tables[1].length === 128 ? 2 : 0)
    const tableLength = j.tables[0].length + j.tables[1].length
    let offset = 0
    do {
      const first = offset === 0
      const headerSize = 8 + (restart ? 4 : 0) + (first ? 4 + tableLength : 0)
      const take = Math.min(this.mtu - headerSize, j.scan.length - offset)
      const last = offset + take >= j.scan.length
      let o = this.header.open(headerSize + take, last, rtpTimestamp) + RTP_HEADER_SIZE
      const pkt = this.header.buf
      pkt[o] = 0 // type-specific
      pkt.writeUIntBE(offset, o + 1, 3) // fragment offset
      pkt[o + 4] = j.type | (restart ? 64 : 0)
      pkt[o + 5] = 255 // Q: tables in-band, in every frame
      pkt[o + 6] = Math.ceil(j.width / 8)
      pkt[o + 7] = Math.ceil(j.height / 8)
      o += 8
      if (restart) {
        // F = L = 1 and count 0x3fff: the frame is one unit, not independently decodable chunks (§3.1.7).
        pkt.writeUInt16BE(j.restartInterval, o)
        pkt.writeUInt16BE(0xffff, o + 2)
        o += 4
      }
      if (first) {
        pkt[o] = 0 // MBZ
        pkt[o + 1] = precision
        pkt.writeUInt16BE(tableLength, o + 2)
        o += 4
        o += j.tables[0].copy(pkt, o)
        o += j.tables[1].copy(pkt, o)
      }
      j.scan.copy(pkt, o, offset, offset + take)
      offset += take
    } while (offset < j.scan.length)
  }
}
