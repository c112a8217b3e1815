// One file for the recording session: handshake, the send path (packetize → $-frame or UDP),
// sender reports tied to the same media clock, flow control and its end share one state.
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import { RtspConnection } from './connection.js'
import { USER_AGENT } from './pull-session.js'
import type { SessionOptions, TransportProtocol } from './options.js'
import {
  AbortError,
  ClosedError,
  InvalidArgumentError,
  LimitError,
  ProtocolError,
  RtspError,
  StateError,
  TimeoutError,
  UnsupportedError,
} from '../errors.js'
import { createSendTrack, withParameterSets } from '../formats/send-track.js'
import { INTERLEAVED_HEADER_SIZE, RTP_HEADER_SIZE, type InterleavedPacketizer } from '../formats/rtp-header.js'
import type { SendTrackInit } from '../formats/send-track.js'
import { formatTransport } from '../rtsp/headers/transport.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { buildSenderReport, ntpFromDate } from '../rtcp/packets.js'
import { encodeInterleavedPackets } from '../rtsp/serialize.js'
import { writeSdp } from '../sdp/write.js'
import type { MediaDescription } from '../sdp/types.js'
import { bindRtpPortPair } from '../transport/udp.js'
import { publishSessionState } from '../diagnostics.js'
import type { UdpPortPair } from '../transport/udp.js'
import type { ParsedRtspUrl } from '../util/url.js'
import { redactUrl, resolveControl } from '../util/url.js'

/** A track to publish: what the SDP announces and the packetizer needs. */
export type PushTrackInit = SendTrackInit

export interface PushTrack {
  index: number
  type: 'video' | 'audio'
  codec: string
  clockRate: number
  payloadType: number
  /** Absolute SETUP URL, credentials removed. */
  control: string
  ssrc: number
  transport: { protocol: TransportProtocol; interleaved?: [number, number]; clientPort?: [number, number]; serverPort?: [number, number] }
}

/** One access unit to send. */
export interface PushFrame {
  /** Presentation time in seconds on a timeline shared by all tracks; the RTP timestamp follows it. */
  pts: number
  /** Key frame (IDR / IRAP). Audio: ignored. */
  keyFrame?: boolean
  /** H.264/H.265: NAL units without start codes; AAC: [raw frame]. */
  data: readonly Buffer[]
}

export interface PushOptions extends SessionOptions {
  /** RTCP sender report interval. Default 5 000 ms. */
  rtcpIntervalMs?: number
  /** Keep-alive interval; default half the session timeout the server gives (60 s if none). */
  keepAliveMs?: number
  /** Largest RTP payload. Default 1400. */
  mtu?: number
  /** `write()` waits for the socket to drain above this many queued bytes (TCP). Default 1 MiB. */
  highWaterMark?: number
  /** Queued bytes at which frames are dropped (or the push fails). Default 8 MiB. */
  maxQueueBytes?: number
  /** Over maxQueueBytes: 'drop' skips frames until the next key frame, 'error' ends the push. Default 'drop'. */
  overflow?: 'drop' | 'error'
}

export type PushState = 'connecting' | 'announcing' | 'setting-up' | 'starting' | 'recording' | 'closing' | 'closed'

export interface PushStats {
  packetsSent: number
  bytesSent: number
  framesSent: number
  framesDropped: number
}

export interface PushSessionEvents {
  warning: [message: string]
  /** A frame was dropped because the queue was full (overflow 'drop'). */
  drop: [track: PushTrack]
  error: [err: RtspError]
  close: [err: RtspError | undefined]
}

interface Packetizer {
  packetize(au: { data: readonly Buffer[]; rtpTimestamp: number }): Buffer[]
}

