/**
 * One WHEP viewer (RFC 9725): a werift peer connection that sends a live path's frames
 * as they are, H.264 packetized by our own packetizer (RFC 6184 mode 1) and Opus / G.711
 * passed through. The path's frames reach it through a bounded ViewerQueue drained on the
 * next turn of the event loop, so the fan-out never waits for DTLS/SRTP work.
 */
import { randomBytes } from 'node:crypto'
import { isIPv6 } from 'node:net'
import { RTCPeerConnection, RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters, type RTCRtpSender, type RTCRtpTransceiver } from 'werift'
import { ProtocolError, TimeoutError } from '../errors.js'
import { G711Packetizer } from '../formats/g711/packetizer.js'
import { H264Packetizer } from '../formats/h264/packetizer.js'
import { OpusPacketizer } from '../formats/opus/packetizer.js'
import type { LiveFrame, LiveMedia, LiveTrack } from '../http/live-media.js'
import { withParameterSets } from './parameter-sets.js'
import { PLAYOUT_DELAY_URI, filterCandidates, planOffer, restrictOffer, setFmtp, type SectionPlan } from './offer.js'
import { ViewerQueue } from './viewer-queue.js'

export interface WhepSessionOptions {
  /**
   * Addresses to advertise as host candidates (the addresses the server listens on); the
   * answer carries candidates on these only. Default: every interface werift finds.
   */
  addresses?: readonly string[]
  /** Close the session when ICE + DTLS do not connect within this time. Default 15000 ms. */
  connectTimeoutMs?: number
  /** Close the session after this long in ICE `disconnected`. Default 5000 ms. */
  disconnectedTimeoutMs?: number
  /**
   * Close the session when the viewer sends no RTCP for this long once connected (a closed
   * tab sends no DTLS close_notify, and ICE consent only expires after 30 s, RFC 7675 §5.1).
   * Receivers report at least every few seconds (RFC 3550 §6.2). Default 10000 ms.
   */
  rtcpTimeoutMs?: number
  /** Bytes a viewer may fall behind before it drops to the next key frame. Default 4 MiB. */
  maxQueueBytes?: number
  /** Bound on ICE candidate gathering before the answer is sent. Default 5000 ms. */
  gatherTimeoutMs?: number
  /**
   * Playout delay asked of the receiver with the playout-delay header extension, in ms
   * (multiples of 10, at most 40950), when the offer has it; `null` leaves the receiver's
   * jitter buffer to itself. Default { min: 0, max: 0 }: render each frame as soon as it is
   * decoded (a LAN live view; the receiver then skips its smoothing delay).
   */
  playoutDelay?: { min: number; max: number } | null
}

export type WhepSessionState = 'connecting' | 'connected' | 'closed'

export interface WhepSessionStats {
  framesSent: number
  packetsSent: number
  framesDropped: number
  overflows: number
}

/** A sender for one live track. */
interface Outgoing {
  plan: SectionPlan
  track: LiveTrack
  sender: RTCRtpSender
  packetize(data: readonly Buffer[], rtpTimestamp: number): Buffer[]
}

const MTU = 1200 // RTP payload bytes: fits DTLS/SRTP + IP/UDP in any path MTU WebRTC assumes.

export class WhepSession {
  readonly id = randomBytes(12).toString('base64url')
  readonly path: string
  /** Why tracks of the path are not sent (AAC, H.265), for the viewer. */
  readonly notes: string[]
  state: WhepSessionState = 'connecting'
  /** Called once when the session closes (whatever the reason). */
  onClose: ((session: WhepSession, reason: string) => void) | undefined
  readonly stats: WhepSessionStats = { framesSent: 0, packetsSent: 0, framesDropped: 0, overflows: 0 }
  /** Why the session closed. */
  closeReason: string | undefined

  private readonly pc: RTCPeerConnection
  private readonly media: LiveMedia
  private readonly opts: Required<Omit<WhepSessionOptions, 'addresses'>>
  private readonly outgoing = new Map<number, Outgoing>()
  private readonly queue: ViewerQueue
  private unsubscribe: (() => void) | undefined
  private connectTimer: NodeJS.Timeout | undefined
  private disconnectTimer: NodeJS.Timeout | undefined
  private livenessTimer: NodeJS.Timeout | undefined
  private lastRtcp = 0
  private drainScheduled = false
  private firstBatch = true
  private readonly drainBound = (): void => this.drain()

