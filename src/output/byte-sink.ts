/**
 * Where recorded bytes go: a file we open (and close), or a stream we are lent (process.stdout,
 * a socket, a collector) and leave open. Writes are append-only and respect the stream's
 * backpressure: `write` resolves at once while the stream buffers below its highWaterMark and
 * waits for 'drain' otherwise.
 */
import { createWriteStream } from 'node:fs'
import { OutputError } from '../errors.js'

export interface ByteSink {
  /** Resolves when the sink can take more; rejects with OutputError once the sink has failed. */
  write(chunk: Uint8Array): Promise<void>
  /**
   * Several chunks in one go (one writev for a file): no joining copy. `written` is called
   * once the stream is done with them (written, or failed).
   */
  writev(chunks: readonly Uint8Array[], written?: () => void): Promise<void>
  /** Wait until every write is done; a file is closed, a lent stream stays open. */
  close(): Promise<void>
  /** Bytes accepted so far. */
  readonly bytesWritten: number
  /** For messages: the path, or 'the output stream'. */
  readonly name: string
}

export async function openByteSink(sink: string | NodeJS.WritableStream): Promise<ByteSink> {
  if (typeof sink === 'string') {
    const stream = createWriteStream(sink)
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => {
        stream.off('error', reject)
        resolve()
      })
      stream.once('error', reject)
    }).catch((err: unknown) => {
      throw new OutputError(`cannot open ${sink} for writing: ${(err as Error).message}`, { cause: err })
    })
    return new StreamByteSink(stream, sink, true)
  }
  return new StreamByteSink(sink, 'the output stream', false)
}

class StreamByteSink implements ByteSink {
  bytesWritten = 0
  private failure: OutputError | undefined
  /** Writes whose callback has not run yet. */
  private pending = 0
  private onIdle: (() => void) | undefined
  private closed = false
  private readonly afterWrite = (err?: Error | null): void => {
    this.pending--
    if (err) this.fail(err)
    if (this.pending === 0 && this.onIdle) this.onIdle()
  }

  constructor(
    private readonly stream: NodeJS.WritableStream,
    readonly name: string,
    private readonly owned: boolean,
  ) {
    // Without a listener an 'error' (EPIPE on a closed pipe, ENOSPC) would crash the process.
    stream.on('error', this.onError)
  }

  private readonly onError = (err: Error): void => {
    this.fail(err)
  }

  private fail(err: Error): void {
    this.failure ??= new OutputError(`writing to ${this.name} failed: ${err.message}`, { cause: err })
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure
    if (this.closed) throw new OutputError(`${this.name} is already closed`)
    this.bytesWritten += chunk.byteLength
    this.pending++
    if (this.stream.write(chunk, this.afterWrite)) return
    await this.drain()
    if (this.failure) throw this.failure
  }

  async writev(chunks: readonly Uint8Array[], written?: () => void): Promise<void> {
    if (this.failure) throw this.failure
    if (this.closed) throw new OutputError(`${this.name} is already closed`)
    const s = this.stream as NodeJS.WritableStream & { cork?(): void; uncork?(): void }
    s.cork?.()
    let ok = true
    const last = chunks.length - 1
    for (let i = 0; i <= last; i++) {
      const chunk = chunks[i]!
      this.bytesWritten += chunk.byteLength
      this.pending++
      // A stream calls its write callbacks in order: the last chunk's means all are done.
      ok = this.stream.write(
        chunk,
        written === undefined || i !== last
          ? this.afterWrite
          : (err?: Error | null) => {
              this.afterWrite(err)
              written()
            },
      )
    }
    s.uncork?.()
    if (ok) return
    await this.drain()
    if (this.failure) throw this.failure
  }

  private drain(): Promise<void> {
    const s = this.stream as NodeJS.WritableStream & { destroyed?: boolean; writableNeedDrain?: boolean }
    if (s.destroyed || s.writableNeedDrain === false) return Promise.resolve()
    return new Promise((resolve) => {
      // 'close' without 'drain': the stream was destroyed; the failure (if any) is already recorded.
      const done = (): void => {
        s.off('drain', done)
        s.off('close', done)
        s.off('error', done)
        resolve()
      }
      s.on('drain', done)
      s.on('close', done)
      s.on('error', done)
    })
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      const s = this.stream as NodeJS.WritableStream & { destroyed?: boolean }
      // 'close' without the awaited event: the stream was destroyed; a failure is already recorded.
      if (this.pending > 0 && !s.destroyed) await untilEvent(s, 'close', (resolve) => (this.onIdle = resolve))
      if (this.owned && !s.destroyed) await untilEvent(s, 'close', () => s.end())
      this.stream.off('error', this.onError)
    }
    if (this.failure) throw this.failure
  }
}

/** Resolve on `event` or on whatever `start` arranges to call; the listener is removed either way. */
function untilEvent(s: NodeJS.WritableStream, event: string, start: (resolve: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.off(event, done)
      resolve()
    }
    s.on(event, done)
    start(done)
  })
}
