// One file for the playing session: its handshake, the packet path (reorder → depacketize →
// timeline), the timeline's clock sources (RTP-Info, sender reports, arrival) and its end
// (signal, iterators, TEARDOWN) share the per-track runtime state and the one release().
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import { CommandSession, USER_AGENT } from './command-session.js'
import { FrameQueue } from './frame-queue.js'
import { PacketQueue } from './packet-queue.js'
import type { ReceivedPacket } from './packet-queue.js'
import type { Frame, Track, TrackStats, TrackTransport } from './track.js'
import { AbortError, InvalidArgumentError, ProtocolError, RtspError, StateError, StatusError, TimeoutError, UnsupportedError } from '../errors.js'
import type { RtspResponse } from '../rtsp/message.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { parseRtpInfo } from '../rtsp/headers/rtp-info.js'
import { parseSdp } from '../sdp/parse.js'
import type { SessionDescription } from '../sdp/types.js'
import { h265UpdateDetails, latmUpdateDetails, mjpegUpdateDetails, resolveFormat, supportedCodecs } from '../formats/registry.js'
import type { AccessUnit, Depacketizer } from '../formats/types.js'
import { parseH264Sps } from '../codec/h264-sps.js'
import { createRtpPacket, parseRtpPacketInto } from '../rtp/packet.js'
import { seqDiff } from '../rtp/sequence.js'
import { TimestampUnwrapper } from '../rtp/timestamp-unwrapper.js'
import { ReorderBuffer } from '../rtp/reorder-buffer.js'
import type { ReorderOptions } from '../rtp/reorder-buffer.js'
import { ReceiverStats } from '../rtcp/receiver-stats.js'
import { buildReceiverReport, isRtcp, ntpMiddle32, parseRtcpPacket } from '../rtcp/packets.js'
import { bindRtpPortPair } from '../transport/udp.js'
import { publishTrackLoss, publishTransportChange } from '../diagnostics.js'
import type { UdpPortPair } from '../transport/udp.js'
import type { ParsedRtspUrl } from '../util/url.js'
import { redactUrl, resolveContentBase, resolveControl } from '../util/url.js'
import type { PlayRange, PullOptions, TransportProtocol } from './options.js'
import { formatRange, parseRange } from '../rtsp/headers/range.js'
import type { RangeHeader } from '../rtsp/headers/range.js'

export type { PlayRange, PullOptions, TransportProtocol } from './options.js'

/**
 * Where the common timeline comes from: the PLAY reply's RTP-Info (every track), the arrival
 * of each track's first unit, or RTCP sender reports of every track (once they arrived).
 */
export type ClockSource = 'rtp-info' | 'arrival' | 'sender-reports'

export type PullState = 'connecting' | 'describing' | 'setting-up' | 'starting' | 'playing' | 'paused' | 'closing' | 'closed'

export interface PullSessionEvents {
  /** One access unit. */
  frame: [frame: Frame]
  /** One RTP packet as received. The object is reused for the next packet and the payload is a view: copy what you keep. */
  rtp: [track: Track, packet: import('../rtp/packet-types.js').RtpPacket]
  /** A track's codec details changed (in-band SPS with another resolution, first in-band SPS). */
  'track-update': [track: Track]
  /** The RTP clock of a track jumped without wall-clock time passing; the timeline was kept continuous. */
  discontinuity: [track: Track, jumpSeconds: number]
  /** Something worth knowing that does not end the session (keep-alive refused, garbage skipped). */
  warning: [message: string]
  /** A fatal error; emitted only when someone listens (the error also reaches `closed` and `frames()`). */
  error: [err: RtspError]
  /** The session ended; err is undefined after close(). */
  close: [err: RtspError | undefined]
}

export { USER_AGENT }


/** Per-track state on the packet path. */
/** Longest stretch of one track's media (seconds of RTP time) held for a common timeline (PullSession.held). */
const HOLD_MAX_S = 0.5

interface HeldUnit {
  rt: TrackRuntime
  au: AccessUnit
  now: number
}

class TrackRuntime {
  readonly unwrapper = new TimestampUnwrapper()
  readonly packet = createRtpPacket()
  readonly stats: ReceiverStats
  expectedSeq = -1
  base: number | undefined
  offset = 0
  /** RTP-Info rtptime (RFC 2326 §12.33) when the PLAY reply gave one. */
  rtpInfoTime: number | undefined
  /** Timeline position of rtpInfoTime: 0 for the first PLAY, past the last frame after a seek. */
  rtpInfoPts = 0
  packetsReceived = 0
  bytesReceived = 0
  framesReceived = 0
  malformed = 0
  rtcpPacketsReceived = 0
  rtcpPacketsSent = 0
  udp: UdpPortPair | undefined
  rtcpChannel = -1
  /** UDP: puts packets back in order; its timer runs only while packets wait. */
  reorder: ReorderBuffer | undefined
  reorderTimer: NodeJS.Timeout | undefined
  /** Bound once: the reorder buffer's output goes to the packet path. */
  emitOrdered: ((buf: Buffer) => void) | undefined
  /** Last unit's extended timestamp and arrival, for discontinuity detection. */
  lastExt = 0
  lastArrival = 0
  lastPts = 0
  discontinuities = 0
  /** Latest sender report: its wall clock and the RTP time of the same instant. */
  srUnixMs: number | undefined
  srRtpTime = 0
  /** The track's timeline follows the sender-report mapping of the reference track. */
  srSynced = false
  /** RTP timestamp of the track's first held unit (PullSession.held). */
  heldFirstTs: number | undefined
  constructor(
    readonly track: Track,
    readonly depacketizer: Depacketizer,
  ) {
    this.stats = new ReceiverStats({ clockRate: track.clockRate })
  }
}