  private constructor(media: LiveMedia, pc: RTCPeerConnection, notes: string[], opts: WhepSessionOptions) {
    this.media = media
    this.path = media.path
    this.pc = pc
    this.notes = notes
    this.opts = {
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
      disconnectedTimeoutMs: opts.disconnectedTimeoutMs ?? 5_000,
      rtcpTimeoutMs: opts.rtcpTimeoutMs ?? 10_000,
      maxQueueBytes: opts.maxQueueBytes ?? 4 * 1024 * 1024,
      gatherTimeoutMs: opts.gatherTimeoutMs ?? 5_000,
      playoutDelay: opts.playoutDelay === undefined ? { min: 0, max: 0 } : opts.playoutDelay,
    }
    this.queue = new ViewerQueue(this.opts.maxQueueBytes, (i) => this.outgoing.get(i)?.track.type === 'video')
  }

  /**
   * Answer a WHEP offer: plan the sections against the path's tracks, let werift answer the
   * restricted offer, gather host candidates (no trickle: RFC 9725 §4.3 allows a complete
   * answer) and return the answer SDP. Throws SdpError for an offer we cannot answer.
   */
  static async create(offer: string, media: LiveMedia, opts: WhepSessionOptions = {}): Promise<{ session: WhepSession; answer: string }> {
    const plan = planOffer(offer, media.tracks())
    const video = plan.sections.filter((s) => s.kind === 'video')
    const audio = plan.sections.filter((s) => s.kind === 'audio')
    const codec = (s: SectionPlan): RTCRtpCodecParameters =>
      new RTCRtpCodecParameters({
        mimeType: s.mimeType,
        clockRate: s.clockRate,
        channels: s.channels,
        payloadType: s.payloadType,
        parameters: s.fmtp || undefined,
        rtcpFeedback: s.kind === 'video' ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] : [],
      })
    const addresses = opts.addresses?.filter((a) => a && a !== '0.0.0.0' && a !== '::')
    const playoutDelay = opts.playoutDelay === undefined ? { min: 0, max: 0 } : opts.playoutDelay
    const delayId = playoutDelay ? video.find((s) => s.track)?.playoutDelayId : undefined
    const pc = new RTCPeerConnection({
      codecs: { video: video.slice(0, 1).map(codec), audio: audio.slice(0, 1).map(codec) },
      headerExtensions: { video: delayId ? [new RTCRtpHeaderExtensionParameters({ id: delayId, uri: PLAYOUT_DELAY_URI })] : [], audio: [] },
      iceServers: [],
      iceAdditionalHostAddresses: addresses?.length ? [...addresses] : undefined,
      iceUseIpv6: addresses?.length ? addresses.some((a) => isIPv6(a)) : false,
    })
    const session = new WhepSession(media, pc, plan.notes, opts)
    try {
      const transceivers: RTCRtpTransceiver[] = []
      for (const s of plan.sections) {
        transceivers.push(pc.addTransceiver(s.kind, { direction: s.track ? 'sendonly' : 'inactive' }))
      }
      await pc.setRemoteDescription({ type: 'offer', sdp: restrictOffer(offer, plan) })
      const answer = await pc.createAnswer()
      // DTLS server (RFC 8842 §5.3: the answerer picks its role). As a DTLS client, werift
      // 0.24.4 keeps retransmitting its flight 5 on a timer for ~30 s after the handshake.
      await pc.setLocalDescription({ type: 'answer', sdp: answer.sdp.replace(/^a=setup:active$/gm, 'a=setup:passive') })
      await session.gathered()
      plan.sections.forEach((s, i) => {
        const t = transceivers[i]!
        if (!s.track) return
        const ext = s.kind === 'video' && delayId && playoutDelay ? playoutDelayExtension(delayId, playoutDelay.min, playoutDelay.max) : undefined
        session.outgoing.set(s.track.index, { plan: s, track: s.track, sender: t.sender, packetize: packetizerFor(s, t.sender.ssrc, ext) })
      })
      let sdp = pc.localDescription?.sdp ?? ''
      for (const s of plan.sections) if (s.kind === 'video') sdp = setFmtp(sdp, s.index, s.payloadType, s.fmtp)
      if (addresses?.length) sdp = filterCandidates(sdp, addresses)
      session.watch()
      return { session, answer: sdp.endsWith('\r\n') ? sdp : `${sdp}\r\n` }
    } catch (err) {
      session.close('negotiation failed')
      throw err
    }
  }

  private async gathered(): Promise<void> {
    if (this.pc.iceGatheringState === 'complete') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.unSubscribe()
        reject(new TimeoutError({ phase: 'handshake', timeoutMs: this.opts.gatherTimeoutMs, detail: '(ICE candidate gathering)' }))
      }, this.opts.gatherTimeoutMs)
      const sub = this.pc.iceGatheringStateChange.subscribe((state) => {
        if (state !== 'complete') return
        clearTimeout(timer)
        sub.unSubscribe()
        resolve()
      })
    })
  }

  private watch(): void {
    this.connectTimer = setTimeout(() => this.close(`no WebRTC connection within ${this.opts.connectTimeoutMs} ms`), this.opts.connectTimeoutMs)
    this.connectTimer.unref()
    this.pc.connectionStateChange.subscribe((state) => {
      if (this.state === 'closed') return
      if (state === 'connected') {
        clearTimeout(this.connectTimer)
        clearTimeout(this.disconnectTimer)
        this.disconnectTimer = undefined
        if (this.state !== 'connected') {
          this.state = 'connected'
          this.lastRtcp = performance.now()
          this.livenessTimer = setInterval(() => {
            // A receiver reports only once it has received RTP (RFC 3550 §6.4.2).
            if (this.stats.packetsSent === 0) this.lastRtcp = performance.now()
            else if (performance.now() - this.lastRtcp > this.opts.rtcpTimeoutMs) this.close(`no RTCP from the viewer for ${this.opts.rtcpTimeoutMs} ms`)
          }, 1000).unref()
          this.start()
        }
      } else if (state === 'disconnected') {
        // ICE consent (RFC 7675) lapsed; the pair may come back within a few seconds.
        this.disconnectTimer ??= setTimeout(() => this.close('the viewer stopped answering ICE checks'), this.opts.disconnectedTimeoutMs).unref()
      } else if (state === 'failed' || state === 'closed') {
        this.close(`the peer connection ${state}`)
      }
    })
    for (const out of this.outgoing.values()) {
      out.sender.onRtcp.subscribe(() => {
        this.lastRtcp = performance.now()
      })
      // A DTLS close_notify alert (RFC 5246 §7.2.1: the browser closed the connection) ends the transport.
      out.sender.dtlsTransport.onStateChange.subscribe((state) => {
        if (state === 'closed' || state === 'failed') this.close(`the viewer closed the connection (DTLS ${state})`)
      })
    }
  }

  /** Connected: subscribe to the path (the GOP cache comes first, from a key frame). */
  private start(): void {
    this.unsubscribe = this.media.subscribe({
      frame: (f) => this.frame(f),
      end: (err) => this.close(err ? `the path ended: ${err.message}` : 'the path ended'),
    })
  }

  private frame(f: LiveFrame): void {
    if (this.state !== 'connected' || !this.outgoing.has(f.track)) return
    if (!this.queue.push(f)) this.stats.framesDropped++
    if (!this.drainScheduled && this.queue.length > 0) {
      this.drainScheduled = true
      setImmediate(this.drainBound)
    }
  }

  private drain(): void {
    this.drainScheduled = false
    if (this.state !== 'connected') return
    const frames = this.queue.take()
    this.stats.overflows = this.queue.overflows
    if (this.firstBatch) {
      this.firstBatch = false
      this.sendFirstBatch(frames)
      return
    }
    for (const f of frames) this.send(f, f.timestamp)
  }

  /**
   * The GOP cache arrives in one burst. Sent with its own timestamps, the receiver's jitter
   * buffer would schedule the live frames one GOP late for the whole session; instead the
   * cached video frames get timestamps one tick apart ending at the newest, so they decode
   * at once and live frames keep their own. Cached audio is dropped: it would queue the
   * same GOP of delay in the audio jitter buffer, and video is synchronized to audio.
   */
  private sendFirstBatch(frames: LiveFrame[]): void {
    const video = frames.filter((f) => this.outgoing.get(f.track)?.track.type === 'video')
    const last = video[video.length - 1]
    if (!last) {
      // Audio only: the newest 100 ms of the cache, no more.
      const newest = frames.reduce((m, f) => Math.max(m, f.pts), Number.NEGATIVE_INFINITY)
      for (const f of frames) if (f.pts >= newest - 0.1) this.send(f, f.timestamp)
      return
    }
    let i = 0
    for (const f of frames) {
      const isVideo = this.outgoing.get(f.track)?.track.type === 'video'
      if (!isVideo) {
        if (last && f.pts < last.pts - 0.05) continue
        this.send(f, f.timestamp)
        continue
      }
      this.send(f, last.timestamp - (video.length - 1 - i))
      i++
    }
  }

  private send(f: LiveFrame, timestamp: number): void {
    const out = this.outgoing.get(f.track)
    if (!out) return
    let data = f.data
    if (out.track.codec === 'H264') data = withParameterSets(f, this.media.tracks()[f.track] ?? out.track)
    let packets: Buffer[]
    try {
      packets = out.packetize(data, Math.trunc(timestamp) >>> 0) // RTP timestamps wrap at 2^32 (RFC 3550 §5.1)
    } catch {
      // An Opus packet over the MTU (RFC 7587 §4.2 forbids fragmenting it): skip the frame.
      this.stats.framesDropped++
      return
    }
    for (const p of packets) out.sender.sendRtp(p).catch(() => {})
    this.stats.framesSent++
    this.stats.packetsSent += packets.length
  }

  /** Release everything: the subscription, timers, the peer connection and its sockets. Idempotent. */
  close(reason = 'closed'): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.closeReason = reason
    clearTimeout(this.connectTimer)
    clearTimeout(this.disconnectTimer)
    clearInterval(this.livenessTimer)
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.queue.take()
    this.pc.close().catch(() => {})
    this.onClose?.(this, reason)
  }
}

