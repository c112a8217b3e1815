/**
 * The producer behind `LiveMedia`: one per served path. It taps the path's RTP packets as one
 * more reader of the server's stream, depacketizes them once (the formats registry's
 * depacketizers), keeps a GOP cache (from the last video key frame) and hands every frame to
 * every viewer. The tap is attached on the first viewer and removed `lingerMs` after the last;
 * an on-demand source (a camera pulled only while watched) opens and closes with it.
 */
import { ClosedError } from '../errors.js'
import { resolveFormat } from '../formats/index.js'
import type { Depacketizer } from '../formats/types.js'
import { spsDetails } from '../formats/nal/details.js'
import { parseH264Sps } from '../codec/h264-sps.js'
import { parseH265Sps } from '../codec/h265-sps.js'
import { jpegSize } from '../codec/jpeg.js'
import { createRtpPacket, parseRtpPacketInto } from '../rtp/packet.js'
import { TimestampUnwrapper } from '../rtp/timestamp-unwrapper.js'
import { parseSdp } from '../sdp/parse.js'
import type { Batch, Stream, StreamReader } from '../server/stream.js'
import type { LiveFrame, LiveMedia, LiveTrack, LiveViewer } from './live-media.js'

export interface LivePathOptions {
  /** Keep the tap (and an on-demand upstream) this long after the last viewer. Default 10 000 ms. */
  lingerMs?: number
  /** Most bytes in the GOP cache; past it the cache is dropped until the next key frame. Default 32 MiB. */
  maxCacheBytes?: number
}

/** Where a path's stream comes from: served now, or opened on the first viewer. */
export type LiveSource =
  | { kind: 'stream'; stream: Stream }
  | { kind: 'on-demand'; open(): Promise<Stream>; close(): Promise<void> }

interface TrackRuntime {
  depacketizer: Depacketizer | undefined
  unwrapper: TimestampUnwrapper
  /** Extended RTP time of pts 0, set by the track's first unit. */
  origin: number | undefined
  /** RTP time (32-bit) of the tap's start instant, from the stream's clock, if it has one. */
  ref32: number | undefined
  expectedSeq: number
  lastPts: number | undefined
  lastDuration: number
}

/** pts of the tap's start: frames captured a little before it (in flight) stay ≥ 0. */
const START_PTS = 1

export class LivePath implements LiveMedia {
  readonly path: string
  readonly #source: LiveSource
  readonly #lingerMs: number
  readonly #maxCacheBytes: number
  readonly #viewers = new Set<LiveViewer>()
  #stream: Stream | undefined
  #tracks: LiveTrack[] = []
  #runtimes: TrackRuntime[] = []
  /** The track whose key frames start the cache and viewers (the first video track), or -1. */
  #keyTrack = -1
  #cache: LiveFrame[] = []
  #cacheBytes = 0
  #tap: StreamReader | undefined
  #attachedAt = 0
  #lingerTimer: NodeJS.Timeout | undefined
  #opening: Promise<void> | undefined
  #ended = false
  readonly #scratch = createRtpPacket()
  /** Frames and bytes handed out since the tap started (the index's bitrate). */
  frames = 0
  bytes = 0
  /** performance.now() of the last frame. */
  lastFrameAt = 0

  constructor(path: string, source: LiveSource, options: LivePathOptions = {}) {
    this.path = path
    this.#source = source
    this.#lingerMs = options.lingerMs ?? 10_000
    this.#maxCacheBytes = options.maxCacheBytes ?? 32 * 1024 * 1024
    if (source.kind === 'stream') this.#useStream(source.stream)
  }

  tracks(): readonly LiveTrack[] {
    return this.#tracks
  }

  /** Viewers now (MSE, .mp4, WHEP, ...). */
  get viewerCount(): number {
    return this.#viewers.size
  }

  /** The tap is on and frames arrived in the last 2 s. */
  get live(): boolean {
    return this.#tap !== undefined && performance.now() - this.lastFrameAt < 2000
  }

  /** The tap is on the server's stream (it counts among the stream's readers). */
  get tapped(): boolean {
    return this.#tap !== undefined
  }

  /** The source ended: this path's media is over (a new stream on the path gets a new LivePath). */
  get ended(): boolean {
    return this.#ended
  }

  /** The server stream this path taps now, if any. */
  get stream(): Stream | undefined {
    return this.#stream
  }