/**
 * A playing RTSP session (RFC 2326 §A.1 client state machine: Init → Ready → Playing).
 * Created by `RtspClient.pull()`, which returns once PLAY has been answered.
 */
export class PullSession extends EventEmitter<PullSessionEvents> {
  /** Where the session is; each change is published on rtspkit:client:session:state. */
  get state(): PullState {
    return this.cmd.state
  }
  set state(to: PullState) {
    this.cmd.moveTo(to)
  }
  /** The tracks that were set up, in SDP order. */
  readonly tracks: Track[] = []
  /** SDP media that were offered but not set up (codec not supported). */
  readonly skippedMedia: Array<{ type: string; codec: string }> = []
  /** The parsed SDP. */
  sdp: SessionDescription | undefined
  /** The server's `Server` header. */
  get server(): string | undefined {
    return this.conn.server
  }
  /** The URL without credentials. */
  readonly url: string
  /** The transport in use and why it was chosen (set by RtspClient); published on rtspkit:client:transport:change. */
  get transport(): { protocol: TransportProtocol; reason: string } | undefined {
    return this.transportValue
  }
  set transport(to: { protocol: TransportProtocol; reason: string } | undefined) {
    if (to !== undefined) publishTransportChange(this, this.url, this.transportValue?.protocol, to.protocol, to.reason)
    this.transportValue = to
  }
  private transportValue: { protocol: TransportProtocol; reason: string } | undefined
  /** Resolves when the session has ended: undefined after close(), the error otherwise. Never rejects. */
  readonly closed: Promise<RtspError | undefined>
  /** How the tracks' timelines are aligned; 'arrival' turns into 'sender-reports' once every track has sent one. */
  clockSource: ClockSource = 'arrival'

  private readonly cmd: CommandSession<PullState>
  private readonly conn: CommandSession<PullState>['conn']
  private readonly opts: Required<Omit<PullOptions, 'credentials' | 'signal' | 'limits' | 'tls' | 'udpFallback' | 'reorder' | 'maxTimestampJumpS' | 'range' | 'httpTunnel'>>
  /** The first PLAY's Range (PullOptions.range). */
  private readonly startRange: PlayRange | undefined
  /** A PLAY after the first is on its way: its reply moves the timeline on (seek) or resumes. */
  private replay: { seek: boolean } | undefined
  /** The NPT range of the last PLAY reply (RFC 2326 §12.29), and the timeline position it began at. */
  private nptAt: { range: RangeHeader | undefined; pts: number } | undefined
  private readonly reorder: ReorderOptions | false
  private readonly maxJumpS: number
  private readonly udpFallback: boolean
  private readonly runtimes: TrackRuntime[] = []
  private rtcpTimer: NodeJS.Timeout | undefined
  private readTimer: NodeJS.Timeout | undefined
  private lastMediaAt = 0
  private playStartedAt = 0
  private readonly ssrc = randomInt(1, 0xffffffff)
  private queue: FrameQueue | undefined
  private packetQueue: PacketQueue | undefined
  /** The track whose timeline the others are aligned to by sender reports. */
  private syncRef: TrackRuntime | undefined
  /**
   * Frames that arrive before anyone consumes them: cameras write the first packets (the
   * key frame) together with the PLAY reply, before pull() has returned the session. Held,
   * in order, until frames() is called or a 'frame' listener is added; undefined after.
   */
  private early: Frame[] | undefined = []
  /**
   * Units held, in arrival order, while the tracks' common timeline is unknown: before the
   * PLAY reply, and after a reply without RTP-Info for every track (RFC 2326 §12.33) until
   * every track's first sender report (RFC 3550 §6.4.1) is in. Over UDP a track's first RTP
   * packets and its SR come on two sockets and are read in either order: placing units by
   * arrival and moving the track when its SR follows would step its timeline. A server that
   * sends no SR costs at most HOLD_MAX_S of media (measured in RTP time, so a busy machine
   * changes nothing), then units are placed by arrival as before. Undefined once released.
   */
  private held: HeldUnit[] | undefined = []

