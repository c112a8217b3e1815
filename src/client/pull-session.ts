// Over 400 lines because the handshake, PAUSE/seek/Scale/Speed and the public API share the lifecycle below.
// The playing session: DESCRIBE/SETUP/PLAY on the shared command session, each track's
// transport (track-transport.ts) feeding one pure TrackReceiver per track, the common
// Timeline, and the consumer side (session-outlet.ts).
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import { CommandSession, USER_AGENT } from './command-session.js'
import { SessionOutlet } from './session-outlet.js'
import type { ReceivedPacket } from './packet-queue.js'
import { Timeline } from './timeline.js'
import type { ClockSource, TimelineSink } from './timeline.js'
import { TrackReceiver } from './track-receiver.js'
import type { TrackReceiverSink } from './track-receiver.js'
import type { Frame, Track, TrackStats } from './track.js'
import { TrackLink } from './track-transport.js'
import type { TrackTransportContext } from './track-transport.js'
import { ProtocolError, RtspError, StatusError, TimeoutError, UnsupportedError } from '../errors.js'
import { playRangeHeader, rtpInfoOf } from './play-headers.js'
import { Playback } from './playback.js'
import { tracksFromSdp } from './sdp-tracks.js'
import type { RtspResponse } from '../rtsp/message.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { parseSdp } from '../sdp/parse.js'
import type { SessionDescription } from '../sdp/types.js'
import type { ReorderOptions } from '../rtp/reorder-buffer.js'
import { publishTrackLoss, publishTransportChange } from '../diagnostics.js'
import type { ParsedRtspUrl } from '../util/url.js'
import { redactUrl, resolveContentBase, resolveControl } from '../util/url.js'
import type { PlayRange, PullOptions, TransportProtocol } from './options.js'
import { BackChannel, backChannelMedia, type BackChannelInfo, type BackChannelStats, type TalkOptions, type TalkResult } from './backchannel.js'
import { ReplayStamps, onvifRequestHeaders, type OnvifRequestHeaders } from './onvif.js'

export type { PlayRange, PullOptions, TransportProtocol } from './options.js'