/** Per-track sending state. */
class TrackSender {
  readonly rtpBase = randomInt(0x100000000)
  packetsSent = 0
  bytesSent = 0
  framesSent = 0
  framesDropped = 0
  /** overflow 'drop': skipping until the next key frame. */
  skipping = false
  /** An SR goes out before the next packet: the first one, and the first after a discontinuity. */
  srDue = true
  /** pts of the last frame sent, to see discontinuities. */
  lastPts = Number.NaN
  udp: UdpPortPair | undefined
  rtpChannel = -1
  rtcpChannel = -1
  /** Parameter sets to repeat before every key frame that lacks them. */
  readonly parameterSets: Buffer[]
  readonly unit = { data: [] as readonly Buffer[], rtpTimestamp: 0 }
  constructor(
    readonly track: PushTrack,
    readonly packetizer: Packetizer,
    readonly media: MediaDescription,
    parameterSets: Buffer[],
  ) {
    this.parameterSets = parameterSets
  }
}

/**
 * A recording RTSP session (RFC 2326 §10.11 ANNOUNCE, §10.4 SETUP with mode=record,
 * §10.11 RECORD): sends access units as RTP over TCP interleaved or UDP, with sender
 * reports, keep-alive and TEARDOWN. Created by `RtspClient.push()`.
 */
export class PushSession extends EventEmitter<PushSessionEvents> {
  /** Where the session is; each change is published on rtspkit:client:session:state. */
  get state(): PushState {
    return this.stateValue
  }
  set state(to: PushState) {
    publishSessionState(this, 'push', this.url, this.stateValue, to, undefined, () => this.stats())
    this.stateValue = to
  }
  private stateValue: PushState = 'connecting'
  readonly tracks: PushTrack[] = []
  /** The URL without credentials. */
  readonly url: string
  /** The SDP sent with ANNOUNCE. */
  sdp = ''
  /** Resolves when the session has ended: undefined after close(), the error otherwise. Never rejects. */
  readonly closed: Promise<RtspError | undefined>
  get server(): string | undefined {
    return this.conn.server
  }

  private readonly conn: RtspConnection
  private readonly opts: Required<Omit<PushOptions, 'credentials' | 'signal' | 'tls' | 'keepAliveMs'>> & { keepAliveMs?: number }
  private readonly senders: TrackSender[] = []
  private sessionTimeoutS = 60
  private keepAliveTimer: NodeJS.Timeout | undefined
  private rtcpTimer: NodeJS.Timeout | undefined
  private stallTimer: NodeJS.Timeout | undefined
  private resolveClosed!: (err: RtspError | undefined) => void
  private endError: RtspError | undefined
  /** Media clock ↔ wall clock anchor for sender reports, set by the first frame. */
  private anchorMedia: number | undefined
  private anchorWallMs = 0
  private drainWaiters: Array<() => void> = []
  private lastProgressAt = 0
  private lastBuffered = 0
  private keepAlivePending = false
  /** The caller's signal, listened to while the session lives (it covers the whole session). */
  private signal: AbortSignal | undefined
  private readonly onSignalAbort = () => void this.closeWith(new AbortError(this.signal?.reason))