  subscribe(viewer: LiveViewer): () => void {
    if (this.#ended) {
      queueMicrotask(() => viewer.end?.(new ClosedError(`the stream /${this.path} ended`)))
      return () => {}
    }
    this.#viewers.add(viewer)
    clearTimeout(this.#lingerTimer)
    this.#lingerTimer = undefined
    if (this.#tap === undefined) this.#start()
    else {
      // The cache may be replaced while a viewer takes it (it is a snapshot) or the viewer may leave.
      const cache = this.#cache
      for (let i = 0; i < cache.length && this.#viewers.has(viewer); i++) viewer.frame(cache[i]!)
    }
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      this.#viewers.delete(viewer)
      if (this.#viewers.size === 0 && !this.#ended) {
        clearTimeout(this.#lingerTimer)
        this.#lingerTimer = setTimeout(() => this.#stop(), this.#lingerMs)
        this.#lingerTimer.unref()
      }
    }
  }

  /** Stop at once: viewers end, the tap and an on-demand source close. */
  close(): void {
    this.#end(undefined)
  }

  #useStream(stream: Stream): void {
    this.#stream = stream
    const sdp = parseSdp(stream.sdp)
    this.#tracks = stream.tracks.map((t, i) => {
      const media = sdp.media[i]
      const pt = media?.formats[0] ?? 96
      const handler = media !== undefined ? resolveFormat(media, pt) : undefined
      const rtpmap = media?.rtpmap.get(pt)
      const track: LiveTrack = {
        index: i,
        type: t.type,
        codec: handler?.codec ?? t.codec.toUpperCase(),
        clockRate: handler?.clockRate ?? t.clockRate,
        details: { ...(handler?.details ?? {}) },
        fmtp: { ...(media?.fmtp.get(pt) ?? {}) },
      }
      const channels = rtpmap?.channels ?? handler?.details.channels
      if (channels !== undefined) track.channels = channels
      return track
    })
    this.#keyTrack = this.#tracks.findIndex((t) => t.type === 'video')
    for (const v of this.#viewers) v.tracksChanged?.()
  }

  #start(): void {
    if (this.#source.kind === 'on-demand') {
      if (this.#opening !== undefined) return
      const source = this.#source
      this.#opening = source.open().then(
        (stream) => {
          this.#opening = undefined
          if (this.#viewers.size === 0 || this.#ended) {
            void source.close()
            return
          }
          this.#useStream(stream)
          this.#attach(stream)
        },
        (err: unknown) => {
          this.#opening = undefined
          for (const v of [...this.#viewers]) v.end?.(err as Error)
          this.#viewers.clear()
        },
      )
      return
    }
    this.#attach(this.#stream!)
  }

  #attach(stream: Stream): void {
    if (stream.ended) {
      this.#end(new ClosedError(`the stream /${this.path} ended`))
      return
    }
    const sdp = parseSdp(stream.sdp)
    // One reading of the stream's clock for every track (RTP-Info style): their first frames get
    // pts on one timeline even when one medium starts later than another.
    const now = stream.rtpTimesNow(this.#tracks.map((t) => t.index))
    this.#runtimes = this.#tracks.map((t, i) => {
      const media = sdp.media[i]
      const handler = media !== undefined ? resolveFormat(media, media.formats[0] ?? 96) : undefined
      return {
        depacketizer: handler?.createDepacketizer(),
        unwrapper: new TimestampUnwrapper(),
        origin: undefined,
        ref32: now[t.index],
        expectedSeq: -1,
        lastPts: undefined,
        lastDuration: t.type === 'video' ? 1 / 30 : 0,
      }
    })
    this.#attachedAt = performance.now()
    this.#cache = []
    this.#cacheBytes = 0
    const tap: StreamReader = {
      deliver: (track, batch) => this.#onBatch(track, batch),
      deliverRtcp: () => {},
      sourceEnded: (reason) => this.#end(new ClosedError(`the stream /${this.path} ended (${reason})`)),
    }
    this.#tap = tap
    stream.readers.add(tap)
  }