  /** @hidden Applications use RtspClient.pull(); the constructor stays in the .d.ts so the class type is not given a false no-argument one. */
  constructor(
    private readonly target: ParsedRtspUrl,
    options: PullOptions,
  ) {
    super()
    this.url = target.url.toString()
    this.udpFallback = options.udpFallback === true
    this.reorder = options.reorder ?? {}
    this.maxJumpS = options.maxTimestampJumpS ?? 5
    this.startRange = options.range
    this.opts = {
      transport: options.transport ?? 'tcp',
      timeoutMs: options.timeoutMs ?? 10_000,
      readTimeoutMs: options.readTimeoutMs ?? 10_000,
      teardownTimeoutMs: options.teardownTimeoutMs ?? 2_000,
      userAgent: options.userAgent ?? USER_AGENT,
      frameQueueSize: options.frameQueueSize ?? 1024,
      rtcpIntervalMs: options.rtcpIntervalMs ?? 5_000,
      udpReceiveBufferSize: options.udpReceiveBufferSize ?? 4 * 1024 * 1024,
    }
    this.cmd = new CommandSession<PullState>(
      {
        owner: this,
        kind: 'pull',
        url: this.url,
        connection: {
          host: target.host,
          port: target.port,
          secure: target.secure,
          tls: options.tls,
          credentials: options.credentials ?? target.credentials,
          timeoutMs: this.opts.timeoutMs,
          userAgent: this.opts.userAgent,
          limits: options.limits,
          ...(options.httpTunnel ? { httpTunnel: { path: `${target.url.pathname}${target.url.search}`, ...(options.httpTunnel === true ? {} : options.httpTunnel) } } : {}),
        },
        timeoutMs: this.opts.timeoutMs,
        teardownTimeoutMs: this.opts.teardownTimeoutMs,
        established: ['playing', 'paused'],
        stats: () => this.stats(),
      },
      {
        stopMedia: () => this.stopTimers(),
        closing: (err) => {
          // The caller's signal fired: frames() ends at once, before TEARDOWN's bounded wait.
          if (err === undefined) return
          this.queue?.end(err)
          this.packetQueue?.end(err)
        },
        released: (err) => {
          for (const rt of this.runtimes) {
            void rt.udp?.close()
            rt.udp = undefined
          }
          this.queue?.end(err)
          this.packetQueue?.end(err)
          this.early = undefined
          this.held = undefined
        },
      },
    )
    this.conn = this.cmd.conn
    this.closed = this.cmd.closed
    this.conn.onGarbage = (n) => this.emit('warning', `skipped ${n} bytes of garbage from the server`)
    // RTP-Info is applied as the PLAY reply is read, before the media written with it.
    this.conn.onReply = (res, method) => {
      if (method !== 'PLAY' || res.status < 200 || res.status >= 300) return
      const seek = this.replay?.seek === true
      if (this.replay !== undefined) this.replayed(res, seek)
      else this.applyRtpInfo(res)
      // The reply's Range starts where the timeline stands now (the first PLAY: at 0).
      this.nptAt = { range: rangeOf(res), pts: this.replay !== undefined ? this.timelineEnd() : 0 }
    }
    ;(this as EventEmitter).on('newListener', (event: string | symbol) => {
      // After the listener is added (newListener runs before): it gets the held frames first.
      if (event === 'frame' && this.early !== undefined) queueMicrotask(() => this.flushEarly())
    })
  }

  /** Run OPTIONS → DESCRIBE → SETUP… → PLAY within one timeout; on any failure everything is released. */
  start(signal?: AbortSignal): Promise<void> {
    return this.cmd.start((s) => this.handshake(s), signal)
  }

  private async handshake(signal?: AbortSignal): Promise<void> {
    const url = this.url
    await this.cmd.open(url, signal)

    this.cmd.moveTo('describing')
    const describe = await this.conn.request('DESCRIBE', url, { Accept: 'application/sdp' })
    this.cmd.assertNotEnded()
    if (describe.body.length === 0) {
      throw new ProtocolError(`DESCRIBE reply for ${url} has no SDP body; the server is not sending a stream description`)
    }
    const sdp = parseSdp(describe.body)
    this.sdp = sdp
    const base = this.contentBase(describe, url)
    this.cmd.controlUrl = resolveControl(base, sdp.control)
    this.buildTracks(sdp, base)

    this.cmd.moveTo('setting-up')
    for (const rt of this.runtimes) {
      await this.setupTrack(rt)
      this.cmd.assertNotEnded()
    }

    this.cmd.moveTo('starting')
    // Timeline origin: media may arrive before the PLAY reply (Reolink, v4l2rtspserver).
    this.playStartedAt = performance.now()
    // RFC 2326 §12.29: Range on PLAY; ffmpeg and VLC send npt=0.000- too, and some cameras need it.
    // RTP-Info is applied by conn.onReply, before media that came in the same segment.
    await this.conn.request('PLAY', this.cmd.controlUrl, { Range: this.startRange !== undefined ? playRangeHeader(this.startRange) : 'npt=0.000-' })
    this.cmd.assertNotEnded()
    this.lastMediaAt = performance.now()
    this.cmd.moveTo('playing')
    this.startTimers()
  }

  /** RFC 2326 §C.1.1: Content-Base, then Content-Location, then the request URL (schemeless values: resolveContentBase). */
  private contentBase(res: RtspResponse, requestUrl: string): string {
    return resolveContentBase(res.headers.get('Content-Base') ?? res.headers.get('Content-Location'), requestUrl)
  }

  private buildTracks(sdp: SessionDescription, base: string): void {
    for (const media of sdp.media) {
      let chosen: { pt: number; handler: NonNullable<ReturnType<typeof resolveFormat>> } | undefined
      for (const pt of media.formats) {
        const handler = resolveFormat(media, pt)
        if (handler !== undefined) {
          chosen = { pt, handler }
          break
        }
      }
      if (chosen === undefined) {
        const pt = media.formats[0]
        const name = pt !== undefined ? (media.rtpmap.get(pt)?.encoding ?? `payload type ${pt}`) : 'no format'
        this.skippedMedia.push({ type: media.type, codec: name })
        continue
      }
      const { pt, handler } = chosen
      const rtpmap = media.rtpmap.get(pt)
      const track: Track = {
        index: this.tracks.length,
        type: media.type,
        codec: handler.codec,
        payloadType: pt,
        clockRate: handler.clockRate,
        channels: rtpmap?.channels,
        control: redactUrl(resolveControl(base, media.control)),
        fmtp: media.fmtp.get(pt) ?? {},
        details: { ...handler.details },
        transport: { protocol: this.opts.transport },
        media,
      }
      this.tracks.push(track)
      this.runtimes.push(new TrackRuntime(track, handler.createDepacketizer()))
    }
    if (this.tracks.length === 0) {
      const offered = this.skippedMedia.map((m) => `${m.type} ${m.codec}`).join(', ') || 'nothing'
      throw new UnsupportedError(`the stream offers no track rtspkit can receive (offered: ${offered}); supported: ${supportedCodecs.join(', ')}`)
    }
  }

