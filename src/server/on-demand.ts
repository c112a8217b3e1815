/**
 * A pulled path opened on demand (MediaMTX's and go2rtc's sourceOnDemand): the first viewer of
 * any kind (an RTSP reader's DESCRIBE, a browser viewer through the HTTP side) opens the one
 * upstream, every later viewer shares it, and it closes `closeAfterMs` after the last leaves.
 * Viewers are counted on the server's side (the stream's readers, which include the HTTP
 * side's tap, and reader sessions set up but not yet playing), so every protocol counts alike.
 */
import { ClosedError } from '../errors.js'
import type { Stream, StreamPublisher } from './stream.js'

export interface OnDemandOptions {
  /** Close the upstream this long after the last viewer leaves. Default 10 000 ms. */
  closeAfterMs?: number
}

export class OnDemandPull {
  readonly path: string
  readonly closeAfterMs: number
  #publisher: StreamPublisher | undefined
  #opening: Promise<Stream> | undefined
  #timer: NodeJS.Timeout | undefined
  #idleSince: number | undefined
  #closed = false

  constructor(
    path: string,
    private readonly start: () => Promise<StreamPublisher>,
    /** Viewers of `stream` now (any protocol). */
    private readonly viewers: (stream: Stream) => number,
    options: OnDemandOptions = {},
  ) {
    this.path = path
    this.closeAfterMs = options.closeAfterMs ?? 10_000
  }

  /** The upstream is connected now. */
  get open(): boolean {
    return this.#publisher !== undefined && !this.#publisher.stream.ended
  }

  /** The live stream, connecting the upstream first when it is closed (one connection for concurrent callers). */
  stream(): Promise<Stream> {
    const p = this.#publisher
    if (p !== undefined && !p.stream.ended) return Promise.resolve(p.stream)
    this.#opening ??= this.start().then(
      (publisher) => {
        this.#opening = undefined
        if (this.#closed) {
          publisher.close('the server is shutting down')
          throw new ClosedError(`/${this.path} was closed while its source connected`)
        }
        this.#publisher = publisher
        // The caller becomes a viewer right after this: it has closeAfterMs to SETUP or tap.
        this.#idleSince = performance.now()
        this.#watch()
        return publisher.stream
      },
      (err: unknown) => {
        this.#opening = undefined
        throw err
      },
    )
    return this.#opening
  }

  /** Stop watching and close the upstream (the path is removed or the server closes). */
  close(reason: string): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#publisher?.close(reason)
    this.#publisher = undefined
  }

  /**
   * Readers come and go through several places (sessions, the HTTP side's tap), so the count is
   * sampled a few times per closeAfterMs rather than hooked into each of them.
   */
  #watch(): void {
    clearInterval(this.#timer)
    const every = Math.max(20, Math.min(1000, this.closeAfterMs / 4))
    this.#timer = setInterval(() => this.#check(), every)
    this.#timer.unref()
  }

  #check(): void {
    const p = this.#publisher
    if (p === undefined || p.stream.ended) {
      clearInterval(this.#timer)
      this.#timer = undefined
      this.#publisher = undefined
      return
    }
    if (this.viewers(p.stream) > 0) {
      this.#idleSince = undefined
      return
    }
    const now = performance.now()
    this.#idleSince ??= now
    if (now - this.#idleSince >= this.closeAfterMs) {
      clearInterval(this.#timer)
      this.#timer = undefined
      this.#publisher = undefined
      p.close('no one is watching')
    }
  }
}
