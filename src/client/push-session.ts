// Over 400 lines because the send path, its sender reports (one media clock) and flow control share the per-track send state.
// The recording session: the ANNOUNCE/SETUP/RECORD handshake on the shared command session,
// the send path (packetize → $-frame or UDP), sender reports and flow control.
import { EventEmitter } from 'node:events'
import { randomInt } from 'node:crypto'
import { CommandSession, USER_AGENT } from './command-session.js'
import type { SessionOptions, TransportProtocol } from './options.js'
import { ClosedError, InvalidArgumentError, LimitError, ProtocolError, RtspError, StateError, TimeoutError } from '../errors.js'
import { createSendTrack, withParameterSets } from '../formats/send-track.js'
import { INTERLEAVED_HEADER_SIZE, RTP_HEADER_SIZE, type InterleavedPacketizer } from '../formats/rtp-header.js'
import type { SendTrackInit } from '../formats/send-track.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { buildSenderReport, ntpFromDate } from '../rtcp/packets.js'
import { encodeInterleavedPackets } from '../rtsp/serialize.js'
import { writeSdp } from '../sdp/write.js'
import type { MediaDescription } from '../sdp/types.js'
import { bindRtpPortPair } from '../transport/udp.js'
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
    return this.cmd.state
  }
  set state(to: PushState) {
    this.cmd.moveTo(to)
  }
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

  private readonly cmd: CommandSession<PushState>
  private readonly conn: CommandSession<PushState>['conn']
  private readonly opts: Required<Omit<PushOptions, 'credentials' | 'signal' | 'tls' | 'keepAliveMs'>> & { keepAliveMs?: number }
  private readonly senders: TrackSender[] = []
  private rtcpTimer: NodeJS.Timeout | undefined
  private stallTimer: NodeJS.Timeout | undefined
  /** Media clock ↔ wall clock anchor for sender reports, set by the first frame. */
  private anchorMedia: number | undefined
  private anchorWallMs = 0
  private drainWaiters: Array<() => void> = []
  /** TCP: the last unit's buffer once the socket has taken all of it, for the next unit. */
  private spare: Buffer | undefined
  private lastProgressAt = 0
  private lastBuffered = 0

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
    this.cmd = new CommandSession<PushState>(
      {
        owner: this,
        kind: 'push',
        url: this.url,
        target,
        options,
        timeoutMs: this.opts.timeoutMs,
        teardownTimeoutMs: this.opts.teardownTimeoutMs,
        userAgent: this.opts.userAgent,
        established: ['recording'],
        stats: () => this.stats(),
      },
      {
        stopMedia: () => this.stopTimers(),
        closing: (_err, established) => {
          // Writers waiting for the socket to drain learn at once that the session is ending.
          this.onDrain()
          if (established && this.conn.state === 'open') this.sendSenderReports(true)
        },
        released: () => {
          this.cmd.endError ??= new ClosedError('the push session was closed')
          for (const s of this.senders) {
            void s.udp?.close()
            s.udp = undefined
          }
          this.onDrain()
        },
      },
    )
    this.conn = this.cmd.conn
    this.conn.onDrain = () => this.onDrain()
    this.closed = this.cmd.closed
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
  start(signal?: AbortSignal): Promise<void> {
    return this.cmd.start((s) => this.handshake(s), signal)
  }

  private async handshake(signal?: AbortSignal): Promise<void> {
    const url = this.target.url.toString()
    // The aggregate URL of a record session is the URL itself (RECORD, TEARDOWN, keep-alive).
    this.cmd.controlUrl = url
    await this.cmd.open(url, signal)

    this.cmd.moveTo('announcing')
    this.sdp = writeSdp({
      origin: `- ${randomInt(1, 0x7fffffff)} 1 IN IP4 ${this.conn.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1'}`,
      sessionName: 'rtspkit',
      connection: `IN IP4 ${this.target.host.includes(':') ? '0.0.0.0' : this.target.host}`,
      attributes: [['tool', USER_AGENT]],
      media: this.senders.map((s) => s.media),
    })
    // RFC 2326 §10.3: the SDP describes what we are about to send.
    await this.conn.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, this.sdp)
    this.cmd.assertNotEnded()

    this.cmd.moveTo('setting-up')
    for (const s of this.senders) {
      await this.setupTrack(s, url)
      this.cmd.assertNotEnded()
    }

    this.cmd.moveTo('starting')
    await this.conn.request('RECORD', url, { Range: 'npt=0.000-' })
    this.cmd.assertNotEnded()
    this.cmd.moveTo('recording')
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
    const reply = await this.cmd.setup(control, s.track.control, request)
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

  // ---- media path ----

  /**
   * Send one access unit of `track` (index or PushTrack). Packets go out at once; the
   * promise resolves when the TCP send queue is below highWaterMark (await it for flow
   * control). Over maxQueueBytes the frame is dropped up to the next key frame, or the
   * push fails, by the `overflow` option. Rejects with the error that ended the session.
   */
  write(track: number | PushTrack, frame: PushFrame): Promise<void> {
    if (this.cmd.state !== 'recording') {
      if (this.cmd.endError !== undefined) return Promise.reject(this.cmd.endError)
      return Promise.reject(new StateError({ action: 'write', state: this.cmd.state, allowed: ['recording'] }))
    }
    const s = this.senders[typeof track === 'number' ? track : track.index]
    if (s === undefined) return Promise.reject(new InvalidArgumentError(`no track ${typeof track === 'number' ? track : track.index}`))
    if (!Number.isFinite(frame.pts)) return Promise.reject(new InvalidArgumentError(`frame pts must be a finite number of seconds, got ${frame.pts}`))
    const key = s.track.type === 'audio' || frame.keyFrame === true
    const buffered = this.conn.writableLength
    if (buffered > this.opts.maxQueueBytes) {
      if (this.opts.overflow === 'error') {
        const err = new LimitError({ limit: 'push send queue', max: this.opts.maxQueueBytes, detail: 'the server does not take data as fast as it is written' })
        this.cmd.fail(err)
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
      const framed = p.packetizeInterleaved(unit, s.rtpChannel, this.spare)
      const data = framed.data
      s.packetsSent += framed.packets
      s.bytesSent += data.length - framed.packets * (INTERLEAVED_HEADER_SIZE + RTP_HEADER_SIZE)
      if (framed.packets > 0) this.conn.write(data)
      // Nothing queued after the write: the kernel took the whole buffer at once (a write that
      // completes synchronously), so the next unit can be packetized into it instead of a new
      // one. Only a buffer with its own ArrayBuffer, never a slice of Node's shared pool.
      const ab = data.buffer
      if (this.conn.writableLength === 0 && ab.byteLength > Buffer.poolSize) {
        if (this.spare === undefined || this.spare.buffer !== ab) this.spare = Buffer.from(ab, 0, ab.byteLength)
      } else if (this.spare !== undefined && this.spare.buffer === ab) {
        this.spare = undefined
      }
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
    const keepAliveMs = this.opts.keepAliveMs ?? Math.max(1000, Math.floor((this.cmd.sessionTimeoutS * 1000) / 2))
    const url = this.cmd.controlUrl
    this.cmd.startKeepAlive(keepAliveMs, () => this.conn.request('OPTIONS', url, {}, undefined, () => true), (err) => {
      if (this.cmd.state !== 'recording') return
      // An unanswered keep-alive means the server is gone; a refused one is only worth a warning.
      if (err instanceof TimeoutError || err instanceof ClosedError) this.cmd.fail(err)
      else this.emit('warning', `keep-alive OPTIONS failed: ${(err as Error).message}`)
    })
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
        this.cmd.fail(new TimeoutError({ phase: 'reply', timeoutMs: readTimeout, detail: `: the server took no data for ${readTimeout} ms` }))
      }
    }, Math.min(1000, Math.max(50, readTimeout / 4)))
    this.stallTimer.unref()
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
  close(): Promise<void> {
    return this.cmd.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

function noop(): void {}

/** A track's pts going back more than this (B-frames reorder by a few frames) is a discontinuity. */
const MAX_BACKWARD_S = 1
/** A track's pts leaping ahead more than this is a discontinuity too. */
const MAX_FORWARD_S = 10