  /** @hidden Applications use RtspClient.push(); the constructor stays in the .d.ts so the class type is not given a false no-argument one. */
  constructor(
    private readonly target: ParsedRtspUrl,
    trackInits: readonly PushTrackInit[],
    options: PushOptions,
  ) {
    super()
    this.url = redactUrl(target.url)
    this.opts = {
      transport: target.secure ? 'tcp' : (options.transport ?? 'tcp'),
      timeoutMs: options.timeoutMs ?? 10_000,
      readTimeoutMs: options.readTimeoutMs ?? 10_000,
      teardownTimeoutMs: options.teardownTimeoutMs ?? 2_000,
      userAgent: options.userAgent ?? USER_AGENT,
      rtcpIntervalMs: options.rtcpIntervalMs ?? 5_000,
      keepAliveMs: options.keepAliveMs,
      mtu: options.mtu ?? 1400,
      highWaterMark: options.highWaterMark ?? 1024 * 1024,
      maxQueueBytes: options.maxQueueBytes ?? 8 * 1024 * 1024,
      overflow: options.overflow ?? 'drop',
    }
    if (trackInits.length === 0) throw new InvalidArgumentError('push needs at least one track')
    trackInits.forEach((init, i) => this.addTrack(init, i))
    this.conn = new RtspConnection({
      host: target.host,
      port: target.port,
      secure: target.secure,
      tls: options.tls,
      credentials: options.credentials ?? target.credentials,
      timeoutMs: this.opts.timeoutMs,
      userAgent: this.opts.userAgent,
    })
    this.conn.onClose = (err) => {
      if (err !== undefined) this.fail(err)
    }
    this.conn.onDrain = () => this.onDrain()
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  private addTrack(init: PushTrackInit, i: number): void {
    const ssrc = randomInt(1, 0xffffffff)
    const t = createSendTrack(init, i, { ssrc, mtu: this.opts.mtu, control: `trackID=${i}` })
    const track: PushTrack = {
      index: i,
      type: init.type,
      codec: t.codec,
      clockRate: t.clockRate,
      payloadType: t.payloadType,
      control: '',
      ssrc,
      transport: { protocol: this.opts.transport },
    }
    this.tracks.push(track)
    this.senders.push(new TrackSender(track, t.packetizer, t.media, t.parameterSets))
  }

  /** OPTIONS → ANNOUNCE → SETUP (each track, mode=record) → RECORD within one timeout; on failure everything is released. */
  async start(signal?: AbortSignal): Promise<void> {
    const { timeoutMs } = this.opts
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const method = this.conn.pendingMethod
        reject(method !== undefined
          ? new TimeoutError({ phase: 'reply', timeoutMs, detail: `to ${method}` })
          : new TimeoutError({ phase: 'handshake', timeoutMs }))
      }, timeoutMs)
      if (signal !== undefined) {
        onAbort = () => reject(new AbortError(signal.reason))
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      }
    })
    const handshake = this.handshake(signal)
    handshake.catch(() => {})
    try {
      await Promise.race([handshake, guard])
    } catch (err) {
      const e = err instanceof RtspError ? err : new ProtocolError(`push handshake failed: ${String(err)}`, { cause: err })
      this.release(e)
      throw e
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
    if (signal !== undefined) {
      // The signal covers the recording session too: an abort tears it down (removed in release()).
      this.signal = signal
      signal.addEventListener('abort', this.onSignalAbort, { once: true })
    }
  }

  private async handshake(signal?: AbortSignal): Promise<void> {
    const url = this.target.url.toString()
    await this.conn.connect(signal)
    this.assertNotEnded()
    // Some servers answer OPTIONS with an error; that is not fatal.
    await this.conn.request('OPTIONS', url, {}, undefined, (s) => s < 300 || s >= 400)
    this.assertNotEnded()

    this.state = 'announcing'
    this.sdp = writeSdp({
      origin: `- ${randomInt(1, 0x7fffffff)} 1 IN IP4 ${this.conn.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}`,
      sessionName: 'rtspkit',
      connection: `IN IP4 ${this.target.host.includes(':') ? '0.0.0.0' : this.target.host}`,
      attributes: [['tool', USER_AGENT]],
      media: this.senders.map((s) => s.media),
    })
    // RFC 2326 §10.3: the SDP describes what we are about to send.
    await this.conn.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, this.sdp)
    this.assertNotEnded()

    this.state = 'setting-up'
    for (const s of this.senders) {
      await this.setupTrack(s, url)
      this.assertNotEnded()
    }

    this.state = 'starting'
    await this.conn.request('RECORD', url, { Range: 'npt=0.000-' })
    this.assertNotEnded()
    this.state = 'recording'
    this.startTimers()
  }

  private async setupTrack(s: TrackSender, base: string): Promise<void> {
    const i = s.track.index
    const control = resolveControl(base, s.media.control)
    s.track.control = redactUrl(control)
    let request: TransportSpec
    if (this.opts.transport === 'udp') {
      s.udp = await bindRtpPortPair({ host: this.conn.localAddress })
      request = { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [s.udp.rtpPort, s.udp.rtcpPort], mode: 'record' }
    } else {
      request = { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2 * i, 2 * i + 1], mode: 'record' }
    }
    // formatTransport writes mode lower-case: ffmpeg's listener drops `mode=RECORD` silently.
    const res = await this.conn.request('SETUP', control, { Transport: formatTransport(request) })
    const { timeoutS, transport: reply } = this.conn.adoptSetupReply(res, s.track.control)
    if (timeoutS !== undefined) this.sessionTimeoutS = timeoutS
    const t = s.track.transport
    if (this.opts.transport === 'tcp') {
      if (reply !== undefined && reply.lowerTransport !== 'TCP') {
        throw new ProtocolError(`server answered a TCP SETUP for ${s.track.control} with UDP transport; try --transport udp`)
      }
      const channels = reply?.interleaved ?? request.interleaved!
      t.interleaved = channels
      s.rtpChannel = channels[0]
      s.rtcpChannel = channels[1]
      // Receiver reports from the server: not needed, but route them so they are not garbage.
      this.conn.channels[channels[1]] = noop
      this.conn.channels[channels[0]] = noop
      return
    }
    if (reply?.lowerTransport === 'TCP') {
      throw new ProtocolError(`server answered a UDP SETUP for ${s.track.control} with TCP transport; try --transport tcp`)
    }
    const serverPort = reply?.serverPort
    if (serverPort === undefined) {
      throw new ProtocolError(`SETUP reply for ${s.track.control} has no server_port; the server did not say where to send UDP`)
    }
    t.clientPort = [s.udp!.rtpPort, s.udp!.rtcpPort]
    t.serverPort = serverPort
    s.udp!.setRemote(reply?.source ?? this.conn.remoteAddress ?? this.target.host, serverPort[0], serverPort[1])
    s.udp!.onError((err) => this.emit('warning', `UDP send to ${s.track.control} failed: ${err.message}`))
  }

  private assertNotEnded(): void {
    if (this.endError !== undefined) throw this.endError
    if (this.state === 'closing' || this.state === 'closed') throw new AbortError('session closed')
  }

  // ---- media path ----

  /**
   * Send one access unit of `track` (index or PushTrack). Packets go out at once; the
   * promise resolves when the TCP send queue is below highWaterMark (await it for flow
   * control). Over maxQueueBytes the frame is dropped up to the next key frame, or the
   * push fails, by the `overflow` option. Rejects with the error that ended the session.
   */
  write(track: number | PushTrack, frame: PushFrame): Promise<void> {
    if (this.state !== 'recording') {
      if (this.endError !== undefined) return Promise.reject(this.endError)
      return Promise.reject(new StateError({ action: 'write', state: this.state, allowed: ['recording'] }))
    }
    const s = this.senders[typeof track === 'number' ? track : track.index]
    if (s === undefined) return Promise.reject(new InvalidArgumentError(`no track ${typeof track === 'number' ? track : track.index}`))
    if (!Number.isFinite(frame.pts)) return Promise.reject(new InvalidArgumentError(`frame pts must be a finite number of seconds, got ${frame.pts}`))
    const key = s.track.type === 'audio' || frame.keyFrame === true
    const buffered = this.conn.writableLength
    if (buffered > this.opts.maxQueueBytes) {
      if (this.opts.overflow === 'error') {
        const err = new LimitError({ limit: 'push send queue', max: this.opts.maxQueueBytes, detail: 'the server does not take data as fast as it is written' })
        this.fail(err)
        return Promise.reject(err)
      }
      s.skipping = s.track.type === 'video'
      s.framesDropped++
      this.emit('drop', s.track)
      return Promise.resolve()
    }
    if (s.skipping) {
      if (!key) {
        s.framesDropped++
        this.emit('drop', s.track)
        return Promise.resolve()
      }
      s.skipping = false
    }
    if (this.anchorMedia === undefined) {
      this.anchorMedia = frame.pts
      this.anchorWallMs = Date.now()
    } else if (frame.pts < s.lastPts - MAX_BACKWARD_S || frame.pts > s.lastPts + MAX_FORWARD_S) {
      // The media clock jumped (a source that restarts its timestamps): map it anew, and
      // tell the receiver with an SR per track before their next packet. Another track
      // jumping with it finds the new mapping in place already.
      const nowMs = Date.now()
      const expected = this.anchorMedia + (nowMs - this.anchorWallMs) / 1000
      if (Math.abs(frame.pts - expected) > MAX_BACKWARD_S) {
        this.anchorMedia = frame.pts
        this.anchorWallMs = nowMs
        for (const o of this.senders) o.srDue = true
      }
      s.srDue = true
    }
    s.lastPts = frame.pts
    // ffmpeg's listener re-bases each stream at its first SR: with the first SR seconds after
    // the first packet its recordings' timestamps jump (issue 11). Like ffmpeg's and
    // GStreamer's pushers, send one before the track's first packet (RFC 3550 §6.4.1).
    if (s.srDue) {
      s.srDue = false
      this.sendSenderReport(s, Date.now(), false)
    }
    const unit = s.unit
    unit.rtpTimestamp = (s.rtpBase + Math.round(frame.pts * s.track.clockRate)) >>> 0
    unit.data = key ? withParameterSets(s.track.codec, s.parameterSets, frame.data) : frame.data
    s.framesSent++
    const p = s.packetizer as Packetizer & Partial<InterleavedPacketizer>
    if (s.udp === undefined && p.packetizeInterleaved !== undefined) {
      // TCP: the packetizer frames its packets itself, one buffer and one socket write per unit.
      const framed = p.packetizeInterleaved(unit, s.rtpChannel)
      s.packetsSent += framed.packets
      s.bytesSent += framed.data.length - framed.packets * (INTERLEAVED_HEADER_SIZE + RTP_HEADER_SIZE)
      if (framed.packets > 0) this.conn.write(framed.data)
    } else {
      const packets = p.packetize(unit)
      s.packetsSent += packets.length
      for (let i = 0; i < packets.length; i++) s.bytesSent += packets[i]!.length - RTP_HEADER_SIZE
      if (s.udp !== undefined) {
        for (let i = 0; i < packets.length; i++) s.udp.sendRtp(packets[i]!)
        return Promise.resolve()
      }
      this.conn.write(encodeInterleavedPackets(s.rtpChannel, packets))
    }
    if (this.conn.writableLength <= this.opts.highWaterMark) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  private onDrain(): void {
    this.lastProgressAt = performance.now()
    const waiters = this.drainWaiters
    if (waiters.length === 0) return
    this.drainWaiters = []
    for (const w of waiters) w()
  }

  // ---- timers ----

  private startTimers(): void {
    // Keep-alive with OPTIONS (RFC 2326 §10.1): ffmpeg's listener gives up on a GET_PARAMETER
    // in a UDP record session (INTEROP.md), and every server answers OPTIONS.
    const keepAliveMs = this.opts.keepAliveMs ?? Math.max(1000, Math.floor((this.sessionTimeoutS * 1000) / 2))
    this.keepAliveTimer = setInterval(() => this.keepAlive(), keepAliveMs)
    this.keepAliveTimer.unref()
    this.rtcpTimer = setInterval(() => this.sendSenderReports(), this.opts.rtcpIntervalMs)
    this.rtcpTimer.unref()
    this.lastProgressAt = performance.now()
    const readTimeout = this.opts.readTimeoutMs
    this.stallTimer = setInterval(() => {
      // TCP: bytes queued and none taken by the kernel for readTimeoutMs means the server is stuck.
      const buffered = this.conn.writableLength
      const now = performance.now()
      if (buffered === 0 || buffered < this.lastBuffered) this.lastProgressAt = now
      this.lastBuffered = buffered
      if (now - this.lastProgressAt > readTimeout) {
        this.fail(new TimeoutError({ phase: 'reply', timeoutMs: readTimeout, detail: `: the server took no data for ${readTimeout} ms` }))
      }
    }, Math.min(1000, Math.max(50, readTimeout / 4)))
    this.stallTimer.unref()
  }

  private keepAlive(): void {
    if (this.keepAlivePending) return
    this.keepAlivePending = true
    this.conn.request('OPTIONS', this.target.url.toString(), {}, undefined, () => true).then(
      () => {
        this.keepAlivePending = false
      },
      (err: unknown) => {
        this.keepAlivePending = false
        if (this.state !== 'recording') return
        // An unanswered keep-alive means the server is gone; a refused one is only worth a warning.
        if (err instanceof TimeoutError || err instanceof ClosedError) this.fail(err)
        else this.emit('warning', `keep-alive OPTIONS failed: ${(err as Error).message}`)
      },
    )
  }

  private sendSenderReports(bye?: boolean): void {
    if (this.anchorMedia === undefined) return
    const nowMs = Date.now()
    for (const s of this.senders) if (s.packetsSent > 0) this.sendSenderReport(s, nowMs, bye === true)
  }

  /** RFC 3550 §6.4.1: the NTP time and the RTP timestamp of the same instant, on the media clock shared by all tracks. */
  private sendSenderReport(s: TrackSender, nowMs: number, bye: boolean): void {
    if (this.anchorMedia === undefined) return
    const mediaNow = this.anchorMedia + (nowMs - this.anchorWallMs) / 1000
    const sr = buildSenderReport({
      ssrc: s.track.ssrc,
      ntp: ntpFromDate(nowMs),
      rtpTimestamp: (s.rtpBase + Math.round(mediaNow * s.track.clockRate)) >>> 0,
      packetCount: s.packetsSent >>> 0,
      octetCount: s.bytesSent >>> 0,
      cname: 'rtspkit',
      ...(bye ? { bye: {} } : {}),
    })
    if (s.udp !== undefined) s.udp.sendRtcp(sr)
    else if (s.rtcpChannel >= 0) this.conn.writeInterleaved(s.rtcpChannel, sr)
  }

  private stopTimers(): void {
    clearInterval(this.keepAliveTimer)
    clearInterval(this.rtcpTimer)
    clearInterval(this.stallTimer)
  }

  // ---- public API ----

  stats(): PushStats[] {
    return this.senders.map((s) => ({ packetsSent: s.packetsSent, bytesSent: s.bytesSent, framesSent: s.framesSent, framesDropped: s.framesDropped }))
  }

  /** Bytes queued in the TCP socket, not yet taken by the kernel. */
  get queuedBytes(): number {
    return this.conn.writableLength
  }

  /** Sender reports with BYE, TEARDOWN (bounded wait), then release sockets and timers. Idempotent. */
  async close(): Promise<void> {
    await this.closeWith(undefined)
  }

  /** close(), ending with `err` (an AbortError when the caller's signal fired). */
  private async closeWith(err: RtspError | undefined): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') {
      await this.closed
      return
    }
    const wasRecording = this.state === 'recording'
    this.state = 'closing'
    if (err !== undefined) this.endError ??= err
    this.stopTimers()
    // Writers waiting for the socket to drain learn at once that the session is ending.
    this.onDrain()
    if (wasRecording && this.conn.state === 'open') {
      this.sendSenderReports(true)
      await this.conn.teardown(this.target.url.toString(), this.opts.teardownTimeoutMs)
    }
    this.release(err)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private fail(err: RtspError): void {
    if (this.state === 'closed') return
    if (this.state !== 'recording' && this.state !== 'closing') {
      this.endError ??= err
      return
    }
    if (this.conn.state === 'open') this.conn.request('TEARDOWN', this.target.url.toString()).catch(() => {})
    this.release(err)
  }

  /** Free everything; the single place a session ends. */
  private release(err: RtspError | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.endError ??= err ?? new ClosedError('the push session was closed')
    this.stopTimers()
    this.signal?.removeEventListener('abort', this.onSignalAbort)
    this.signal = undefined
    this.conn.onClose = undefined
    this.conn.onDrain = undefined
    this.conn.close()
    for (const s of this.senders) {
      void s.udp?.close()
      s.udp = undefined
    }
    this.onDrain()
    if (err !== undefined && this.listenerCount('error') > 0) this.emit('error', err)
    this.emit('close', err)
    this.resolveClosed(err)
  }
}

function noop(): void {}

/** A track's pts going back more than this (B-frames reorder by a few frames) is a discontinuity. */
const MAX_BACKWARD_S = 1
/** A track's pts leaping ahead more than this is a discontinuity too. */
const MAX_FORWARD_S = 10