/** A packetizer for one section, with werift's sender SSRC (werift rewrites SSRC and payload type anyway). */
function packetizerFor(s: SectionPlan, ssrc: number, extension?: Buffer): Outgoing['packetize'] {
  const opts = { payloadType: s.payloadType, ssrc, mtu: MTU - (extension?.length ?? 0) }
  if (s.mimeType === 'video/H264') {
    const p = new H264Packetizer(opts)
    if (!extension) return (data, rtpTimestamp) => p.packetize({ data, rtpTimestamp })
    return (data, rtpTimestamp) => p.packetize({ data, rtpTimestamp }).map((pkt) => withExtension(pkt, extension))
  }
  if (s.mimeType === 'audio/opus') {
    const p = new OpusPacketizer(opts)
    return (data, rtpTimestamp) => p.packetize({ data, rtpTimestamp })
  }
  if (s.mimeType === 'audio/PCMA' || s.mimeType === 'audio/PCMU') {
    const p = new G711Packetizer({ ...opts, sampleRate: 8000, channels: 1 })
    return (data, rtpTimestamp) => p.packetize({ data, rtpTimestamp })
  }
  throw new ProtocolError(`no WebRTC packetizer for ${s.mimeType}`)
}

/**
 * The playout-delay extension as a one-byte-header block (RFC 8285 §4.2), ready to follow
 * a 12-byte RTP header: 0xBEDE, length 1 word, then id/len and the 24-bit value of two
 * 12-bit delays in 10 ms units (min, max).
 *
 *   | 0xBE | 0xDE | 0x00 | 0x01 | ID | len=2 | MIN (12 bits) | MAX (12 bits) |
 */
export function playoutDelayExtension(id: number, minMs: number, maxMs: number): Buffer {
  const min = Math.min(0xfff, Math.max(0, Math.round(minMs / 10)))
  const max = Math.min(0xfff, Math.max(min, Math.round(maxMs / 10)))
  const b = Buffer.alloc(8)
  b.writeUInt16BE(0xbede, 0)
  b.writeUInt16BE(1, 2)
  b[4] = (id << 4) | 2
  b.writeUIntBE((min << 12) | max, 5, 3)
  return b
}

/** An RTP packet without CSRCs or extension, with `extension` inserted after its header and the X bit set (RFC 3550 §5.1). */
function withExtension(packet: Buffer, extension: Buffer): Buffer {
  const out = Buffer.allocUnsafe(packet.length + extension.length)
  packet.copy(out, 0, 0, 12)
  out[0] = out[0]! | 0x10
  extension.copy(out, 12)
  packet.copy(out, 12 + extension.length, 12)
  return out
}
