import { randomInt } from 'node:crypto'
import { InvalidArgumentError } from '../errors.js'

export interface RtpWriterOptions {
  payloadType: number
  ssrc: number
  /** First sequence number; random by default (RFC 3550 §5.1). */
  initialSequenceNumber?: number
}

/**
 * Writes the fixed 12-byte RTP header (RFC 3550 §5.1) for the packetizers and keeps the
 * sequence number. The full RTP reader/writer lives in src/rtp/; formats only need this.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  |                           timestamp                           |
 *  |                             SSRC                              |
 */
export class RtpHeaderWriter {
  readonly payloadType: number
  readonly ssrc: number
  private seq: number

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
    const buf = Buffer.allocUnsafe(12 + payloadSize)
    buf[0] = 0x80
    buf[1] = (marker ? 0x80 : 0) | this.payloadType
    buf.writeUInt16BE(this.seq, 2)
    buf.writeUInt32BE(timestamp >>> 0, 4)
    buf.writeUInt32BE(this.ssrc, 8)
    this.seq = (this.seq + 1) & 0xffff
    return buf
  }
}

export const RTP_HEADER_SIZE = 12

export function checkMtu(mtu: number, min: number): number {
  if (!Number.isInteger(mtu) || mtu < min || mtu > 65_000) {
    throw new InvalidArgumentError(`mtu (largest RTP payload) must be an integer ${min}-65000, got ${mtu}`)
  }
  return mtu
}
