import { RtpHeaderWriter, type InterleavedPackets, type PacketizerInput, type RtpWriterOptions } from './rtp-header.js'

/**
 * What every packetizer does around its payload format: owns the RtpHeaderWriter and runs
 * one `write` in either of its two modes. A subclass says how to turn its input into what
 * `write` takes (`prepare`, once per call), how many bytes the interleaved buffer needs at
 * most (`bound`), and writes its packets through `this.header.open()`.
 */
export abstract class RtpPacketizer<In, Prepared = In> {
  protected readonly header: RtpHeaderWriter

  constructor(opts: RtpWriterOptions) {
    this.header = new RtpHeaderWriter(opts)
  }

  /** The sequence number the next packet gets. */
  get sequenceNumber(): number {
    return this.header.sequenceNumber
  }

  /** Whole RTP packets (12-byte header included), one Buffer each. */
  packetize(input: In): Buffer[] {
    const p = this.prepare(input)
    this.header.startList()
    this.write(p, input)
    return this.header.finishList()
  }

  /**
   * The same packets, each after its `$` header for `channel` (RFC 2326 §10.12), in one buffer:
   * `into` when it is large enough (a sender reusing a buffer the socket has taken), else a new one.
   */
  packetizeInterleaved(input: In, channel: number, into?: Buffer): InterleavedPackets {
    const p = this.prepare(input)
    this.header.startInterleaved(channel, this.bound(p), into)
    this.write(p, input)
    return this.header.finishInterleaved()
  }

  /** The input as `write` takes it. */
  protected abstract prepare(input: In): Prepared
  /** An upper bound on the interleaved bytes (`$` and RTP headers included) `write` produces. */
  protected abstract bound(p: Prepared): number
  /** Open and fill the packets (`input` is what `p` was prepared from). */
  protected abstract write(p: Prepared, input: In): void
}

type Units = PacketizerInput | readonly PacketizerInput[]

/** A packetizer that takes one unit or a run of them (the audio formats). */
export abstract class UnitsPacketizer extends RtpPacketizer<Units, readonly PacketizerInput[]> {
  protected prepare(units: Units): readonly PacketizerInput[] {
    return Array.isArray(units) ? units : [units as PacketizerInput]
  }
}

/** Payload bytes of one unit. */
export function unitSize(u: PacketizerInput): number {
  let n = 0
  for (const part of u.data) n += part.length
  return n
}
