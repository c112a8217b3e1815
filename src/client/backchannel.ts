// The ONVIF back-channel (ONVIF Streaming Specification §5.3, "two-way audio"): a camera
// that was asked with `Require: www.onvif.org/ver20/backchannel` adds an audio media marked
// a=sendonly (from the client's side: the client sends) to its DESCRIBE answer. The pull
// session SETs it UP with the tracks it receives; this file finds that media, sets it up,
// and sends audio on it: G.711 in 20 ms packets paced in real time, with RTCP sender
// reports, while the session keeps receiving the camera's streams.
import { randomInt } from 'node:crypto'
import type { RtspConnection } from './connection.js'
import type { TrackTransport } from './track.js'
import { adtsFrames, toG711, type TalkFormat } from './talk-audio.js'
import { AbortError, InvalidArgumentError, ProtocolError, StateError, UnsupportedError } from '../errors.js'
import { buildRtpPacket, randomSsrc } from '../rtp/packet.js'
import { buildSenderReport, ntpFromDate } from '../rtcp/packets.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import type { MediaDescription, SessionDescription } from '../sdp/types.js'
import { bindRtpPortPair, type UdpPortPair } from '../transport/udp.js'
import type { G711Law } from '../codec/g711.js'
import { parseAudioSpecificConfig } from '../codec/aac-config.js'
import { AacPacketizer } from '../formats/aac/packetizer.js'
import { parseAacFmtp } from '../formats/aac/sdp.js'

export type { TalkFormat } from './talk-audio.js'

/** The Require tag (ONVIF Streaming §5.3.1) that makes a camera offer its back-channel. */
export const ONVIF_BACKCHANNEL_REQUIRE = 'www.onvif.org/ver20/backchannel'

/** The back-channel as set up: what the camera takes and how it travels. */
export interface BackChannelInfo {
  /** The codec sent: G.711 µ-law or A-law, or AAC (RFC 3640 AAC-hbr; talk() then takes ADTS and sends it as it is). */
  codec: 'PCMU' | 'PCMA' | 'AAC'
  payloadType: number
  clockRate: number
  /** AAC: the AudioSpecificConfig of the SDP's `config`. */
  config?: Buffer
  /** Absolute control URL (no credentials). */
  control: string
  /** Filled by SETUP. */
  transport: TrackTransport
  /** The SDP media it came from. */
  media: MediaDescription
}

export interface TalkOptions {
  /** What the input bytes are (see TalkFormat). Default 'auto': WAV, recognised by its header. */
  format?: TalkFormat
  /** Stops talking (the promise rejects with an AbortError); the session goes on. */
  signal?: AbortSignal
}

/** What one talk() sent. */
export interface TalkResult {
  packetsSent: number
  /** Audio bytes sent (G.711 samples, AAC frames). */
  bytesSent: number
  /** Seconds of audio sent. */
  durationS: number
}

export interface BackChannelStats {
  packetsSent: number
  bytesSent: number
  /** RTCP sender reports sent for the back-channel's stream. */
  rtcpPacketsSent: number
  /** RTCP packets the camera sent about it (receiver reports). */
  rtcpPacketsReceived: number
}

/** Packet duration: RFC 3551 §4.5.14's default for G.711 (160 bytes at 8 kHz). */
const PACKET_MS = 20
/** Behind the schedule by more than this, the input stalled (a live pipe): restart the schedule instead of bursting. */
const MAX_LAG_MS = 300

/**
 * The media of an SDP that is an ONVIF back-channel: audio marked a=sendonly. A server that
 * offers none (asked without the Require tag, or a camera without a speaker) gives [].
 */
export function backChannelMedia(sdp: SessionDescription): MediaDescription[] {
  return sdp.media.filter((m) => m.type === 'audio' && m.direction === 'sendonly')
}

/** What to send on a back-channel media. */
export type BackChannelFormat = Pick<BackChannelInfo, 'codec' | 'payloadType' | 'clockRate' | 'config'>

/**
 * The payload type to send on a back-channel media: the first G.711 one (PCM input can be
 * encoded to it), else AAC-hbr with a config (RFC 3640 §3.3.6; ADTS input is sent as it is).
 */
