import { InvalidArgumentError } from '../../errors.js'
import { UnitsPacketizer, unitSize } from '../packetizer-base.js'
import { PACKET_OVERHEAD, RTP_HEADER_SIZE, checkMtu, type PacketizerInput, type RtpWriterOptions } from '../rtp-header.js'

export interface G711PacketizerOptions extends RtpWriterOptions {
  /** Samples per second per channel (the RTP clock). Default 8000. */
  sampleRate?: number
  /** Interleaved channels. Default 1. */
  channels?: number
  /** Largest RTP payload in bytes (header excluded). Default 1400. */
  mtu?: number
  /** Target packet duration in ms (RFC 3551 §4.5.14 suggests 20). Default 20. */
  packetMs?: number
}

type Unit = PacketizerInput

/**
 * G.711 samples → RTP (RFC 3551 §4.5.14). A unit of any length is cut into packets of
 * `packetMs` worth of samples (160 bytes at 8 kHz mono and 20 ms), or fewer when the MTU
 * says so, each starting on a whole sample frame; each packet's timestamp advances by the
 * samples before it. The marker bit is never set (no talkspurts here). Takes one run of
 * samples or several.
 */
export class G711Packetizer extends UnitsPacketizer {
  private readonly channels: number
  /** Bytes per packet: whole sample frames. */
  private readonly chunk: number

  constructor(opts: G711PacketizerOptions) {
    super(opts)
    const rate = opts.sampleRate ?? 8000
    const channels = opts.channels ?? 1
    const ms = opts.packetMs ?? 20
    if (!Number.isInteger(rate) || rate <= 0) throw new InvalidArgumentError(`sampleRate must be a positive integer, got ${rate}`)
    if (!Number.isInteger(channels) || channels < 1 || channels > 255) throw new InvalidArgumentError(`channels must be an integer 1-255, got ${channels}`)
    if (!(ms > 0)) throw new InvalidArgumentError(`packetMs must be positive, got ${ms}`)
    const mtu = checkMtu(opts.mtu ?? 1400, channels)
    this.channels = channels
    const frames = Math.max(1, Math.min(Math.floor(mtu / channels), Math.round((rate * ms) / 1000)))
    this.chunk = frames * channels
  }

  protected bound(list: readonly Unit[]): number {
    let bound = 0
    for (const unit of list) {
      const size = unitSize(unit)
      bound += size + Math.ceil(size / this.chunk) * PACKET_OVERHEAD
    }
    return bound
  }

  protected write(list: readonly Unit[]): void {
    for (const unit of list) {
      const samples = unit.data.length === 1 ? unit.data[0]! : Buffer.concat(unit.data as Buffer[])
      for (let off = 0; off < samples.length; off += this.chunk) {
        const end = Math.min(off + this.chunk, samples.length)
        const ts = (unit.rtpTimestamp + Math.floor(off / this.channels)) >>> 0
        const o = this.header.open(end - off, false, ts)
        samples.copy(this.header.buf, o + RTP_HEADER_SIZE, off, end)
      }
    }
  }
}