export type { ClockSource }
export { playRangeHeader }

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
  get clockSource(): ClockSource {
    return this.timeline.clockSource
  }
  set clockSource(to: ClockSource) {
    this.timeline.clockSource = to
  }

  private readonly cmd: CommandSession<PullState>
  private readonly conn: CommandSession<PullState>['conn']
  private readonly opts: Required<Omit<PullOptions, 'credentials' | 'signal' | 'limits' | 'tls' | 'udpFallback' | 'reorder' | 'maxTimestampJumpS' | 'range' | 'httpTunnel' | 'backchannel' | 'onvifReplay'>>
  /** ONVIF: the Require / Rate-Control / Immediate headers asked for (PullOptions.backchannel, onvifReplay). */
  private readonly onvif: OnvifRequestHeaders
  /** PullOptions.backchannel: the a=sendonly media is the camera's speaker, not a track to receive. */
  private readonly wantsBackChannel: boolean
  private backChannel: BackChannel | undefined
  /** Why there is no back-channel to talk on (none offered, a codec rtspkit cannot send). */
  private backChannelError: RtspError | undefined
  /** PullOptions.onvifReplay: each frame's recording time from the RTP header extension. */
  private readonly replayStamps: ReplayStamps | undefined
  /** The first PLAY's Range (PullOptions.range). */
  private readonly startRange: PlayRange | undefined
  /** PLAY after the first (PAUSE, seek, Scale, Speed) and the position from PLAY replies. */
  private readonly playback: Playback
  private readonly reorder: ReorderOptions | false
  private readonly udpFallback: boolean
  private readonly links: TrackLink[] = []
  private readonly timeline: Timeline
  private rtcpTimer: NodeJS.Timeout | undefined
  private readTimer: NodeJS.Timeout | undefined
  /** Last time media was known to flow (PLAY answered); the receivers keep their own last arrival. */
  private lastMediaAt = 0
  private readonly ssrc = randomInt(1, 0xffffffff)
  /** frames(), packets() and the frames held until someone consumes them. */
  private readonly outlet: SessionOutlet
  /** An 'rtp' listener was added and emit() has not yet found none left (read once per packet). */
  private rtpListened = false
  /** The receivers' output: one object for all tracks. */
  private readonly rxSink: TrackReceiverSink = {
    packet: (rx, pkt, now) => {
      this.replayStamps?.packet(rx.track.index, rx.packet)
      // A field read per packet instead of listenerCount(); emit() says when the last listener went.
      if (this.rtpListened && !this.emit('rtp', rx.track, pkt)) this.rtpListened = false
      this.outlet.packet(rx.track, pkt, now)
    },
    loss: (rx, expected, got) => publishTrackLoss(this, this.url, rx.track, expected, got),
    unit: (rx, au, now) => {
      this.replayStamps?.unit(rx.track.index, au.rtpTimestamp)
      this.timeline.unit(rx.track.index, au, now)
    },
    senderReport: (rx, unixMs, rtpTimestamp) => this.timeline.senderReport(rx.track.index, unixMs, rtpTimestamp),
  }
  /** What each track's transport needs from this session. */
  private readonly linkContext: TrackTransportContext
  private readonly timelineSink: TimelineSink = {
    frame: (frame) => this.onFrame(frame),
    discontinuity: (track, jumpS) => this.emit('discontinuity', track, jumpS),
  }

  /** @hidden Applications use RtspClient.pull(); the constructor stays in the .d.ts so the class type is not given a false no-argument one. */
  constructor(
    private readonly target: ParsedRtspUrl,
    options: PullOptions,
  ) {
    super()
    this.url = target.url.toString()
    this.udpFallback = options.udpFallback === true
    this.reorder = options.reorder ?? {}
    this.startRange = options.range
    this.onvif = onvifRequestHeaders(options)
    this.wantsBackChannel = options.backchannel === true
    this.replayStamps = options.onvifReplay !== undefined && options.onvifReplay !== false ? new ReplayStamps() : undefined
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
    this.outlet = new SessionOutlet(
      {
        emitFrame: (frame) => this.emit('frame', frame),
        release: (frame) => this.release(frame),
        close: () => this.close(),
        ended: () => ({ closed: this.cmd.state === 'closed', err: this.cmd.endError }),
      },
      this.opts.frameQueueSize,
    )
    this.cmd = new CommandSession<PullState>(
      {
        owner: this,
        kind: 'pull',
        url: this.url,
        target,
        options,
        timeoutMs: this.opts.timeoutMs,
        teardownTimeoutMs: this.opts.teardownTimeoutMs,
        userAgent: this.opts.userAgent,
        connection: {
          limits: options.limits,
          ...(options.httpTunnel ? { httpTunnel: { path: `${target.url.pathname}${target.url.search}`, ...(options.httpTunnel === true ? {} : options.httpTunnel) } } : {}),
        },
        established: ['playing', 'paused'],
        stats: () => this.stats(),
      },
      {
        stopMedia: () => this.stopTimers(),
        closing: (err) => {
          // The caller's signal fired: frames() ends at once, before TEARDOWN's bounded wait.
          if (err === undefined) return
          this.outlet.end(err)
        },
        released: (err) => {
          // Leaves a multicast group (IGMP leave) once TEARDOWN is sent or the session failed.
          for (const link of this.links) link.release()
          this.outlet.release(err)
          this.timeline.dispose()
          this.backChannel?.close()
        },
      },
    )
    this.conn = this.cmd.conn
    this.linkContext = {
      conn: this.conn,
      host: target.host,
      udpReceiveBufferSize: this.opts.udpReceiveBufferSize,
      receiving: () => this.receiving(),
      playing: () => this.cmd.state === 'playing',
      warning: (message) => this.emit('warning', message),
    }
    this.closed = this.cmd.closed
    this.timeline = new Timeline(this.timelineSink, { maxJumpS: options.maxTimestampJumpS ?? 5, maxHeld: this.opts.frameQueueSize })
    this.playback = new Playback({
      timeline: this.timeline,
      playHeaders: this.onvif.play,
      state: () => this.cmd.state,
      assertState: (action, allowed) => this.cmd.assertState(action, allowed),
      request: (method, headers) => this.conn.request(method, this.cmd.controlUrl, headers),
      paused: () => {
        if (this.cmd.state === 'playing') this.cmd.moveTo('paused')
      },
      resumed: () => {
        if (this.cmd.state === 'paused') {
          this.cmd.moveTo('playing')
          // Datagrams were not taken while paused: the reorder buffer starts afresh.
          for (const link of this.links) link.rx.reorder?.reset()
        }
        this.lastMediaAt = performance.now()
      },
      first: (res) => this.applyRtpInfo(res),
    })
    this.conn.onGarbage = (n) => this.emit('warning', `skipped ${n} bytes of garbage from the server`)
    // RTP-Info is applied as the PLAY reply is read, before the media written with it.
    this.conn.onReply = (res, method) => {
      if (method === 'PLAY' && res.status >= 200 && res.status < 300) this.playback.reply(res)
    }
    ;(this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'rtp') this.rtpListened = true
      // After the listener is added (newListener runs before): it gets the held frames first.
      if (event === 'frame' && this.outlet.early !== undefined) queueMicrotask(() => this.outlet.flushEarly())
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
    const describe = await this.conn.request('DESCRIBE', url, { Accept: 'application/sdp', ...this.onvif.describe })
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
    for (const link of this.links) {
      await this.setupTrack(link)
      this.cmd.assertNotEnded()
    }
    // ONVIF back-channel (Streaming §5.3): SET UP with the tracks, on the channels after theirs.
    await this.backChannel?.setup({
      conn: this.conn,
      // A multicast session's back-channel is unicast UDP: the camera listens on its own port.
      transport: this.opts.transport === 'tcp' ? 'tcp' : 'udp',
      channel: 2 * this.links.length,
      remoteHost: this.target.host,
      setup: (control, request) => this.cmd.setup(control, control, request, this.onvif.setup),
    })
    this.cmd.assertNotEnded()

    this.cmd.moveTo('starting')
    // Timeline origin: media may arrive before the PLAY reply (Reolink, v4l2rtspserver).
    this.timeline.startedAt = performance.now()
    // RFC 2326 §12.29: Range on PLAY; ffmpeg and VLC send npt=0.000- too, and some cameras need it.
    // RTP-Info is applied by conn.onReply, before media that came in the same segment.
    await this.conn.request('PLAY', this.cmd.controlUrl, { Range: this.startRange !== undefined ? playRangeHeader(this.startRange) : 'npt=0.000-', ...this.onvif.play })
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
    let received = sdp
    if (this.wantsBackChannel) {
      // The camera's speaker is not a track to receive; the first one is the back-channel.
      const speakers = backChannelMedia(sdp)
      received = { ...sdp, media: sdp.media.filter((m) => !speakers.includes(m)) }
      const m = speakers[0]
      if (m === undefined) {
        this.backChannelError = new UnsupportedError('the camera offered no back-channel (no a=sendonly audio in its DESCRIBE answer to Require: www.onvif.org/ver20/backchannel); it may have no speaker, or it needs ONVIF enabled')
      } else {
        try {
          this.backChannel = new BackChannel(m, redactUrl(resolveControl(base, m.control)), this.opts.rtcpIntervalMs)
        } catch (err) {
          this.backChannelError = err as RtspError
        }
      }
    }
    const { tracks, skipped } = tracksFromSdp(received, base, this.opts.transport)
    this.skippedMedia.push(...skipped)
    // Reordering is for UDP; a track that ends up on TCP simply never fills the buffer.
    const reorder = (this.opts.transport === 'udp' || this.opts.transport === 'multicast') && this.reorder !== false ? this.reorder : undefined
    for (const { track, handler } of tracks) {
      this.tracks.push(track)
      this.timeline.add(track)
      this.links.push(new TrackLink(new TrackReceiver(track, handler, this.rxSink, reorder), this.linkContext))
    }
  }

  private async setupTrack(link: TrackLink): Promise<void> {
    const track = link.rx.track
    const asked = this.opts.transport === 'udp' || this.opts.transport === 'multicast' ? this.opts.transport : 'tcp'
    const request = await link.request(asked)
    let reply: TransportSpec | undefined
    try {
      reply = await this.cmd.setup(track.control, track.control, request, this.onvif.setup)
    } catch (err) {
      // 461 Unsupported Transport (RFC 2326 §11.3.18) to the first UDP SETUP: with transport
      // 'auto', go on over TCP in this same connection (no new DESCRIBE: some servers, like
      // GStreamer's, are still tearing the media down and answer 503 to a new one).
      if (!(err instanceof StatusError && err.status === 461 && this.udpFallback && track.index === 0 && link.udp !== undefined)) throw err
      await link.udp.close()
      link.udp = undefined
      this.opts.transport = 'tcp'
      this.transport = { protocol: 'tcp', reason: 'the server answered 461 Unsupported Transport to UDP' }
      return this.setupTrack(link)
    }
    await link.wire(reply, request, asked)
  }

  /** Media is taken while setting up (a UDP camera may start once the last SETUP is answered), starting and playing. */
  private receiving(): boolean {
    const state = this.cmd.state
    return state === 'playing' || state === 'starting' || state === 'setting-up'
  }

  /** The first PLAY reply: its RTP-Info (RFC 2326 §12.33) places every track on one timeline. */
  private applyRtpInfo(play: RtspResponse): void {
    const entries = rtpInfoOf(play)
    if (entries !== undefined) this.timeline.applyRtpInfo(entries, this.outlet.early)
  }

  /** Access units placed on the timeline: codec details from the format, then to the consumer(s). */
  private onFrame(frame: Frame): void {
    this.replayStamps?.frame(frame)
    const track = frame.track
    if (this.links[track.index]!.rx.updateDetails(frame)) this.emit('track-update', track)
    this.outlet.frame(frame)
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
      if (this.cmd.state !== 'paused' && performance.now() - this.lastMedia() > readTimeout) {
        this.cmd.fail(new TimeoutError({ phase: 'media', timeoutMs: readTimeout }))
      }
    }, Math.min(1000, Math.max(50, readTimeout / 4)))
    this.readTimer.unref()
  }

  /** When media last flowed: the PLAY reply, or the latest packet of any track. */
  private lastMedia(): number {
    let last = this.lastMediaAt
    for (const link of this.links) if (link.rx.lastPacketAt > last) last = link.rx.lastPacketAt
    return last
  }

  private sendReceiverReports(): void {
    const now = performance.now()
    for (const link of this.links) link.receiverReport(this.ssrc, now)
  }

  private stopTimers(): void {
    for (const link of this.links) link.stopTimer()
    clearInterval(this.rtcpTimer)
    clearInterval(this.readTimer)
  }

  // ---- public API ----

  /** The NPT position (seconds) of the media last received, from the PLAY reply's Range; undefined when the server gave none. */
  get position(): number | undefined {
    return this.playback.position('npt')
  }

  /** The recording time (UTC `clock=`) of the media last received, from the PLAY reply's Range; undefined when the reply gave no clock range. */
  get clockPosition(): Date | undefined {
    const s = this.playback.position('clock')
    return s === undefined ? undefined : new Date(Math.round(s * 1000))
  }

  /** The Scale (RFC 2326 §12.34) the server answered the last PLAY with; undefined when it sent none (normal play, 1). */
  get scale(): number | undefined {
    return this.playback.scale
  }

  /** The Speed (RFC 2326 §12.35) the server answered the last PLAY with; undefined when it sent none (normal delivery, 1). */
  get speed(): number | undefined {
    return this.playback.speed
  }

  /** The camera's ONVIF back-channel as set up (PullOptions.backchannel); undefined when it offered none. */
  get backchannel(): BackChannelInfo | undefined {
    return this.backChannel?.info
  }

  /**
   * Talk through the camera's speaker (ONVIF back-channel, PullOptions.backchannel): send
   * the audio of `source` (WAV, raw 16-bit PCM or G.711, see TalkOptions.format) as G.711 in
   * real time until it ends, while the camera's streams keep arriving. One talk at a time;
   * the session stays open after it.
   */
  talk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array, options?: TalkOptions): Promise<TalkResult> {
    const bc = this.backChannel
    if (bc === undefined) {
      return Promise.reject(this.backChannelError ?? new UnsupportedError('talk() needs the back-channel: open the session with pull(url, { backchannel: true })'))
    }
    this.cmd.assertState('talk', ['playing', 'paused'])
    return bc.talk(source, options)
  }

  /** Counters of the back-channel (what talk() sent, the camera's receiver reports); undefined without one. */
  backchannelStats(): BackChannelStats | undefined {
    return this.backChannel?.stats()
  }

  /** PAUSE (RFC 2326 §10.6): the server stops sending; `play()` resumes. The session's keep-alive goes on. */
  pause(): Promise<void> {
    return this.playback.pause()
  }

  /**
   * PLAY again: resume after `pause()`, or seek with `range` (RFC 2326 §10.5, §12.29), with
   * `scale` (§12.34, e.g. 2 = twice as fast, -1 = backwards) or `speed` (§12.35) when the
   * server supports them. Frames' pts stay monotonic: a seek continues the timeline just
   * past the last frame and emits 'discontinuity' for every track (by the NPT jump).
   */
  play(options: { range?: PlayRange; scale?: number; speed?: number } = {}): Promise<void> {
    return this.playback.play(options)
  }

  /**
   * Access units of every track, in arrival order, as an async iterator. Ends when the
   * session is closed; throws the error that ended it otherwise. One consumer at a time.
   */
  frames(): AsyncIterableIterator<Frame> {
    return this.outlet.frames(this.tracks.some((t) => t.type === 'video'))
  }

  /**
   * RTP packets of every track as received (after the UDP reorder buffer), each a copy, as
   * an async iterator; from the call on (packets before it are not kept). A consumer
   * `frameQueueSize` packets behind loses the newer ones (a gap in sequence numbers).
   * Ends like frames(); leaving the loop closes the session. One consumer at a time.
   */
  packets(): AsyncIterableIterator<ReceivedPacket> {
    return this.outlet.packets()
  }

  /**
   * Hand a frame's buffers back once you are done with them (written out, decoded, copied):
   * the session reuses them for later frames instead of leaving them to the garbage
   * collector, which keeps memory and GC time flat at high bitrates. Afterwards
   * `frame.data` is empty and no view of its old buffers may be used. Only the frame's sole
   * consumer may release it (not while a 'frame' listener and frames() both hold it).
   * Optional: a frame that is never released is freed by the GC as usual.
   */
  release(frame: Frame): void {
    const data = frame.data
    if (data.length === 0) return
    frame.data = []
    // A frame of another session (PullSupervisor after a reconnect) is harmless: a pool takes
    // back only its own slab's units and large buffers, which are free either way.
    this.links[frame.track.index]?.rx.release(data)
  }

  /** Counters per track. */
  stats(): TrackStats[] {
    return this.links.map((link) => link.stats(this.timeline.framesReceived(link.rx.track.index)))
  }

  /** TEARDOWN (bounded wait), then release sockets and timers. Idempotent. */
  close(): Promise<void> {
    return this.cmd.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
