import { InvalidArgumentError } from '../errors.js'
import type { ReportBlock } from './packets.js'

const RTP_SEQ_MOD = 0x10000
/** RFC 3550 A.1 constants: a jump of fewer packets than this ahead is accepted as loss. */
const MAX_DROPOUT = 3000
/** ... and a step this far back is a late or duplicate packet. */
const MAX_MISORDER = 100

export interface ReceiverStatsOptions {
  /** Media clock of the track (Hz), for the interarrival jitter; 0 disables jitter. */
  clockRate: number
  /**
   * Sequential packets needed before a new source counts (RFC 3550 A.1 `MIN_SEQUENTIAL`).
   * Default 0: the RTSP session already tied the source to the server, so count at once.
   */
  probation?: number
}

/**
 * Reception statistics of one RTP source, for RTCP receiver reports: RFC 3550 A.1
 * (sequence validation, extended highest sequence, expected and lost counts), A.3 (the
 * loss figures of a report block) and A.8 (interarrival jitter). `onRtp` runs for every
 * packet and allocates nothing.
 */
export class ReceiverStats {
  /** SSRC of the source being reported on (the last one `onRtp` saw), 0 before any. */
  ssrc = 0
  /** Packets counted as received (duplicates included, as A.1 does). */
  packetsReceived = 0
  /** Payload bytes of the counted packets, as passed to `onRtp`. */
  bytesReceived = 0
  /** Packets rejected: probation, big sequence jumps before resync. */
  packetsInvalid = 0
  /** Times the sequence restarted (big jump confirmed, or a new SSRC). */
  resyncs = 0

  readonly #clockRate: number
  readonly #probationInit: number
  #started = false
  #probation = 0
  #maxSeq = 0
  #cycles = 0
  #baseSeq = 0
  #badSeq = RTP_SEQ_MOD + 1
  #receivedAtBase = 0
  #expectedPrior = 0
  #receivedPrior = 0
  // Jitter (A.8) works on differences, so the 32-bit wrap of timestamps never matters.
  #jitter = 0
  #haveTransit = false
  #lastArrivalMs = 0
  #lastTimestamp = 0
  // Last SR received (for LSR/DLSR).
  #lastSr = 0
  #lastSrArrivalMs: number | undefined

  constructor(options: ReceiverStatsOptions) {
    if (!(options.clockRate >= 0) || !Number.isFinite(options.clockRate)) {
      throw new InvalidArgumentError(`clock rate ${options.clockRate} is not a positive number of Hz`)
    }
    this.#clockRate = options.clockRate
    this.#probationInit = Math.max(0, Math.trunc(options.probation ?? 0))
  }