  private async setupTrack(rt: TrackRuntime): Promise<void> {
    const i = rt.track.index
    let request: TransportSpec
    if (this.opts.transport === 'udp') {
      rt.udp = await bindRtpPortPair({
        host: this.conn.localAddress,
        recvBufferSize: this.opts.udpReceiveBufferSize,
      })
      request = { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [rt.udp.rtpPort, rt.udp.rtcpPort] }
    } else {
      request = { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2 * i, 2 * i + 1] }
    }
    let reply: TransportSpec | undefined
    try {
      reply = await this.cmd.setup(rt.track.control, rt.track.control, request)
    } catch (err) {
      // 461 Unsupported Transport (RFC 2326 §11.3.18) to the first UDP SETUP: with transport
      // 'auto', go on over TCP in this same connection (no new DESCRIBE: some servers, like
      // GStreamer's, are still tearing the media down and answer 503 to a new one).
      if (!(err instanceof StatusError && err.status === 461 && this.udpFallback && i === 0 && rt.udp !== undefined)) throw err
      await rt.udp.close()
      rt.udp = undefined
      this.opts.transport = 'tcp'
      this.transport = { protocol: 'tcp', reason: 'the server answered 461 Unsupported Transport to UDP' }
      return this.setupTrack(rt)
    }
    const t: TrackTransport = rt.track.transport
    t.ssrc = reply?.ssrc
    if (reply?.lowerTransport === 'TCP' || (reply === undefined && this.opts.transport === 'tcp')) {
      // Use the channels the server actually assigned (it may ignore ours).
      const channels = reply?.interleaved ?? request.interleaved ?? [2 * i, 2 * i + 1]
      if (rt.udp !== undefined) {
        // The server answered a UDP request with TCP: go along with it.
        await rt.udp.close()
        rt.udp = undefined
        this.emit('warning', `server chose TCP for ${rt.track.control}`)
      }
      t.protocol = 'tcp'
      t.interleaved = channels
      this.conn.channels[channels[0]] = (payload) => this.onRtp(rt, payload)
      this.conn.channels[channels[1]] = (payload) => this.onRtcp(rt, payload)
      rt.rtcpChannel = channels[1]
    } else {
      if (rt.udp === undefined) {
        throw new ProtocolError(`server answered a TCP SETUP for ${rt.track.control} with UDP transport; try --transport udp`)
      }
      t.protocol = 'udp'
      t.clientPort = [rt.udp.rtpPort, rt.udp.rtcpPort]
      // `server_port=0-1` (some cameras behind NAT helpers) means "unknown": learn it from the first packet.
      const sp = reply?.serverPort
      t.serverPort = sp !== undefined && sp[0] > 0 && sp[1] > 0 ? sp : undefined
      // Accept packets only from the server we talk to (RFC 2326 §12.39 `source`, else the RTSP peer).
      const remote = reply?.source ?? this.conn.remoteAddress ?? this.target.host
      rt.udp.setRemote(remote, t.serverPort?.[0], t.serverPort?.[1])
      if (this.reorder !== false) {
        const rb = new ReorderBuffer(this.reorder)
        rt.reorder = rb
        rt.emitOrdered = (buf) => this.onRtp(rt, buf)
        rt.udp.onRtp((buf) => this.onDatagram(rt, rb, buf))
      } else {
        rt.udp.onRtp((buf) => this.onRtp(rt, buf))
      }
      rt.udp.onRtcp((buf) => this.onRtcp(rt, buf))
      // NAT-opening packets, so that a firewall in front of us lets the server's stream in.
      rt.udp.punch()
    }
  }

  private applyRtpInfo(play: RtspResponse): void {
    const header = play.headers.get('RTP-Info')
    if (header === undefined) return
    let entries: ReturnType<typeof parseRtpInfo>
    try {
      entries = parseRtpInfo(header)
    } catch {
      return
    }
    for (const rt of this.runtimes) {
      const control = rt.track.control
      const match = entries.find((e) => e.url === control || control.endsWith(e.url) || e.url.endsWith(control.slice(control.lastIndexOf('/') + 1)))
      if (match?.rtptime !== undefined) rt.rtpInfoTime = match.rtptime
    }
    if (this.runtimes.every((rt) => rt.rtpInfoTime !== undefined)) {
      this.clockSource = 'rtp-info'
      this.releaseHeld()
      // Units that came before the reply (UDP packets overtaking it) were timed by arrival:
      // re-base them on rtptime; they are still held, so their pts can be corrected.
      for (const rt of this.runtimes) {
        if (rt.base === undefined || rt.rtpInfoTime === undefined) continue
        rt.base = rt.lastExt - ((rt.lastExt - rt.rtpInfoTime) | 0) // signed 32-bit distance
        rt.offset = 0
        rt.srSynced = false
        rt.lastPts = 0
        for (const f of this.early ?? []) {
          if (f.track !== rt.track) continue
          f.pts = (f.timestamp - rt.base) / rt.track.clockRate
          if (f.pts > rt.lastPts) rt.lastPts = f.pts
        }
      }
    }
  }

  // ---- media path (hot) ----

  /** UDP: through the reorder buffer first (RTP version 2 and a whole header, else dropped). */
  private onDatagram(rt: TrackRuntime, rb: ReorderBuffer, buf: Buffer): void {
    if (buf.length < 12 || buf[0]! >> 6 !== 2) {
      rt.malformed++
      return
    }
    // RTCP sent where RTP was expected (some cameras send their sender reports on the RTP
    // channel or port): PT 192-223 sits where no RTP stream's marker + payload type does (RFC 5761 §4).
    if (isRtcp(buf)) return this.onRtcp(rt, buf)
    const now = performance.now()
    rb.push(buf, buf.readUInt16BE(2), now, rt.emitOrdered!)
    if (rb.waiting > 0 && rt.reorderTimer === undefined) {
      const tick = () => {
        rt.reorderTimer = undefined
        rb.flushExpired(performance.now(), rt.emitOrdered!)
        if (rb.waiting > 0 && this.cmd.state === 'playing') {
          rt.reorderTimer = setTimeout(tick, 20)
          rt.reorderTimer.unref()
        }
      }
      rt.reorderTimer = setTimeout(tick, 20)
      rt.reorderTimer.unref()
    }
  }

  private onRtp(rt: TrackRuntime, buf: Buffer): void {
    // 'setting-up' too: a UDP camera may start sending once the last SETUP is answered.
    const state = this.cmd.state
    if (state !== 'playing' && state !== 'starting' && state !== 'setting-up') return
    if (isRtcp(buf)) return this.onRtcp(rt, buf)
    // One packet object per track, refilled for every packet: no allocation on this path.
    const pkt = rt.packet
    if (!parseRtpPacketInto(buf, pkt)) {
      rt.malformed++
      return
    }
    const now = performance.now()
    this.lastMediaAt = now
    rt.packetsReceived++
    rt.bytesReceived += buf.length
    rt.stats.onRtp(pkt.sequenceNumber, pkt.timestamp, now, pkt.payload.length, pkt.ssrc)
    if (rt.expectedSeq >= 0) {
      const d = seqDiff(pkt.sequenceNumber, rt.expectedSeq)
      if (d < 0) return // duplicate or late: the unit it belonged to is gone
      if (d > 0) {
        rt.depacketizer.reset() // loss: drop the partial unit
        publishTrackLoss(this, this.url, rt.track, rt.expectedSeq, pkt.sequenceNumber)
      }
    }
    rt.expectedSeq = (pkt.sequenceNumber + 1) & 0xffff
    if (this.listenerCount('rtp') > 0) this.emit('rtp', rt.track, pkt)
    if (this.packetQueue !== undefined) this.packetQueue.push(rt.track, pkt, now)
    const units = rt.depacketizer.push(pkt)
    for (let i = 0; i < units.length; i++) this.onUnit(rt, units[i]!, now)
  }

  private onUnit(rt: TrackRuntime, au: AccessUnit, now: number): void {
    const held = this.held
    if (held !== undefined) {
      if (held.length === 0 || rt.heldFirstTs === undefined) rt.heldFirstTs = au.rtpTimestamp
      held.push({ rt, au, now })
      const spanS = ((au.rtpTimestamp - rt.heldFirstTs) | 0) / rt.track.clockRate // signed 32-bit distance
      if (spanS >= HOLD_MAX_S || held.length >= this.opts.frameQueueSize) this.releaseHeld()
      return
    }
    this.placeUnit(rt, au, now)
  }

  /** Place the held units on the timeline chosen now (RTP-Info, sender reports, else arrival), in order. */
  private releaseHeld(): void {
    const held = this.held
    if (held === undefined) return
    this.held = undefined
    if (this.clockSource === 'sender-reports' && this.syncRef !== undefined && this.syncRef.base === undefined) {
      // The reference track starts by its first unit's arrival; the others follow its SR mapping.
      const ref = this.syncRef
      const first = held.find((h) => h.rt === ref)
      if (first !== undefined) {
        ref.base = ref.lastExt = ref.unwrapper.unwrap(first.au.rtpTimestamp)
        ref.offset = (first.now - this.playStartedAt) / 1000
      }
    }
    for (let i = 0; i < held.length; i++) {
      const h = held[i]!
      h.rt.heldFirstTs = undefined
      this.placeUnit(h.rt, h.au, h.now)
    }
  }

  private placeUnit(rt: TrackRuntime, au: AccessUnit, now: number): void {
    const track = rt.track
    const ext = rt.unwrapper.unwrap(au.rtpTimestamp)
    if (rt.base === undefined) {
      if (rt.rtpInfoTime !== undefined) {
        // RTP-Info maps each track's rtptime to the same PLAY start: tracks stay in sync.
        const d = ((au.rtpTimestamp - rt.rtpInfoTime) | 0) // signed 32-bit distance
        rt.base = ext - d
        // After a seek or resume, a first unit from before rtptime still lands past the old end.
        rt.offset = d < 0 && rt.rtpInfoPts > 0 ? rt.rtpInfoPts - d / track.clockRate : rt.rtpInfoPts
      } else {
        const m = this.clockSource === 'sender-reports' ? this.referenceMapping(rt, ext) : undefined
        if (m !== undefined) {
          rt.base = m.base
          rt.offset = m.offset
          rt.srSynced = true
        } else {
          // No RTP-Info: align the track's first unit with its arrival time (until sender reports say better).
          rt.base = ext
          rt.offset = (now - this.playStartedAt) / 1000
        }
      }
    }
    else if (rt.framesReceived > 0) {
      // A jump of the RTP clock that wall-clock time does not match (camera restart, a
      // server switching sources): keep the timeline continuous instead of leaving a gap of
      // hours in recordings, and say so.
      const jumpS = (ext - rt.lastExt) / track.clockRate
      const wallS = (now - rt.lastArrival) / 1000
      if (Math.abs(jumpS - wallS) > this.maxJumpS) {
        rt.base = ext
        rt.offset = rt.lastPts + Math.max(wallS, 0.001)
        rt.discontinuities++
        // The last SR's NTP ↔ RTP pairing belongs to the old clock: wait for the next one.
        rt.srUnixMs = undefined
        rt.srSynced = false
        this.emit('discontinuity', track, jumpS)
      }
    }
    rt.lastExt = ext
    rt.lastArrival = now
    rt.framesReceived++
    if (au.keyFrame && track.codec === 'H264') this.checkParameterSets(rt, au)
    else if (au.keyFrame && track.codec === 'H265' && h265UpdateDetails(track.details, au.data)) this.emit('track-update', track)
    else if (track.codec === 'JPEG' && mjpegUpdateDetails(track.details, au.data)) this.emit('track-update', track)
    // cpresent=1: the AAC config arrives in-band (RFC 6416 §6.1).
    else if (track.codec === 'MP4A-LATM' && latmUpdateDetails(track.details, rt.depacketizer)) this.emit('track-update', track)
    const pts = rt.offset + (ext - rt.base) / track.clockRate
    if (pts > rt.lastPts) rt.lastPts = pts
    const frame: Frame = {
      track,
      timestamp: ext,
      pts,
      keyFrame: au.keyFrame,
      data: au.data,
      // RFC 3550 §6.4.1: the SR pairs an NTP instant with an RTP time; signed 32-bit distance from it.
      captureTime: rt.srUnixMs === undefined ? undefined : rt.srUnixMs + (((au.rtpTimestamp - rt.srRtpTime) | 0) * 1000) / track.clockRate,
    }
    if (this.early !== undefined) {
      // Nobody consumes yet (pull() has not returned): hold, bounded like the frame queue.
      if (this.early.length < this.opts.frameQueueSize) this.early.push(frame)
      return
    }
    if (this.queue !== undefined) this.queue.push(frame)
    this.emit('frame', frame)
  }

  /** Hand the held frames to the consumer(s), in order; from now on frames go straight out. */
  private flushEarly(): void {
    const early = this.early
    if (early === undefined) return
    this.early = undefined
    for (let i = 0; i < early.length; i++) {
      const f = early[i]!
      this.queue?.push(f)
      this.emit('frame', f)
    }
  }

  /** An in-band SPS that differs from what we know updates the track (first SPS, resolution change). */
  private checkParameterSets(rt: TrackRuntime, au: AccessUnit): void {
    const d = rt.track.details
    for (const nal of au.data) {
      const type = (nal[0] ?? 0) & 0x1f
      if (type === 7) {
        if (d.sps !== undefined && d.sps.equals(nal)) continue
        try {
          const info = parseH264Sps(nal)
          d.sps = Buffer.from(nal)
          d.width = info.width
          d.height = info.height
          d.profile = info.profile
          d.level = info.level
          d.codecString = info.codecString
          this.emit('track-update', rt.track)
        } catch {
          // A broken SPS is left for the decoder to judge.
        }
      } else if (type === 8) {
        if (d.pps === undefined || !d.pps.equals(nal)) d.pps = Buffer.from(nal)
      }
    }
  }

  private onRtcp(rt: TrackRuntime, buf: Buffer): void {
    const now = performance.now()
    const packets = parseRtcpPacket(buf)
    if (packets === undefined) return
    rt.rtcpPacketsReceived++
    for (const p of packets) {
      if (p.type === 'sr') {
        rt.stats.onSenderReport(ntpMiddle32(p.ntp), now)
        rt.srUnixMs = p.unixMs
        rt.srRtpTime = p.rtpTimestamp
        if (this.clockSource !== 'rtp-info') this.syncFromSenderReports(rt)
      }
    }
  }

  /**
   * Without RTP-Info, tracks start aligned by the arrival of their first unit, which is off by
   * whatever the camera delays one medium against another (audio encoders often lag video by
   * hundreds of ms). An SR pairs an NTP wall-clock instant with the RTP time of the same
   * instant (RFC 3550 §6.4.1), so once every track has sent one, each track is re-based so
   * that units captured at the same instant get the same pts, as FFmpeg's RTSP demuxer does
   * with its first RTCP NTP time. The reference (the first video track with units) keeps its
   * timeline; another track moves once, and again only after a discontinuity of its clock.
   * Such a move is one step of the track's pts (backwards or forwards); the recorders' common
   * timeline drops what would go backwards. Clock drift between SRs is not followed.
   */
  private syncFromSenderReports(rt: TrackRuntime): void {
    if (this.clockSource === 'arrival') {
      if (this.runtimes.some((r) => r.srUnixMs === undefined)) return
      if (this.held !== undefined) {
        // Nothing placed yet: the first video track with held units is the reference.
        const holders = this.runtimes.filter((r) => this.held!.some((h) => h.rt === r))
        const ref = holders.find((r) => r.track.type === 'video') ?? holders[0]
        if (ref === undefined) return
        this.syncRef = ref
        ref.srSynced = true
        this.clockSource = 'sender-reports'
        this.releaseHeld()
        return
      }
      const started = this.runtimes.filter((r) => r.base !== undefined)
      const ref = started.find((r) => r.track.type === 'video') ?? started[0]
      if (ref === undefined) return
      this.syncRef = ref
      ref.srSynced = true
      this.clockSource = 'sender-reports'
      // Tracks without units yet are aligned at their first unit.
      for (const r of started) if (r !== ref) this.alignToReference(r)
    } else if (rt === this.syncRef) {
      rt.srSynced = true
    } else if (!rt.srSynced && rt.base !== undefined) {
      this.alignToReference(rt)
    }
  }

  private alignToReference(rt: TrackRuntime): void {
    const m = this.referenceMapping(rt, rt.lastExt)
    if (m === undefined) return
    rt.base = m.base
    rt.offset = m.offset
    rt.srSynced = true
  }

  /**
   * The base and offset that put a track's latest SR instant at the reference's pts for the
   * same wall-clock instant, so that every unit of it lands on the reference's timeline.
   * `nearExt` is an extended timestamp of this track near the SR's (to extend its 32-bit RTP
   * time). Undefined while either track lacks a current SR.
   */
  private referenceMapping(rt: TrackRuntime, nearExt: number): { base: number; offset: number } | undefined {
    const ref = this.syncRef
    if (ref === undefined || ref.srUnixMs === undefined || ref.base === undefined || rt.srUnixMs === undefined) return undefined
    // Signed 32-bit distances (`| 0` wraps modulo 2^32) extend both SRs' RTP times.
    const refSrExt = ref.lastExt + ((ref.srRtpTime - ref.lastExt) | 0)
    return {
      base: nearExt + ((rt.srRtpTime - nearExt) | 0),
      offset: ref.offset + (refSrExt - ref.base) / ref.track.clockRate + (rt.srUnixMs - ref.srUnixMs) / 1000,
    }
  }

  // ---- timers ----

  private startTimers(): void {
    // Keep-alive (RFC 2326 §12.37): well inside the server's session timeout, on TCP and UDP alike.
    const keepAliveMs = Math.max(500, Math.floor((this.cmd.sessionTimeoutS * 1000) / 2))
    const method = this.cmd.publicMethods.has('GET_PARAMETER') ? 'GET_PARAMETER' : 'OPTIONS'
    const url = method === 'OPTIONS' ? this.url : this.cmd.controlUrl
    this.cmd.startKeepAlive(keepAliveMs, () => this.conn.request(method, url), (err) => {
      // A refused keep-alive does not end a stream that is still flowing.
      if (this.cmd.state === 'playing') this.emit('warning', `keep-alive ${method} failed: ${(err as Error).message}`)
    })

    this.rtcpTimer = setInterval(() => this.sendReceiverReports(), this.opts.rtcpIntervalMs)
    this.rtcpTimer.unref()

    const readTimeout = this.opts.readTimeoutMs
    this.readTimer = setInterval(() => {
      // A paused session (RFC 2326 §10.6) receives nothing by design.
      if (this.cmd.state !== 'paused' && performance.now() - this.lastMediaAt > readTimeout) {
        this.cmd.fail(new TimeoutError({ phase: 'media', timeoutMs: readTimeout }))
      }
    }, Math.min(1000, Math.max(50, readTimeout / 4)))
    this.readTimer.unref()
  }

  private sendReceiverReports(): void {
    const now = performance.now()
    for (const rt of this.runtimes) {
      if (rt.packetsReceived === 0) continue
      const rr = buildReceiverReport({ ssrc: this.ssrc, reports: [rt.stats.report(now)], cname: 'rtspkit' })
      if (rt.udp !== undefined) rt.udp.sendRtcp(rr)
      else if (rt.rtcpChannel >= 0) this.conn.writeInterleaved(rt.rtcpChannel, rr)
      rt.rtcpPacketsSent++
    }
  }

  private stopTimers(): void {
    for (const rt of this.runtimes) {
      clearTimeout(rt.reorderTimer)
      rt.reorderTimer = undefined
    }
    clearInterval(this.rtcpTimer)
    clearInterval(this.readTimer)
  }

  // ---- public API ----

  /** The NPT position (seconds) of the media last received, from the PLAY reply's Range; undefined when the server gave none. */
  get position(): number | undefined {
    const at = this.nptAt
    const start = at?.range?.unit === 'npt' && typeof at.range.start === 'number' ? at.range.start : undefined
    if (at === undefined || start === undefined) return undefined
    return start + Math.max(0, this.timelineEnd() - at.pts)
  }

  /** PAUSE (RFC 2326 §10.6): the server stops sending; `play()` resumes. The session's keep-alive goes on. */
  async pause(): Promise<void> {
    this.cmd.assertState('pause', ['playing'])
    await this.conn.request('PAUSE', this.cmd.controlUrl)
    if (this.cmd.state === 'playing') this.cmd.moveTo('paused')
  }

  /**
   * PLAY again: resume after `pause()`, or seek with `range` (RFC 2326 §10.5, §12.29), with
   * `scale` (§12.34, e.g. 2 = twice as fast, -1 = backwards) or `speed` (§12.35) when the
   * server supports them. Frames' pts stay monotonic: a seek continues the timeline just
   * past the last frame and emits 'discontinuity' for every track (by the NPT jump).
   */
  async play(options: { range?: PlayRange; scale?: number; speed?: number } = {}): Promise<void> {
    this.cmd.assertState('play', ['playing', 'paused'])
    const headers: Record<string, string> = {}
    if (options.range !== undefined) headers.Range = playRangeHeader(options.range)
    for (const [name, v] of [['Scale', options.scale], ['Speed', options.speed]] as const) {
      if (v === undefined) continue
      if (!Number.isFinite(v) || v === 0 || (name === 'Speed' && v < 0)) {
        throw new InvalidArgumentError(`play(): ${name.toLowerCase()} must be a finite number${name === 'Speed' ? ' above 0' : ' other than 0'}, not ${v}`)
      }
      headers[name] = String(v)
    }
    // A seek (a Range, or any PLAY while playing, §10.5): the server restarts elsewhere.
    this.replay = { seek: options.range !== undefined || this.cmd.state === 'playing' }
    try {
      await this.conn.request('PLAY', this.cmd.controlUrl, headers)
    } finally {
      this.replay = undefined
    }
  }

  /** The end of the timeline so far: the latest pts of any track. */
  private timelineEnd(): number {
    let end = 0
    for (const rt of this.runtimes) if (rt.lastPts > end) end = rt.lastPts
    return end
  }

  /**
   * The reply to a PLAY after the first (read before the media written with it). Resume:
   * media flows again. Seek: every track starts again just past the timeline's end, at its
   * RTP-Info rtptime (else at its first unit), and a 'discontinuity' says how far NPT moved.
   */
  private replayed(res: RtspResponse, seek: boolean): void {
    const before = this.position
    if (this.cmd.state === 'paused') this.cmd.moveTo('playing')
    this.lastMediaAt = performance.now()
    let entries: ReturnType<typeof parseRtpInfo> = []
    const info = res.headers.get('RTP-Info')
    try {
      if (info !== undefined) entries = parseRtpInfo(info)
    } catch {
      entries = []
    }
    // A resume is placed the same way, just past the end (the pause leaves no gap): GStreamer
    // may resume a file media from an earlier point, rtspkit's server restarts its RTP clock.
    const resumeAt = this.timelineEnd() + 0.001
    const range = rangeOf(res)
    const jump = before !== undefined && range?.unit === 'npt' && typeof range.start === 'number' ? range.start - before : 0
    for (const rt of this.runtimes) {
      const control = rt.track.control
      const match = entries.find((e) => e.url === control || control.endsWith(e.url) || e.url.endsWith(control.slice(control.lastIndexOf('/') + 1)))
      // Without an rtptime the track's first unit after the reply lands at resumeAt (no RTP-Info branch of placeUnit).
      rt.rtpInfoTime = match?.rtptime ?? NaN
      rt.rtpInfoPts = resumeAt
      rt.base = undefined
      rt.srUnixMs = undefined
      rt.srSynced = false
      if (!seek) continue
      rt.discontinuities++
      if (rt.framesReceived > 0) this.emit('discontinuity', rt.track, jump)
    }
  }

  /**
   * Access units of every track, in arrival order, as an async iterator. Ends when the
   * session is closed; throws the error that ended it otherwise. One consumer at a time.
   */
  frames(): AsyncIterableIterator<Frame> {
    if (this.queue !== undefined) throw new StateError({ action: 'iterate frames twice', state: 'iterating', allowed: ['not iterating'] })
    const q = new FrameQueue(this.opts.frameQueueSize, this.tracks.some((t) => t.type === 'video'))
    // Leaving the loop (break, return, throw) ends the session: TEARDOWN, sockets, timers.
    q.onDetach = () => {
      if (this.queue === q) this.queue = undefined
      return this.close()
    }
    this.queue = q
    // Frames that came with the PLAY reply (or before frames() was called) come first.
    this.flushEarly()
    if (this.cmd.state === 'closed') {
      this.queue = undefined
      q.end(this.cmd.endError)
    }
    return q
  }

  /**
   * RTP packets of every track as received (after the UDP reorder buffer), each a copy, as
   * an async iterator; from the call on (packets before it are not kept). A consumer
   * `frameQueueSize` packets behind loses the newer ones (a gap in sequence numbers).
   * Ends like frames(); leaving the loop closes the session. One consumer at a time.
   */
  packets(): AsyncIterableIterator<ReceivedPacket> {
    if (this.packetQueue !== undefined) throw new StateError({ action: 'iterate packets twice', state: 'iterating', allowed: ['not iterating'] })
    const q = new PacketQueue(this.opts.frameQueueSize)
    q.onDetach = () => {
      if (this.packetQueue === q) this.packetQueue = undefined
      return this.close()
    }
    if (this.cmd.state === 'closed') q.end(this.cmd.endError)
    else this.packetQueue = q
    return q
  }

  /** Counters per track. */
  stats(): TrackStats[] {
    return this.runtimes.map((rt) => ({
      packetsReceived: rt.packetsReceived,
      bytesReceived: rt.bytesReceived,
      packetsLost: rt.stats.packetsLost,
      framesReceived: rt.framesReceived,
      framesDropped: rt.depacketizer.dropped,
      jitter: rt.stats.jitter / rt.track.clockRate,
      rtcpPacketsReceived: rt.rtcpPacketsReceived,
      rtcpPacketsSent: rt.rtcpPacketsSent,
    }))
  }

  /** TEARDOWN (bounded wait), then release sockets and timers. Idempotent. */
  close(): Promise<void> {
    return this.cmd.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** RFC 2326 §12.29 Range for PLAY: seconds as `npt=`, Dates as UTC `clock=` (one kind for both ends). */
export function playRangeHeader(range: PlayRange): string {
  const isDate = (v: unknown): boolean => v instanceof Date
  const clock = isDate(range.start) || isDate(range.end)
  if (clock && ((range.start !== undefined && !isDate(range.start)) || (range.end !== undefined && !isDate(range.end)))) {
    throw new InvalidArgumentError('range: start and end must both be seconds or both be Dates')
  }
  const t = (v: number | Date | undefined): number | undefined => (v === undefined ? undefined : v instanceof Date ? v.getTime() / 1000 : v)
  const start = t(range.start) ?? (clock ? undefined : 0)
  if (start === undefined) throw new InvalidArgumentError('range: a clock range needs a start Date')
  const end = t(range.end)
  return formatRange({ unit: clock ? 'clock' : 'npt', start, ...(end !== undefined ? { end } : {}) })
}

function rangeOf(res: RtspResponse): RangeHeader | undefined {
  const v = res.headers.get('Range')
  if (v === undefined) return undefined
  try {
    return parseRange(v)
  } catch {
    return undefined
  }
}