export function backChannelFormat(media: MediaDescription): BackChannelFormat | undefined {
  let aac: BackChannelFormat | undefined
  for (const pt of media.formats) {
    const map = media.rtpmap.get(pt)
    // RFC 3551 §6: static types 0 (PCMU) and 8 (PCMA) need no rtpmap.
    const name = map?.encoding.toUpperCase() ?? (pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : undefined)
    if ((name === 'PCMU' || name === 'PCMA') && (map?.channels ?? 1) === 1) return { codec: name, payloadType: pt, clockRate: map?.clockRate || 8000 }
    if (name === 'MPEG4-GENERIC' && map !== undefined && aac === undefined) {
      const params = parseAacFmtp(media.fmtp.get(pt))
      // The packetizer writes AAC-hbr AU headers: 13-bit size, 3-bit index and delta.
      if (params.config !== undefined && params.sizeLength === 13 && params.indexLength === 3 && params.indexDeltaLength === 3) {
        aac = { codec: 'AAC', payloadType: pt, clockRate: map.clockRate, config: params.config }
      }
    }
  }
  return aac
}

/** Names of the formats of a media, for messages ("MPEG4-GENERIC/16000"). */
function offered(media: MediaDescription): string {
  return media.formats.map((pt) => media.rtpmap.get(pt)?.encoding ?? `payload type ${pt}`).join(', ') || 'nothing'
}

/** How the pull session lets the back-channel SETUP and send. */
export interface BackChannelWiring {
  conn: RtspConnection
  transport: 'tcp' | 'udp'
  /** First interleaved channel free for it (TCP). */
  channel: number
  /** Send SETUP for `control` with this Transport; resolves with the Transport the server chose. */
  setup(control: string, request: TransportSpec): Promise<TransportSpec | undefined>
  /** The server's address, when the SETUP reply names no source (UDP). */
  remoteHost: string
}

/**
 * One back-channel of a pull session. Created from the DESCRIBE answer, set up with the
 * session's tracks, then `talk()` sends audio until its input ends; talks may follow one
 * another, their RTP timestamps following wall-clock time, and each starts a talkspurt
 * (marker bit, RFC 3551 §4.1).
 */
export class BackChannel {
  readonly info: BackChannelInfo
  private readonly ssrc = randomSsrc()
  private seq = randomInt(0x10000)
  /** RTP time of `clockAt` (performance.now() ms): the media clock while talking. */
  private clockRtp = randomInt(0x100000000)
  private clockAt = 0
  private talking: AbortController | undefined
  private closed = false
  private rtcpTimer: NodeJS.Timeout | undefined
  private udp: UdpPortPair | undefined
  private conn: RtspConnection | undefined
  private rtcpChannel = -1
  private rtpChannel = -1
  private packetsSent = 0
  private bytesSent = 0
  private rtcpPacketsSent = 0
  private rtcpPacketsReceived = 0
  /** AAC back-channels: the RFC 3640 packetizer (it numbers the packets). */
  private aac: AacPacketizer | undefined

  constructor(
    media: MediaDescription,
    control: string,
    private readonly rtcpIntervalMs = 5_000,
  ) {
    const format = backChannelFormat(media)
    if (format === undefined) {
      throw new UnsupportedError(`the camera's back-channel takes ${offered(media)}; rtspkit talks G.711 (PCMU, PCMA) or AAC-hbr with a config`)
    }
    this.info = { ...format, control, transport: { protocol: 'tcp' }, media }
  }