  // A.1 init_seq: a new base; the counters describe the stream from here on.
  #initSeq(seq: number): void {
    this.#baseSeq = seq
    this.#maxSeq = seq
    this.#badSeq = RTP_SEQ_MOD + 1
    this.#cycles = 0
    this.#receivedAtBase = this.packetsReceived
    this.#expectedPrior = 0
    this.#receivedPrior = 0
    this.#haveTransit = false
  }

  /**
   * Account for one RTP packet: its sequence number, 32-bit RTP timestamp, arrival time
   * (ms, any monotonic clock, fractions welcome), payload size and SSRC. A change of SSRC
   * restarts the sequence state. Returns false when A.1 validation rejects the packet.
   */
  onRtp(sequenceNumber: number, rtpTimestamp: number, arrivalMs: number, payloadBytes = 0, ssrc?: number): boolean {
    const seq = sequenceNumber & 0xffff
    if (!this.#started || (ssrc !== undefined && ssrc !== this.ssrc)) {
      if (this.#started) this.resyncs++
      this.#started = true
      if (ssrc !== undefined) this.ssrc = ssrc
      this.#initSeq(seq)
      this.#probation = this.#probationInit
      if (this.#probation > 0) {
        // A.1: a new source is on probation until MIN_SEQUENTIAL packets in a row.
        this.#maxSeq = (seq - 1) & 0xffff
      } else {
        this.#count(rtpTimestamp, arrivalMs, payloadBytes)
        return true
      }
    }
    const udelta = (seq - this.#maxSeq) & 0xffff
    if (this.#probation > 0) {
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--
        this.#maxSeq = seq
        if (this.#probation === 0) {
          this.#initSeq(seq)
          this.#count(rtpTimestamp, arrivalMs, payloadBytes)
          return true
        }
      } else {
        this.#probation = this.#probationInit - 1
        this.#maxSeq = seq
      }
      this.packetsInvalid++
      return false
    } else if (udelta < MAX_DROPOUT) {
      // In order, with a permissible gap; a smaller number means the 16 bits wrapped.
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD
      this.#maxSeq = seq
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: accept it only when the next packet follows it (the sender
      // restarted), otherwise treat it as a stray.
      if (seq === this.#badSeq) {
        this.resyncs++
        this.#initSeq(seq)
      } else {
        this.#badSeq = (seq + 1) & 0xffff
        this.packetsInvalid++
        return false
      }
    }
    // else: duplicate or reordered, counted but not advancing max.
    this.#count(rtpTimestamp, arrivalMs, payloadBytes)
    return true
  }

  #count(rtpTimestamp: number, arrivalMs: number, payloadBytes: number): void {
    this.packetsReceived++
    this.bytesReceived += payloadBytes
    if (this.#clockRate === 0) return
    if (this.#haveTransit) {
      // A.8: D = (Rj - Ri) - (Sj - Si) in timestamp units; J += (|D| - J) / 16.
      const arrivalUnits = ((arrivalMs - this.#lastArrivalMs) * this.#clockRate) / 1000
      let d = arrivalUnits - ((rtpTimestamp - this.#lastTimestamp) | 0)
      if (d < 0) d = -d
      this.#jitter += (d - this.#jitter) / 16
    }
    this.#haveTransit = true
    this.#lastArrivalMs = arrivalMs
    this.#lastTimestamp = rtpTimestamp
  }

  /**
   * Note an SR from the source: the middle 32 bits of its NTP timestamp (`ntpMiddle32`)
   * and when it arrived (same clock as `onRtp` and `report`).
   */
  onSenderReport(ntpMiddle32: number, arrivalMs: number): void {
    this.#lastSr = ntpMiddle32 >>> 0
    this.#lastSrArrivalMs = arrivalMs
  }

  /** Extended highest sequence number received (cycles × 65536 + highest). */
  get extendedHighestSequence(): number {
    return this.#cycles + this.#maxSeq
  }

  /** Packets expected since the base (A.3). */
  get packetsExpected(): number {
    return this.#started && this.#probation === 0 ? this.extendedHighestSequence - this.#baseSeq + 1 : 0
  }

  /** Cumulative packets lost (A.3); negative when duplicates outnumber losses. */
  get packetsLost(): number {
    return this.packetsExpected - (this.packetsReceived - this.#receivedAtBase)
  }

  /** Interarrival jitter in RTP timestamp units (A.8). */
  get jitter(): number {
    return this.#jitter
  }

  /** Interarrival jitter in milliseconds. */
  get jitterMs(): number {
    return this.#clockRate === 0 ? 0 : (this.#jitter * 1000) / this.#clockRate
  }

  /**
   * The report block for this source at `nowMs` (RFC 3550 §6.4.1, A.3), and the start of
   * a new interval for `fractionLost`.
   */
  report(nowMs: number): ReportBlock {
    const expected = this.packetsExpected
    const received = this.packetsReceived - this.#receivedAtBase
    const expectedInterval = expected - this.#expectedPrior
    const receivedInterval = received - this.#receivedPrior
    this.#expectedPrior = expected
    this.#receivedPrior = received
    const lostInterval = expectedInterval - receivedInterval
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval)
    const lost = expected - received
    const srAt = this.#lastSrArrivalMs
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      // 24-bit signed field: clamp rather than wrap (A.3).
      cumulativeLost: Math.max(-0x800000, Math.min(0x7fffff, lost)),
      highestSequence: this.extendedHighestSequence >>> 0,
      jitter: Math.floor(this.#jitter) >>> 0,
      lastSr: srAt === undefined ? 0 : this.#lastSr,
      // DLSR in 1/65536 s (§6.4.1).
      delaySinceLastSr: srAt === undefined ? 0 : Math.max(0, Math.round(((nowMs - srAt) * 65536) / 1000)) >>> 0,
    }
  }
}
