/**
 * One path of the embedded server: its tracks, its SDP, and the fan-out of RTP packets to
 * every reader. Packets are made (or received) once per stream and shared by all readers:
 * a TCP reader gets one socket write per access unit from a `$`-framed buffer (the
 * packetizer's own output on the usual channel, else built once per channel), a UDP reader
 * one datagram per packet from the same bytes.
 */
import { randomInt } from 'node:crypto'
import { buildSenderReport, ntpFromDate, ntpToUnixMs } from '../rtcp/packets.js'
import { createSendTrack, withParameterSets } from '../formats/send-track.js'
import type { SendPacketizer, SendTrackInit } from '../formats/send-track.js'
import { RTP_HEADER_SIZE, type InterleavedPacketizer } from '../formats/rtp-header.js'
import { writeSdp } from '../sdp/write.js'
import { encodeInterleavedPackets } from '../rtsp/serialize.js'
import { InvalidArgumentError, StateError } from '../errors.js'

/**
 * The packets of one access unit (or one forwarded packet), shared by every reader. Made
 * either from separate packets (a publisher's, as received) or from one buffer of packets
 * already `$`-framed on the track's usual channel (a packetizer's interleaved output):
 * then a TCP reader on that channel sends it as it is, and UDP readers get views of it.
 */
export class Batch {
  /** The batch begins a key frame (always true for tracks that need no key frame). */
  readonly keyStart: boolean
  /** RTP packets in the batch. */
  readonly count: number
  /** RTP bytes, headers included, `$` framing excluded. */
  readonly bytes: number
  /**
   * The SSRC of the batch's packets and the sequence number after its last one, when its
   * maker set them (a publisher whose framed buffer is reused for a later batch: the bytes
   * are then gone, these stay); -1 otherwise (read from the packets).
   */
  ssrc = -1
  nextSequenceNumber = -1
  #packets: readonly Buffer[] | undefined
  #channel = -1
  #framed: Buffer | undefined
  #others: Map<number, Buffer> | undefined

  constructor(packets: readonly Buffer[], keyStart: boolean) {
    this.#packets = packets
    this.keyStart = keyStart
    this.count = packets.length
    let bytes = 0
    for (let i = 0; i < packets.length; i++) bytes += packets[i]!.length
    this.bytes = bytes
  }

  /** `data`: `count` packets, each after its 4-byte `$` `channel` length header (RFC 2326 §10.12). */
  static interleaved(data: Buffer, channel: number, count: number, keyStart: boolean): Batch {
    const b = new Batch(NO_PACKETS, keyStart)
    b.#packets = undefined
    b.#channel = channel
    b.#framed = data
    ;(b as { count: number }).count = count
    ;(b as { bytes: number }).bytes = data.length - 4 * count
    return b
  }