  /** SETUP (RFC 2326 §10.4) over the session's transport. */
  async setup(w: BackChannelWiring): Promise<void> {
    this.conn = w.conn
    let request: TransportSpec
    if (w.transport === 'udp') {
      this.udp = await bindRtpPortPair({ host: w.conn.localAddress })
      request = { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [this.udp.rtpPort, this.udp.rtcpPort] }
    } else {
      request = { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [w.channel, w.channel + 1] }
    }
    const reply = await w.setup(this.info.control, request)
    const t = this.info.transport
    t.ssrc = reply?.ssrc
    if (reply?.lowerTransport === 'TCP' || (reply === undefined && w.transport === 'tcp')) {
      await this.udp?.close()
      this.udp = undefined
      const channels = reply?.interleaved ?? request.interleaved ?? [w.channel, w.channel + 1]
      t.protocol = 'tcp'
      t.interleaved = channels
      this.rtpChannel = channels[0]
      this.rtcpChannel = channels[1]
      // The camera's receiver reports about our stream; anything on the RTP channel is ignored.
      w.conn.channels[channels[0]] = noop
      w.conn.channels[channels[1]] = () => void this.rtcpPacketsReceived++
    } else {
      if (this.udp === undefined) throw new ProtocolError(`server answered a TCP SETUP for ${this.info.control} with UDP transport; try --transport udp`)
      const sp = reply?.serverPort
      if (sp === undefined || sp[0] <= 0) throw new ProtocolError(`the SETUP reply for the back-channel ${this.info.control} names no server_port to send to`)
      t.protocol = 'udp'
      t.clientPort = [this.udp.rtpPort, this.udp.rtcpPort]
      t.serverPort = sp
      this.udp.setRemote(reply?.source ?? w.conn.remoteAddress ?? w.remoteHost, sp[0], sp[1])
      this.udp.onRtcp(() => void this.rtcpPacketsReceived++)
    }
  }

