/**
 * The server's paths as browser viewers see them: one `LivePath` per served stream (made on
 * the first look, replaced when a new stream takes the path), plus cameras pulled on demand
 * (opened by the first viewer, closed a while after the last).
 */
import { ClosedError } from '../errors.js'
import type { PullSourceOptions } from '../server/pull-source.js'
import type { Stream, StreamPublisher } from '../server/stream.js'
import { LivePath } from './live-path.js'
import type { LivePathOptions } from './live-path.js'

/** What the hub needs of the RTSP server (RtspServer has it). */
export interface LiveServerLike {
  liveStream(path: string): Stream | undefined
  paths(): Array<{ path: string; kind: string; codecs: string; readers: number }>
  addPull(path: string, url: string, options?: PullSourceOptions): Promise<{ publisher: StreamPublisher; skipped: string[] }>
  /** Paths the server pulls on demand, and their stream (connected by the call when closed). */
  onDemandPaths?(): string[]
  openOnDemand?(path: string): Promise<Stream | undefined>
}

export class LiveHub {
  readonly #paths = new Map<string, LivePath>()
  readonly #onDemand = new Map<string, { url: string; options: PullSourceOptions }>()

  constructor(
    private readonly server: LiveServerLike,
    private readonly options: LivePathOptions = {},
  ) {}

  /**
   * Serve `url` (a camera) on `path`, pulled only while someone watches in a browser: the first
   * viewer opens it, the last one's leaving closes it after `lingerMs`.
   */
  addOnDemandPull(path: string, url: string, options: PullSourceOptions = {}): void {
    this.#onDemand.set(normalize(path), { url, options })
  }

  /** The live media of `path`, or undefined when nothing is served there. */
  media(path: string): LivePath | undefined {
    const p = normalize(path)
    let lp = this.#paths.get(p)
    const demand = this.#onDemand.get(p)
    if (demand !== undefined) {
      if (lp === undefined || lp.ended) {
        let publisher: StreamPublisher | undefined
        lp = new LivePath(
          p,
          {
            kind: 'on-demand',
            open: async () => {
              const r = await this.server.addPull(p, demand.url, demand.options)
              publisher = r.publisher
              return r.publisher.stream
            },
            close: async () => {
              publisher?.close('no one is watching')
              publisher = undefined
            },
          },
          this.options,
        )
        this.#paths.set(p, lp)
      }
      return lp
    }
    const openOnDemand = this.server.openOnDemand
    if (openOnDemand !== undefined && this.server.onDemandPaths?.().includes(p) === true) {
      // The server's own on-demand path: it closes the upstream itself once no viewer of any
      // kind is left (this path's tap counts as one), so closing here has nothing to do.
      if (lp === undefined || lp.ended) {
        lp = new LivePath(
          p,
          {
            kind: 'on-demand',
            open: async () => {
              const stream = await openOnDemand.call(this.server, p)
              if (stream === undefined) throw new ClosedError(`/${p} is no longer served`)
              return stream
            },
            close: async () => {},
          },
          this.options,
        )
        this.#paths.set(p, lp)
      }
      return lp
    }
    const stream = this.server.liveStream(p)
    if (stream === undefined || stream.ended) return undefined
    if (lp === undefined || lp.ended || lp.stream !== stream) {
      lp?.close()
      lp = new LivePath(p, { kind: 'stream', stream }, this.options)
      this.#paths.set(p, lp)
    }
    return lp
  }

  /** Every path a viewer may open: served streams and on-demand cameras. */
  pathNames(): string[] {
    const names = new Set(this.server.paths().map((p) => p.path))
    for (const p of this.#onDemand.keys()) names.add(p)
    for (const p of this.server.onDemandPaths?.() ?? []) names.add(p)
    return [...names].sort()
  }

  /** RTSP readers of a path (the hub's own taps left out). */
  rtspReaders(path: string): number {
    const info = this.server.paths().find((p) => p.path === normalize(path))
    const lp = this.#paths.get(normalize(path))
    const taps = lp?.tapped === true ? 1 : 0
    return Math.max(0, (info?.readers ?? 0) - taps)
  }

  close(): void {
    for (const lp of this.#paths.values()) lp.close()
    this.#paths.clear()
  }
}

function normalize(path: string): string {
  return path.replace(/^\/+|\/+$/g, '')
}
