/**
 * The server's paths as browser viewers see them: one `LivePath` per served stream (made on
 * the first look, replaced when a new stream takes the path), and one per path the server pulls
 * on demand (`addPull(path, url, { onDemand: true })`: opened by the first viewer of any kind,
 * closed by the server a while after the last).
 */
import { ClosedError } from '../errors.js'
import type { Stream } from '../server/stream.js'
import { LivePath } from './live-path.js'
import type { LivePathOptions } from './live-path.js'

/** What the hub needs of the RTSP server (RtspServer has it). */
export interface LiveServerLike {
  liveStream(path: string): Stream | undefined
  paths(): Array<{ path: string; kind: string; codecs: string; readers: number }>
  /** Paths the server pulls on demand, and their stream (connected by the call when closed). */
  onDemandPaths?(): string[]
  openOnDemand?(path: string): Promise<Stream | undefined>
}

export class LiveHub {
  readonly #paths = new Map<string, LivePath>()

  constructor(
    private readonly server: LiveServerLike,
    private readonly options: LivePathOptions = {},
  ) {}

  /** The live media of `path`, or undefined when nothing is served there. */
  media(path: string): LivePath | undefined {
    const p = normalize(path)
    let lp = this.#paths.get(p)
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