  /**
   * Send audio from `source` (a Readable, an async or sync iterable of byte chunks, or one
   * Buffer) until it ends, paced in real time; resolves when the last packet's audio has
   * played out. One talk at a time.
   */
  async talk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array, options: TalkOptions = {}): Promise<TalkResult> {
    if (this.closed) throw new StateError({ action: 'talk', state: 'closed', allowed: ['playing', 'paused'] })
    if (this.talking !== undefined) throw new StateError({ action: 'talk', state: 'talking', allowed: ['not talking'] })
    if (this.rtpChannel < 0 && this.udp === undefined) throw new StateError({ action: 'talk', state: 'not set up', allowed: ['set up'] })
    const ac = new AbortController()
    this.talking = ac
    const signal = options.signal
    const onAbort = () => ac.abort(signal?.reason)
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const result: TalkResult = { packetsSent: 0, bytesSent: 0, durationS: 0 }
    try {
      const input = chunks(source)
      const format = options.format ?? 'auto'
      const { codec, clockRate, config } = this.info
      if (codec === 'AAC') {
        const asc = parseAudioSpecificConfig(config!)
        const frames = adtsFrames(input, format, { objectType: asc.objectType, sampleRate: asc.sampleRate, channels: asc.channels })
        this.aac ??= new AacPacketizer({ payloadType: this.info.payloadType, ssrc: this.ssrc, initialSequenceNumber: this.seq, maxFramesPerPacket: 1, frameDuration: asc.frameLength ?? 1024 })
        await this.send(frames, () => asc.frameLength ?? 1024, ac.signal, result)
      } else {
        await this.send(packetSized(toG711(input, format, { law: codec, sampleRate: clockRate }), Math.round((clockRate * PACKET_MS) / 1000)), (unit) => unit.length, ac.signal, result)
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
      clearInterval(this.rtcpTimer)
      this.rtcpTimer = undefined
      this.talking = undefined
    }
    return result
  }

  /** Send `units` (one RTP packet each: 20 ms of G.711, or one AAC frame) on the real-time schedule. */
  private async send(units: AsyncIterable<Buffer>, samplesOf: (unit: Buffer) => number, signal: AbortSignal, result: TalkResult): Promise<void> {
    const rate = this.info.clockRate
    // The schedule: sample n goes out at start + n / rate. RTP time follows wall time across
    // talks: this talk begins where the media clock stands now.
    let start = performance.now()
    const firstRtp = this.rtpNow(start)
    /** Samples of RTP time skipped when the input stalled. */
    let gap = 0
    let samples = 0
    let marker = true
    const sendPacket = async (payload: Buffer): Promise<void> => {
      let due = start + (samples * 1000) / rate
      const lag = performance.now() - due
      if (lag > MAX_LAG_MS) {
        // The input stalled (a live pipe, or the machine): a new talkspurt from now, its RTP
        // time as far on as the stall lasted, rather than a burst to catch up.
        start += lag
        due += lag
        gap += Math.round((lag * rate) / 1000)
        marker = true
      } else if (lag < -1) {
        await sleep(-lag, signal)
      }
      if (signal.aborted || this.closed) throw new AbortError(signal.reason)
      const ts = (firstRtp + gap + samples) >>> 0
      if (result.packetsSent === 0) {
        // A sender report before the first packet pairs the stream's clock with wall time at once.
        this.clockRtp = ts
        this.clockAt = due
        this.sendSenderReport()
        this.rtcpTimer = setInterval(() => this.sendSenderReport(), this.rtcpIntervalMs)
        this.rtcpTimer.unref()
      }
      // G.711: a talkspurt's first packet has the marker bit (RFC 3551 §4.1); AAC: the packetizer
      // sets it at the end of each frame (RFC 3640 §3.2.1).
      const packets = this.aac !== undefined
        ? this.aac.packetize({ data: [payload], rtpTimestamp: ts })
        : [buildRtpPacket({ payloadType: this.info.payloadType, sequenceNumber: this.seq, timestamp: ts, ssrc: this.ssrc, marker }, payload)]
      this.seq = (this.seq + packets.length) & 0xffff
      marker = false
      for (const pkt of packets) {
        if (this.udp !== undefined) this.udp.sendRtp(pkt)
        else this.conn?.writeInterleaved(this.rtpChannel, pkt)
      }
      this.packetsSent += packets.length
      this.bytesSent += payload.length
      result.packetsSent += packets.length
      result.bytesSent += payload.length
      samples += samplesOf(payload)
      // The media clock stands at the end of what was sent, on the schedule: SRs follow it.
      this.clockRtp = (firstRtp + gap + samples) >>> 0
      this.clockAt = start + (samples * 1000) / rate
    }
    for await (const unit of units) {
      await sendPacket(unit)
      if (signal.aborted || this.closed) throw new AbortError(signal.reason)
    }
    // Done when the last packet's audio has played out at the camera.
    const end = start + (samples * 1000) / rate
    const left = end - performance.now()
    if (left > 1) await sleep(left, signal)
    result.durationS = samples / rate
  }

  /** RTP time of a performance.now() instant on the media clock. */
  private rtpNow(at: number): number {
    return (this.clockRtp + Math.round(((at - this.clockAt) * this.info.clockRate) / 1000)) >>> 0
  }

  /** RFC 3550 §6.4.1: an SR pairs an NTP instant with the RTP time of the same instant. */
  private sendSenderReport(): void {
    const now = performance.now()
    const sr = buildSenderReport({
      ssrc: this.ssrc,
      ntp: ntpFromDate(performance.timeOrigin + now),
      rtpTimestamp: this.rtpNow(now),
      packetCount: this.packetsSent >>> 0,
      octetCount: this.bytesSent >>> 0,
      cname: 'rtspkit',
    })
    if (this.udp !== undefined) this.udp.sendRtcp(sr)
    else this.conn?.writeInterleaved(this.rtcpChannel, sr)
    this.rtcpPacketsSent++
  }

  stats(): BackChannelStats {
    return { packetsSent: this.packetsSent, bytesSent: this.bytesSent, rtcpPacketsSent: this.rtcpPacketsSent, rtcpPacketsReceived: this.rtcpPacketsReceived }
  }

  /** The session ended: a talk in progress rejects with AbortError; sockets and timers are freed. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.talking?.abort()
    clearInterval(this.rtcpTimer)
    void this.udp?.close()
    this.udp = undefined
  }
}

function noop(): void {}

/** G.711 bytes regrouped into packets of `size` bytes (the last one may be shorter). */
async function* packetSized(bytes: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer | undefined
  for await (const chunk of bytes) {
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    while (buf.length >= size) {
      yield buf.subarray(0, size)
      buf = buf.subarray(size)
    }
    pending = buf.length > 0 ? Buffer.from(buf) : undefined
  }
  if (pending !== undefined) yield pending
}

/** The talk input as an async iterable of byte chunks. */
function chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) return (async function* () { yield source })()
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') return source as AsyncIterable<Uint8Array>
  if (typeof (source as Iterable<Uint8Array>)[Symbol.iterator] === 'function') {
    const it = source as Iterable<Uint8Array>
    return (async function* () { yield* it })()
  }
  throw new InvalidArgumentError('talk(): the source must be a Readable, an (async) iterable of Buffers or a Buffer')
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new AbortError(signal.reason))
    const onAbort = () => {
      clearTimeout(timer)
      reject(new AbortError(signal.reason))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
