/**
 * One browser (or `.mp4`) viewer of a path as fragmented MP4: waits for a key frame, sends the
 * init segment, then one fragment per frame. A frame is muxed once per path (fragments are
 * shared by every viewer, see `Fmp4Context`). A viewer whose connection holds more than
 * `maxBufferedBytes` skips to the next key frame instead of queueing more; one that stays
 * behind for `stallCutMs` is cut. Neither slows the path or its other viewers.
 */
import { LiveFmp4Muxer } from '../output/live-fmp4/index.js'
import type { LiveFrame, LiveMedia, LiveTrack, LiveViewer } from './live-media.js'

/** The muxer of one path's current track set, and the fragments it made (one per frame). */
class Fmp4Context {
  readonly signature: string
  readonly muxer: LiveFmp4Muxer
  readonly init: Buffer
  readonly #fragments = new WeakMap<LiveFrame, Buffer | null>()

  constructor(tracks: readonly LiveTrack[]) {
    this.signature = signatureOf(tracks)
    this.muxer = new LiveFmp4Muxer(tracks)
    this.init = this.muxer.initSegment()
  }

  fragment(frame: LiveFrame): Buffer | undefined {
    let f = this.#fragments.get(frame)
    if (f === undefined) {
      f = this.muxer.fragment(frame) ?? null
      this.#fragments.set(frame, f)
    }
    return f ?? undefined
  }
}

const contexts = new WeakMap<LiveMedia, Fmp4Context>()

/** What changes the init segment: codecs and their configurations. */
function signatureOf(tracks: readonly LiveTrack[]): string {
  return tracks
    .map((t) => {
      const d = t.details
      return [t.codec, t.clockRate, t.channels ?? '', d.sps?.toString('base64') ?? '', d.pps?.toString('base64') ?? '', d.vps?.toString('base64') ?? '', d.audioSpecificConfig?.toString('hex') ?? ''].join(':')
    })
    .join('|')
}

/** The path's fMP4 context for its tracks now (shared while they stay the same). */
export function fmp4ContextFor(media: LiveMedia): Fmp4Context {
  const tracks = media.tracks()
  const sig = signatureOf(tracks)
  let ctx = contexts.get(media)
  if (ctx === undefined || ctx.signature !== sig) {
    ctx = new Fmp4Context(tracks)
    contexts.set(media, ctx)
  }
  return ctx
}

/** Where a viewer's bytes go (a WebSocket, an HTTP response). */
export interface Fmp4Output {
  /** A new init segment (first, or after the tracks changed); `ctx.muxer` says what it holds. */
  init(ctx: Fmp4Context): void
  fragment(data: Buffer): void
  /** Bytes written but not yet taken by the peer. */
  buffered(): number
  /** End the viewer (`reason` in words); `end` is also called when the path ends. */
  close(reason: string): void
  /** Can it take a second init segment? (MSE yes, a `.mp4` file no.) */
  readonly reinit: boolean
}

export interface Fmp4ViewerOptions {
  /** Bytes the connection may hold before the viewer skips to the next key frame. Default 2 MiB. */
  maxBufferedBytes?: number
  /** A viewer that keeps skipping this long is cut. Default 10 000 ms. */
  stallCutMs?: number
}

export type Fmp4ViewerState = 'waiting' | 'streaming' | 'skipping' | 'closed'

export class Fmp4Viewer implements LiveViewer {
  state: Fmp4ViewerState = 'waiting'
  /** Frames sent and skipped (slow connection). */
  sent = 0
  skipped = 0
  #ctx: Fmp4Context | undefined
  #stallSince = 0
  #unsubscribe: (() => void) | undefined
  readonly #keyTrack: () => number
  readonly #maxBuffered: number
  readonly #stallCutMs: number

  constructor(
    readonly media: LiveMedia,
    private readonly out: Fmp4Output,
    options: Fmp4ViewerOptions = {},
  ) {
    this.#maxBuffered = options.maxBufferedBytes ?? 2 * 1024 * 1024
    this.#stallCutMs = options.stallCutMs ?? 10_000
    // Start at a key frame of the video that goes in the MP4; a path without one starts at once.
    this.#keyTrack = () => media.tracks().findIndex((t) => t.type === 'video' && (t.codec === 'H264' || t.codec === 'H265'))
  }

  start(): void {
    this.#unsubscribe = this.media.subscribe(this)
  }

  stop(): void {
    this.state = 'closed'
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
  }

  frame(frame: LiveFrame): void {
    if (this.state === 'closed') return
    const keyTrack = this.#keyTrack()
    const startsHere = keyTrack < 0 || (frame.track === keyTrack && frame.keyFrame)
    if (this.state !== 'streaming') {
      if (!startsHere) {
        if (this.state === 'skipping') this.#checkStall()
        return
      }
      if (this.out.buffered() > this.#maxBuffered) {
        this.#checkStall()
        return
      }
      const ctx = fmp4ContextFor(this.media)
      if (this.#ctx !== ctx) {
        if (this.#ctx !== undefined && !this.out.reinit) return this.#close('the stream changed codec parameters; reconnect')
        if (ctx.muxer.trackCount === 0) return this.#close(`nothing here can go in MP4 (${ctx.muxer.skipped.map((s) => s.reason).join('; ')})`)
        this.#ctx = ctx
        this.out.init(ctx)
      }
      this.state = 'streaming'
      this.#stallSince = 0
    } else if (this.out.buffered() > this.#maxBuffered) {
      // Behind: drop to the next key frame rather than queue (the others never wait for us).
      this.state = 'skipping'
      this.#stallSince = performance.now()
      this.skipped++
      return
    }
    const data = this.#ctx!.fragment(frame)
    if (data === undefined) return
    this.out.fragment(data)
    this.sent++
  }

  tracksChanged(): void {
    if (this.state === 'closed' || this.#ctx === undefined) return
    // The next key frame carries the new parameters: start over from it with a new init segment.
    if (fmp4ContextFor(this.media) !== this.#ctx) this.state = 'waiting'
  }

  end(err?: Error): void {
    if (this.state === 'closed') return
    this.#close(err?.message ?? 'the stream ended')
  }

  #checkStall(): void {
    this.skipped++
    if (this.#stallSince === 0) this.#stallSince = performance.now()
    else if (performance.now() - this.#stallSince > this.#stallCutMs) this.#close(`the viewer fell behind for ${Math.round(this.#stallCutMs / 1000)} s`)
  }

  #close(reason: string): void {
    this.stop()
    this.out.close(reason)
  }
}
