import { InvalidArgumentError } from '../../errors.js'
import { UnitsPacketizer, unitSize } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'

export interface AacPacketizerOptions extends RtpWriterOptions {
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
  /** RTP ticks per frame; frames are grouped into one packet only when their timestamps follow at this step. Default 1024. */
  frameDuration?: number
  /** At most this many frames in one packet. Default: as many as the MTU allows. */
  maxFramesPerPacket?: number
}

type Unit = PacketizerInput

/** AAC-hbr: 13-bit AU-size, 3-bit AU-Index(-delta) = 0 → 2 bytes per AU header (RFC 3640 §3.3.6). */
const HEADER_BYTES = 2
const MAX_AU_SIZE = (1 << 13) - 1

/**
 * Raw AAC frames → RTP packets, RFC 3640 AAC-hbr. Consecutive frames share a packet while
 * they fit in the MTU; a frame too large for one packet is fragmented, each fragment
 * repeating the AU header with the full size (§3.2.3). The marker bit is set on every
 * packet that ends an AU, i.e. all but non-final fragments. Takes one frame or a run of frames.
 */
export class AacPacketizer extends UnitsPacketizer {
  private readonly mtu: number
  private readonly frameDuration: number
  private readonly maxFrames: number

  constructor(opts: AacPacketizerOptions) {
    super(opts)
    this.mtu = checkMtu(opts.mtu ?? 1400, 2 + HEADER_BYTES + 1)
    this.frameDuration = opts.frameDuration ?? 1024
    this.maxFrames = opts.maxFramesPerPacket ?? Number.POSITIVE_INFINITY
    if (!(this.maxFrames >= 1)) throw new InvalidArgumentError(`maxFramesPerPacket must be at least 1, got ${opts.maxFramesPerPacket}`)
  }

  /** Upper bound: every frame alone in its packet(s), each with the AU-headers-length and one AU header. */
  protected bound(list: readonly Unit[]): number {
    const chunk = this.mtu - 2 - HEADER_BYTES
    let bound = 0
    for (let i = 0; i < list.length; i++) {
      const size = unitSize(list[i]!)
      bound += size + Math.max(1, Math.ceil(size / chunk)) * (2 + HEADER_BYTES + PACKET_OVERHEAD)
    }
    return bound
  }

  /**
   * The frames of one packet, reused from call to call (a push sends one frame per call).
   * Indexed loops and byte stores below, not for-of and Buffer#writeUInt16BE: a push's first
   * seconds run this interpreted, and TurboFan then compiled flush() with Buffer's checks
   * inlined, ~20 ms of a second thread (issue 14, --trace-opt).
   */
  private readonly group: Unit[] = []

  protected write(list: readonly Unit[]): void {
    const group = this.group
    group.length = 0
    let groupBytes = 2 // AU-headers-length
    for (let i = 0; i < list.length; i++) {
      const unit = list[i]!
      const size = unitSize(unit)
      if (size > MAX_AU_SIZE) {
        throw new InvalidArgumentError(`AAC frame of ${size} bytes exceeds the ${MAX_AU_SIZE} bytes a 13-bit AU-size can say`)
      }
      if (size === 0) continue
      const first = group[0]
      const follows = first !== undefined &&
        group.length < this.maxFrames &&
        ((first.rtpTimestamp + group.length * this.frameDuration) >>> 0) === unit.rtpTimestamp >>> 0 &&
        groupBytes + HEADER_BYTES + size <= this.mtu
      if (!follows) {
        this.flush(group)
        group.length = 0
        groupBytes = 2
      }
      if (2 + HEADER_BYTES + size > this.mtu) {
        this.fragment(unit, size)
        continue
      }
      group.push(unit)
      groupBytes += HEADER_BYTES + size
    }
    this.flush(group)
    group.length = 0
  }

  private flush(group: readonly Unit[]): void {
    const n = group.length
    if (n === 0) return
    let size = 2 + HEADER_BYTES * n
    for (let i = 0; i < n; i++) size += unitSize(group[i]!)
    let o = this.header.open(size, true, group[0]!.rtpTimestamp) + RTP_HEADER_SIZE
    const pkt = this.header.buf
    const headersBits = n * HEADER_BYTES * 8 // AU-headers-length in bits
    pkt[o] = headersBits >>> 8
    pkt[o + 1] = headersBits & 0xff
    o += 2
    for (let i = 0; i < n; i++) {
      const auSize = unitSize(group[i]!) // AU-size (13 bits), AU-Index(-delta) 0 (3 bits)
      pkt[o] = auSize >>> 5
      pkt[o + 1] = (auSize << 3) & 0xff
      o += 2
    }
    // TypedArray set(), a builtin, rather than Buffer#copy's JS argument checks (issue 14).
    for (let i = 0; i < n; i++) {
      const data = group[i]!.data
      for (let j = 0; j < data.length; j++) {
        const part = data[j]!
        pkt.set(part, o)
        o += part.length
      }
    }
  }

  private fragment(unit: Unit, size: number): void {
    const frame = unit.data.length === 1 ? unit.data[0]! : Buffer.concat(unit.data as Buffer[], size)
    // A plain Uint8Array view: its subarray() and set() are builtins (see NalPacketizer.fragment).
    const body = new Uint8Array(frame.buffer, frame.byteOffset, size)
    const chunk = this.mtu - 2 - HEADER_BYTES
    for (let off = 0; off < size; off += chunk) {
      const end = Math.min(off + chunk, size)
      const o = this.header.open(2 + HEADER_BYTES + end - off, end === size, unit.rtpTimestamp) + RTP_HEADER_SIZE
      const pkt = this.header.buf
      pkt[o] = 0 // AU-headers-length: one header, 16 bits
      pkt[o + 1] = HEADER_BYTES * 8
      pkt[o + 2] = size >>> 5 // the whole AU's size in every fragment
      pkt[o + 3] = (size << 3) & 0xff
      pkt.set(body.subarray(off, end), o + 4)
    }
  }
}