  /** Each RTP packet on its own (views into the framed buffer, made once, for UDP readers). */
  get packets(): readonly Buffer[] {
    if (this.#packets !== undefined) return this.#packets
    const framed = this.#framed!
    const out: Buffer[] = new Array(this.count)
    let o = 0
    for (let i = 0; i < out.length; i++) {
      const len = (framed[o + 2]! << 8) | framed[o + 3]!
      out[i] = framed.subarray(o + 4, o + 4 + len)
      o += 4 + len
    }
    this.#packets = out
    return out
  }

  /** Every packet as `$` channel length payload (RFC 2326 §10.12), built once per channel. */
  framed(channel: number): Buffer {
    if (channel === this.#channel) return this.#framed!
    const cached = this.#others?.get(channel)
    if (cached !== undefined) return cached
    let out: Buffer
    if (this.#packets === undefined) {
      // Another channel than the usual one: the same bytes, the channel byte rewritten.
      const framed = this.#framed!
      out = Buffer.allocUnsafe(framed.length)
      framed.copy(out)
      for (let o = 0; o < out.length; o += 4 + ((out[o + 2]! << 8) | out[o + 3]!)) out[o + 1] = channel
    } else {
      out = encodeInterleavedPackets(channel, this.#packets)
    }
    if (this.#framed === undefined) {
      this.#channel = channel
      this.#framed = out
    } else {
      ;(this.#others ??= new Map()).set(channel, out)
    }
    return out
  }
}

const NO_PACKETS: readonly Buffer[] = []

/** What a stream delivers to; implemented by the server's reader sessions. */
export interface StreamReader {
  /**
   * Take one batch. True: the reader keeps no reference to the batch's bytes once this
   * returns (written out, or skipped), so its maker may write a later batch into them;
   * anything else (a reader that keeps views, or a write still queued) keeps them.
   */
  deliver(track: number, batch: Batch): boolean | void
  deliverRtcp(track: number, packet: Buffer): void
  /** The source went away: the reader's session ends. */
  sourceEnded(reason: string): void
}

export interface StreamTrackInfo {
  index: number
  type: string
  codec: string
  clockRate: number
  /** `trackID=<index>`, relative to the stream URL. */
  control: string
  /** Readers join and resume at key frames on this track. */
  gated: boolean
}

/**
 * A stream's readers: a Set (insertion order, the API the server and the HTTP side use) that
 * also keeps them in an array for the per-batch loop. Iterating the Set itself cost a
 * megamorphic load per reader per batch in the fan-out profile (issue 14). A reader that
 * leaves during a delivery leaves a hole, compacted once no delivery runs; one that joins
 * during a delivery is appended and reached by it, as Set iteration would.
 */
export class ReaderSet extends Set<StreamReader> {
  #list: Array<StreamReader | undefined> = []
  #holes = 0
  #delivering = 0

  override add(r: StreamReader): this {
    if (this.has(r)) return this
    super.add(r)
    this.#list.push(r)
    return this
  }

  override delete(r: StreamReader): boolean {
    if (!super.delete(r)) return false
    const list = this.#list
    list[list.indexOf(r)] = undefined
    this.#holes++
    if (this.#delivering === 0) this.#compact()
    return true
  }

  override clear(): void {
    super.clear()
    if (this.#delivering === 0) {
      this.#list = []
      this.#holes = 0
    } else {
      this.#list.fill(undefined)
      this.#holes = this.#list.length
    }
  }

  /**
   * Hand track `index`'s batch to every reader, in the order they joined. True when every
   * reader let go of its bytes (StreamReader.deliver returned true).
   */
  deliver(index: number, batch: Batch): boolean {
    this.#delivering++
    try {
      const list = this.#list
      let released = true
      for (let i = 0; i < list.length; i++) {
        const r = list[i]
        if (r !== undefined && r.deliver(index, batch) !== true) released = false
      }
      return released
    } finally {
      if (--this.#delivering === 0 && this.#holes > 0) this.#compact()
    }
  }

  #compact(): void {
    this.#list = this.#list.filter((r) => r !== undefined)
    this.#holes = 0
  }
}

interface TrackClock {
  /** Last RTP timestamp sent, and when (ms, performance.now()). */
  rtpTimestamp: number | undefined
  at: number
  packets: number
  octets: number
}

export type StreamSourceKind = 'file' | 'api' | 'publisher'

export class Stream {
  readonly path: string
  readonly kind: StreamSourceKind
  readonly tracks: StreamTrackInfo[]
  /** SDP served to DESCRIBE (controls `trackID=N`). */
  readonly sdp: string
  readonly readers = new ReaderSet()
  /** A short description for logs: codecs. */
  readonly summary: string
  private readonly clocks: TrackClock[]
  /** An exact media clock, when the source has one (file and API publishers). */
  clockSource: ((index: number, wallMs: number) => number | undefined) | undefined
  /** Fresh sender reports, when the source makes its own (file and API publishers). */
  reportSource: ((index: number) => Buffer | undefined) | undefined
  /** A publisher's latest sender report per track, and when it arrived (performance.now()). */
  private readonly lastReports: Array<{ packet: Buffer; rtp: number; ntpMs: number; at: number } | undefined>
  ended = false

  constructor(path: string, kind: StreamSourceKind, tracks: StreamTrackInfo[], sdp: string) {
    this.path = path
    this.kind = kind
    this.tracks = tracks
    this.sdp = sdp
    this.clocks = tracks.map(() => ({ rtpTimestamp: undefined, at: 0, packets: 0, octets: 0 }))
    this.lastReports = tracks.map(() => undefined)
    this.summary = tracks.map((t) => t.codec).join(' + ')
  }

  /** Hot path: hand one batch of track `index` to every reader. True when no reader kept its bytes (ReaderSet.deliver). */
  deliver(index: number, batch: Batch, rtpTimestamp: number): boolean {
    const clock = this.clocks[index]
    if (clock === undefined) return true
    clock.rtpTimestamp = rtpTimestamp
    clock.at = performance.now()
    clock.packets += batch.count
    clock.octets += batch.bytes - RTP_HEADER_SIZE * batch.count
    return this.readers.deliver(index, batch)
  }

  deliverRtcp(index: number, packet: Buffer): void {
    // Keep a publisher's sender report (RFC 3550 §6.4.1: NTP time, RTP time of the same
    // instant) for readers that join later, and for RTP-Info.
    if (this.reportSource === undefined && packet.length >= 20 && packet[1] === 200 && index < this.lastReports.length) {
      const ntpMs = ntpToUnixMs({ msw: packet.readUInt32BE(8), lsw: packet.readUInt32BE(12) })
      this.lastReports[index] = { packet, rtp: packet.readUInt32BE(16), ntpMs, at: performance.now() }
    }
    for (const r of this.readers) r.deliverRtcp(index, packet)
  }

  /**
   * A sender report for track `index` to send a reader as it starts, so that its clocks are
   * mapped from the first packet on (FFmpeg re-bases its timestamps at the first SR it gets).
   */
  senderReport(index: number): Buffer | undefined {
    return this.reportSource !== undefined ? this.reportSource(index) : this.lastReports[index]?.packet
  }

  /**
   * The RTP time of track `index` now (RTP-Info rtptime, RFC 2326 §12.33): exact for sources
   * of this process; for a publisher, from its sender reports when every track has sent one
   * (one instant of the publisher's clock for all tracks), else extrapolated from the last packet.
   */
  rtpTimeNow(index: number): number | undefined {
    return this.rtpTimesNow([index])[0]
  }

  /**
   * `rtpTimeNow` of several tracks at one instant: the clocks are read once, so a pause of
   * the process between two tracks (GC on a busy machine) cannot skew their alignment.
   */
  rtpTimesNow(indexes: readonly number[]): Array<number | undefined> {
    const wallMs = Date.now()
    const monoMs = performance.now()
    return indexes.map((i) => this.rtpTimeAt(i, wallMs, monoMs))
  }

  private rtpTimeAt(index: number, wallMs: number, monoMs: number): number | undefined {
    if (this.clockSource !== undefined) return this.clockSource(index, wallMs)
    const track = this.tracks[index]
    const report = this.lastReports[index]
    if (track !== undefined && report !== undefined && this.lastReports.every((r) => r !== undefined)) {
      let latest = report
      for (const r of this.lastReports) if (r!.at > latest.at) latest = r!
      const publisherNowMs = latest.ntpMs + (monoMs - latest.at)
      return (report.rtp + Math.round(((publisherNowMs - report.ntpMs) / 1000) * track.clockRate)) >>> 0
    }
    const clock = this.clocks[index]
    if (clock?.rtpTimestamp === undefined || track === undefined) return undefined
    return (clock.rtpTimestamp + Math.round(((monoMs - clock.at) / 1000) * track.clockRate)) >>> 0
  }

  sentCounts(index: number): { packets: number; octets: number } {
    const c = this.clocks[index]!
    return { packets: c.packets, octets: c.octets }
  }

  end(reason: string): void {
    if (this.ended) return
    this.ended = true
    for (const r of [...this.readers]) r.sourceEnded(reason)
    this.readers.clear()
  }
}

/** One access unit written by a program (or read from a file) to a served stream. */
export interface PublishFrame {
  /** Presentation time in seconds on a timeline shared by all tracks. */
  pts: number
  /** Key frame (IDR / IRAP); audio frames are always key frames. */
  keyFrame?: boolean
  /** H.264/H.265: NAL units without start codes; AAC/Opus/G.711: [raw frame]. */
  data: readonly Buffer[]
}

/** The smallest reused framing buffer: a few ~2 Mbit/s key frames. */
const SPARE_MIN = 64 * 1024

interface SenderState {
  /** `sequenceNumber`: the next packet's (RtpPacketizer), for Batch.nextSequenceNumber. */
  packetizer: SendPacketizer & Partial<InterleavedPacketizer> & { readonly sequenceNumber?: number }
  parameterSets: Buffer[]
  codec: string
  clockRate: number
  audio: boolean
  ssrc: number
  rtpBase: number
  unit: { data: readonly Buffer[]; rtpTimestamp: number }
  /**
   * The buffer the last access unit was framed in, when every reader let go of it (each TCP
   * write completed at once): the next unit is framed into it instead of a new ArrayBuffer
   * per frame (issue 14). Undefined while a reader may still read it (a queued write, a UDP
   * send, the HTTP side's views).
   */
  spare: Buffer | undefined
}

/**
 * Media made in this process (a file being looped, or frames from the application): each
 * access unit is packetized once and delivered to every reader, with RTCP sender reports
 * every few seconds that map the RTP clocks to wall-clock time (RFC 3550 §6.4.1).
 */
export class StreamPublisher {
  /** @internal the server's fan-out state for this path */
  readonly stream: Stream
  private readonly senders: SenderState[]
  private readonly srTimer: NodeJS.Timeout
  /** Media time ↔ wall clock, set by the first frame. */
  private anchorPts: number | undefined
  private anchorWallMs = 0
  private closed = false
  /** Called once when the publisher is closed (the server forgets the path). */
  onClose: (() => void) | undefined

  /**
   * `continueFrom`: per track, the SSRC and next sequence number to use, so that a reader's
   * own playback after a seek continues the RTP stream it was receiving (RFC 3550 §5.1:
   * receivers treat a sequence jump as loss or a restart, and ffmpeg drops the packet after one).
   */
  constructor(
    path: string,
    kind: 'file' | 'api',
    inits: readonly SendTrackInit[],
    opts: { mtu?: number; rtcpIntervalMs?: number; continueFrom?: ReadonlyArray<{ ssrc: number; sequenceNumber: number } | undefined> } = {},
  ) {
    if (inits.length === 0) throw new InvalidArgumentError(`stream /${path} needs at least one track`)
    const media = []
    const tracks: StreamTrackInfo[] = []
    this.senders = []
    for (let i = 0; i < inits.length; i++) {
      const init = inits[i]!
      const from = opts.continueFrom?.[i]
      const ssrc = from?.ssrc ?? randomInt(1, 0xffffffff)
      const t = createSendTrack(init, i, { ssrc, mtu: opts.mtu ?? 1400, control: `trackID=${i}`, ...(from !== undefined ? { initialSequenceNumber: from.sequenceNumber } : {}) })
      media.push(t.media)
      const audio = init.type === 'audio'
      tracks.push({ index: i, type: init.type, codec: t.codec, clockRate: t.clockRate, control: `trackID=${i}`, gated: !audio })
      this.senders.push({
        packetizer: t.packetizer,
        parameterSets: t.parameterSets,
        codec: t.codec,
        clockRate: t.clockRate,
        audio,
        ssrc,
        rtpBase: randomInt(0x100000000),
        unit: { data: [], rtpTimestamp: 0 },
        spare: undefined,
      })
    }
    const sdp = writeSdp({ sessionName: 'rtspkit', range: 'npt=now-', attributes: [['tool', 'rtspkit']], media })
    this.stream = new Stream(path, kind, tracks, sdp)
    this.stream.clockSource = (i, wallMs) => {
      const s = this.senders[i]
      if (s === undefined || this.anchorPts === undefined) return undefined
      return (s.rtpBase + Math.round((this.anchorPts + (wallMs - this.anchorWallMs) / 1000) * s.clockRate)) >>> 0
    }
    this.stream.reportSource = (i) => this.report(i)
    this.srTimer = setInterval(() => this.sendReports(), opts.rtcpIntervalMs ?? 5000)
    this.srTimer.unref()
  }

  get tracks(): readonly StreamTrackInfo[] {
    return this.stream.tracks
  }

  /** Readers playing this stream now. */
  get readerCount(): number {
    return this.stream.readers.size
  }

  /**
   * Send one access unit of track `index` to every reader. Parameter sets are repeated
   * before key frames that lack them. Nothing is packetized while no one is reading.
   */
  write(index: number, frame: PublishFrame): void {
    if (this.closed) throw new StateError({ action: 'write', state: 'closed', allowed: ['open'] })
    const s = this.senders[index]
    if (s === undefined) throw new InvalidArgumentError(`stream /${this.stream.path} has no track ${index}`)
    if (!Number.isFinite(frame.pts)) throw new InvalidArgumentError(`frame pts must be a finite number of seconds, got ${frame.pts}`)
    if (this.anchorPts === undefined) {
      this.anchorPts = frame.pts
      this.anchorWallMs = Date.now()
    }
    const rtpTimestamp = (s.rtpBase + Math.round(frame.pts * s.clockRate)) >>> 0
    if (this.stream.readers.size === 0) return
    const key = s.audio || frame.keyFrame === true
    const unit = s.unit
    unit.rtpTimestamp = rtpTimestamp
    unit.data = key ? withParameterSets(s.codec, s.parameterSets, frame.data) : frame.data
    const p = s.packetizer
    if (p.packetizeInterleaved !== undefined) {
      // Framed once on the channel TCP readers of this track usually take (2 × index, as
      // clients number them): their socket write is this buffer; UDP readers get views.
      const channel = 2 * index
      const spare = s.spare
      s.spare = undefined
      const framed = p.packetizeInterleaved(unit, channel, spare)
      const data = framed.data
      const batch = Batch.interleaved(data, channel, framed.packets, key)
      batch.ssrc = s.ssrc
      batch.nextSequenceNumber = p.sequenceNumber ?? -1
      if (this.stream.deliver(index, batch, rtpTimestamp) && data.length > 0 && batch.nextSequenceNumber >= 0) {
        // Nobody holds the bytes: frame the next unit in the same memory. The packetizer
        // wrote into `spare` when it was large enough, else into a buffer of its own, whose
        // length past `data` is unknown: a new spare then, with room to grow (a larger key
        // frame next).
        s.spare = spare !== undefined && data.buffer === spare.buffer ? spare : Buffer.allocUnsafeSlow(Math.max(SPARE_MIN, 2 * data.length))
      }
    } else {
      this.stream.deliver(index, new Batch(p.packetize(unit), key), rtpTimestamp)
    }
  }

  /** The RTP timestamp track `index` gives a frame presented at `pts` seconds (RTP-Info rtptime of a seek, RFC 2326 §12.33). */
  rtpTimeOf(index: number, pts: number): number | undefined {
    const s = this.senders[index]
    return s === undefined ? undefined : (s.rtpBase + Math.round(pts * s.clockRate)) >>> 0
  }

  private sendReports(): void {
    if (this.stream.readers.size === 0) return
    for (let i = 0; i < this.senders.length; i++) {
      const sr = this.report(i)
      if (sr !== undefined) this.stream.deliverRtcp(i, sr)
    }
  }

  /** RFC 3550 §6.4.1: the NTP time and the RTP timestamp of the same instant, on the media clock shared by all tracks. */
  private report(i: number): Buffer | undefined {
    const s = this.senders[i]
    if (s === undefined || this.anchorPts === undefined) return undefined
    const nowMs = Date.now()
    const mediaNow = this.anchorPts + (nowMs - this.anchorWallMs) / 1000
    const sent = this.stream.sentCounts(i)
    return buildSenderReport({
      ssrc: s.ssrc,
      ntp: ntpFromDate(nowMs),
      rtpTimestamp: (s.rtpBase + Math.round(mediaNow * s.clockRate)) >>> 0,
      packetCount: sent.packets >>> 0,
      octetCount: sent.octets >>> 0,
      cname: 'rtspkit',
    })
  }

  /** Stop publishing: readers' sessions end and the path is free again. Idempotent. */
  close(reason = 'the stream was closed'): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.srTimer)
    this.stream.end(reason)
    this.onClose?.()
  }
}
