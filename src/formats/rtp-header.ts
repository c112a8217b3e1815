import { randomInt } from 'node:crypto'
import { InvalidArgumentError } from '../errors.js'
import { writeFixedRtpHeader } from '../rtp/packet.js'
import { writeInterleavedHeader } from '../rtsp/serialize.js'

export interface RtpWriterOptions {
  payloadType: number
  ssrc: number
  /** First sequence number; random by default (RFC 3550 §5.1). */
  initialSequenceNumber?: number
}

export const RTP_HEADER_SIZE = 12

/** `$`, channel, 16-bit length before each packet in an RTSP connection (RFC 2326 §10.12). */
export const INTERLEAVED_HEADER_SIZE = 4

/** What a unit to packetize looks like to every packetizer. */
export interface PacketizerInput {
  data: readonly Buffer[]
  rtpTimestamp: number
}

/** All packets of one call, framed for an RTSP/TCP connection, in one buffer. */
export interface InterleavedPackets {
  /** `$` channel length, RTP packet; `$` channel length, RTP packet; … (RFC 2326 §10.12). Empty when no packet was made. */
  data: Buffer
  /** Number of RTP packets in `data`. */
  packets: number
}

/** A packetizer that can frame its packets for TCP interleaving itself: one allocation and one socket write per unit. */
export interface InterleavedPacketizer {
  packetizeInterleaved(au: PacketizerInput, channel: number, into?: Buffer): InterleavedPackets
}

const EMPTY = Buffer.alloc(0)

/**
 * Writes the fixed 12-byte RTP header (RFC 3550 §5.1) for the packetizers and keeps the
 * sequence number. The full RTP reader/writer lives in src/rtp/; formats only need this.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |                             SSRC                              |
 *
 * Packetizers write through `open()`, in one of two modes chosen per call:
 * - list (`startList`/`finishList`): one Buffer per packet, as `packetize()` returns;
 * - interleaved (`startInterleaved`/`finishInterleaved`): every packet in one buffer, each
 *   after its 4-byte `$` header, ready for a single socket write.
 */
export class RtpHeaderWriter {
  readonly payloadType: number
  readonly ssrc: number
  private seq: number
  /** The buffer the last opened packet lives in (list mode: that packet). */
  buf: Buffer = EMPTY
  private list: Buffer[] | undefined
  /** Interleaved mode: write position, channel, offset of the last packet's RTP header. */
  private pos = 0
  private channel = 0
  private last = -1
  private count = 0

  constructor(opts: RtpWriterOptions) {
    if (!Number.isInteger(opts.payloadType) || opts.payloadType < 0 || opts.payloadType > 127) {
      throw new InvalidArgumentError(`payloadType must be an integer 0-127, got ${opts.payloadType}`)
    }
    if (!Number.isInteger(opts.ssrc) || opts.ssrc < 0 || opts.ssrc > 0xffffffff) {
      throw new InvalidArgumentError(`ssrc must be a 32-bit unsigned integer, got ${opts.ssrc}`)
    }
    const seq = opts.initialSequenceNumber ?? randomInt(0x10000)
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) {
      throw new InvalidArgumentError(`initialSequenceNumber must be an integer 0-65535, got ${seq}`)
    }
    this.payloadType = opts.payloadType
    this.ssrc = opts.ssrc
    this.seq = seq
  }

  /** The sequence number the next packet gets. */
  get sequenceNumber(): number {
    return this.seq
  }

  /** Allocate a packet of 12 + payloadSize bytes with its header written; the caller fills bytes 12.. */
  allocate(payloadSize: number, marker: boolean, timestamp: number): Buffer {
    const buf = Buffer.allocUnsafe(RTP_HEADER_SIZE + payloadSize)
    this.writeHeader(buf, 0, marker, timestamp)
    return buf
  }

  /** Start collecting packets one Buffer each. */
  startList(): void {
    this.list = []
    this.buf = EMPTY
    this.last = -1
    this.count = 0
  }

  /** The packets opened since startList(). */
  finishList(): Buffer[] {
    const out = this.list ?? []
    this.list = undefined
    this.buf = EMPTY
    return out
  }

  /**
   * Start writing packets into one buffer of `capacity` bytes (a packetizer's upper bound for
   * the unit, interleaved headers included; outgrown if it was too small), each packet
   * preceded by `$`, `channel` and its length. `into`, if at least that long, is written
   * instead of a new buffer.
   */
  startInterleaved(channel: number, capacity: number, into?: Buffer): void {
    this.list = undefined
    this.buf = into !== undefined && into.length >= capacity ? into : Buffer.allocUnsafe(capacity)
    this.channel = channel
    this.pos = 0
    this.last = -1
    this.count = 0
  }

  finishInterleaved(): InterleavedPackets {
    const data = this.count === 0 ? EMPTY : this.buf.subarray(0, this.pos)
    this.buf = EMPTY
    return { data, packets: this.count }
  }

  /**
   * Open the next packet of 12 + payloadSize bytes and write its RTP header. Returns the
   * offset of that header in `buf`; the caller writes the payload from offset + 12.
   */
  open(payloadSize: number, marker: boolean, timestamp: number): number {
    const size = RTP_HEADER_SIZE + payloadSize
    this.count++
    if (this.list !== undefined) {
      const pkt = Buffer.allocUnsafe(size)
      this.writeHeader(pkt, 0, marker, timestamp)
      this.list.push(pkt)
      this.buf = pkt
      this.last = 0
      return 0
    }
    const at = this.pos
    const end = at + INTERLEAVED_HEADER_SIZE + size
    if (end > this.buf.length) this.grow(end)
    const b = this.buf
    writeInterleavedHeader(b, at, this.channel, size)
    const h = at + INTERLEAVED_HEADER_SIZE
    this.writeHeader(b, h, marker, timestamp)
    this.pos = end
    this.last = h
    return h
  }

  /** Set the marker bit of the last packet opened. */
  markLast(): void {
    if (this.last >= 0) this.buf[this.last + 1]! |= 0x80
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  private writeHeader(b: Buffer, at: number, marker: boolean, timestamp: number): void {
    writeFixedRtpHeader(b, at, marker, this.payloadType, this.seq, timestamp, this.ssrc)
    this.seq = (this.seq + 1) & 0xffff
  }
}

/** Bytes one packet adds in interleaved mode besides its payload: the `$` header and the RTP header. */
export const PACKET_OVERHEAD = INTERLEAVED_HEADER_SIZE + RTP_HEADER_SIZE

export function checkMtu(mtu: number, min: number): number {
  if (!Number.isInteger(mtu) || mtu < min || mtu > 65_000) {
    throw new InvalidArgumentError(`mtu (largest RTP payload) must be an integer ${min}-65000, got ${mtu}`)
  }
  return mtu
}