  #stop(): void {
    this.#lingerTimer = undefined
    if (this.#viewers.size > 0) return
    if (this.#tap !== undefined) this.#stream?.readers.delete(this.#tap)
    this.#tap = undefined
    this.#cache = []
    this.#cacheBytes = 0
    if (this.#source.kind === 'on-demand' && this.#stream !== undefined) {
      this.#stream = undefined
      void this.#source.close()
    }
  }

  #end(err: Error | undefined): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#lingerTimer)
    if (this.#tap !== undefined) this.#stream?.readers.delete(this.#tap)
    this.#tap = undefined
    this.#cache = []
    for (const v of [...this.#viewers]) v.end?.(err)
    this.#viewers.clear()
    if (this.#source.kind === 'on-demand' && this.#stream !== undefined) void this.#source.close()
  }

  /** Hot path: one batch of RTP packets of track `index`. */
  #onBatch(index: number, batch: Batch): void {
    const rt = this.#runtimes[index]
    const track = this.#tracks[index]
    if (rt?.depacketizer === undefined || track === undefined) return
    const p = this.#scratch
    for (const packet of batch.packets) {
      if (!parseRtpPacketInto(packet, p)) continue
      // A gap in sequence numbers (a UDP publisher's loss): partial units are dropped.
      if (rt.expectedSeq >= 0 && p.sequenceNumber !== rt.expectedSeq) rt.depacketizer.reset()
      rt.expectedSeq = (p.sequenceNumber + 1) & 0xffff
      const units = rt.depacketizer.push(p)
      for (let u = 0; u < units.length; u++) {
        const au = units[u]!
        this.#onUnit(track, rt, au.rtpTimestamp, au.keyFrame, au.data)
      }
    }
  }

  #onUnit(track: LiveTrack, rt: TrackRuntime, rtpTimestamp: number, keyFrame: boolean, data: Buffer[]): void {
    const timestamp = rt.unwrapper.unwrap(rtpTimestamp)
    if (rt.origin === undefined) {
      // The stream's clock at the tap's start, else this unit's arrival, is pts START_PTS.
      // A clock reading more than 10 s away from this unit (a publisher's odd sender reports)
      // is not trusted: arrival time then.
      const fromClock = rt.ref32 !== undefined ? (rtpTimestamp - rt.ref32) | 0 : undefined
      rt.origin =
        fromClock !== undefined && Math.abs(fromClock) < 10 * track.clockRate
          ? timestamp - fromClock
          : timestamp - Math.round(((performance.now() - this.#attachedAt) / 1000) * track.clockRate)
    }
    const pts = Math.max(0, START_PTS + (timestamp - rt.origin) / track.clockRate)
    if (track.type === 'video') {
      const d = rt.lastPts === undefined ? rt.lastDuration : pts - rt.lastPts
      if (d > 0 && d < 1) rt.lastDuration = d
      rt.lastPts = pts
      if (keyFrame && this.#inBandParameterSets(track, data)) for (const v of this.#viewers) v.tracksChanged?.()
      if (track.codec === 'JPEG' && data[0] !== undefined) {
        // RFC 2435: the size comes with every frame (its rebuilt JFIF header).
        const size = jpegSize(data[0])
        if (size !== undefined && (size.width !== track.details.width || size.height !== track.details.height)) {
          track.details.width = size.width
          track.details.height = size.height
        }
      }
    }
    const frame: LiveFrame = { track: track.index, timestamp, pts, keyFrame, data, duration: rt.lastDuration }
    let size = 0
    for (let i = 0; i < data.length; i++) size += data[i]!.length
    this.frames++
    this.bytes += size
    this.lastFrameAt = performance.now()
    this.#toCache(frame, size)
    for (const v of this.#viewers) v.frame(frame)
  }

  #toCache(frame: LiveFrame, size: number): void {
    const keyTrack = this.#keyTrack
    if (keyTrack < 0) {
      // No video: the last frame of each track is enough to start at once.
      this.#cache = this.#cache.filter((f) => f.track !== frame.track)
      this.#cache.push(frame)
      return
    }
    if (frame.track === keyTrack && frame.keyFrame) {
      this.#cache = []
      this.#cacheBytes = 0
    } else if (this.#cache.length === 0) {
      return // the cache starts at a key frame
    }
    if (this.#cacheBytes + size > this.#maxCacheBytes) {
      // An endless GOP: drop the cache until the next key frame rather than grow.
      this.#cache = []
      this.#cacheBytes = 0
      return
    }
    this.#cache.push(frame)
    this.#cacheBytes += size
  }

  /**
   * In-band VPS/SPS/PPS of a key frame (H.264, H.265) into the track's details; true when
   * they changed what viewers know (first SPS, new resolution).
   */
  #inBandParameterSets(track: LiveTrack, data: readonly Buffer[]): boolean {
    const d = track.details
    let changed = false
    const h265 = track.codec === 'H265'
    if (!h265 && track.codec !== 'H264') return false
    for (const nal of data) {
      if (nal.length === 0) continue
      const type = h265 ? (nal[0]! >> 1) & 0x3f : nal[0]! & 0x1f
      if (type === (h265 ? 33 : 7)) {
        if (d.sps !== undefined && d.sps.equals(nal)) continue
        const info = spsDetails(nal, h265 ? parseH265Sps : parseH264Sps)
        if (info === undefined) continue
        d.sps = Buffer.from(nal)
        Object.assign(d, info)
        changed = true
      } else if (type === (h265 ? 34 : 8)) {
        if (d.pps !== undefined && d.pps.equals(nal)) continue
        changed ||= d.pps !== undefined
        d.pps = Buffer.from(nal)
      } else if (h265 && type === 32) {
        if (d.vps !== undefined && d.vps.equals(nal)) continue
        changed ||= d.vps !== undefined
        d.vps = Buffer.from(nal)
      }
    }
    return changed
  }
}
