/**
 * Where recorded bytes go: a file we open (and close), or a stream we are lent (process.stdout,
 * a socket, a collector) and leave open. Writes are append-only and respect the stream's
 * backpressure: `write` resolves at once while the stream buffers below its highWaterMark and
 * waits for 'drain' otherwise.
 */
import { close as closeFd, open as openFd, writev as writevFd } from 'node:fs'
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

export interface ByteSinkOptions {
  /**
   * A file only: hold chunks and write them together, in one fs.writev, once COALESCE_BYTES
   * are waiting or COALESCE_MS after the first of them, whichever comes first (and at once on
   * close). Every writev is a round trip through libuv's thread pool (a worker woken, a
   * completion back on the main thread): one per picture was ~11 % of a pull's steady CPU
   * (bench/ingest.ts profile, issue 14). `write` then resolves while up to
   * COALESCE_HIGH_WATER_MARK bytes are accepted and not written, so a write error surfaces
   * on a later write or on close rather than on the write whose bytes failed.
   */
  coalesce?: boolean
}

export async function openByteSink(sink: string | NodeJS.WritableStream, opts: ByteSinkOptions = {}): Promise<ByteSink> {
  if (typeof sink === 'string') {
    // As fs.createWriteStream opens it: created or truncated, mode 0666 before the umask.
    const fd = await new Promise<number>((resolve, reject) => openFd(sink, 'w', 0o666, (err, fd) => (err ? reject(err) : resolve(fd)))).catch(
      (err: unknown) => {
        throw new OutputError(`cannot open ${sink} for writing: ${(err as Error).message}`, { cause: err })
      },
    )
    return opts.coalesce === true ? new FileByteSink(fd, sink, COALESCE_HIGH_WATER_MARK, COALESCE_BYTES, COALESCE_MS) : new FileByteSink(fd, sink, HIGH_WATER_MARK, 0, 0)
  }
  return new StreamByteSink(sink, 'the output stream', false)
}

/** Bytes accepted and not yet written above which `write` waits: fs.WriteStream's default highWaterMark. */
const HIGH_WATER_MARK = 16 * 1024
/** ByteSinkOptions.coalesce: bytes held before a writev (about 0.2 s at 84 Mbit/s, six 1080p pictures). */
const COALESCE_BYTES = 2 * 1024 * 1024
/** ByteSinkOptions.coalesce: longest a chunk is held (a 2 Mbit/s stream writes four times a second, not 25). */
const COALESCE_MS = 250
/**
 * ByteSinkOptions.coalesce: bytes accepted and not yet written above which `write` waits: the
 * hold size, so that the write that fills a hold waits for its writev. With 8 MiB an
 * unpaced pull (~16 Gbit/s into /dev/null) peaked at 115–210 MB RSS, with 2 MiB at 109–140
 * (frames wait in the session's bounded queue instead; bench/ingest.ts BENCH_UNPACED, issue 14).
 */
const COALESCE_HIGH_WATER_MARK = COALESCE_BYTES

/**
 * A file we opened, written with fs.writev on its descriptor: the bytes and their order are
 * fs.WriteStream's, without its Writable machinery (cork, a write request and a callback per
 * chunk, then _writev), which at 30 pictures a second ran cold and cost a fifth of a pull's
 * main thread (bench/ingest.ts profile, issue 14). Chunks that come while a writev is in
 * flight go out together in the next one; with `holdBytes` > 0 (ByteSinkOptions.coalesce)
 * chunks also wait, while nothing is in flight, for `holdBytes` of them or `holdMs`.
 * Backpressure as a stream's: `write` resolves at once below `highWaterMark`, else once
 * everything accepted is written.
 */
class FileByteSink implements ByteSink {
  bytesWritten = 0
  private failure: OutputError | undefined
  private closed = false
  private fdClosed = false
  /** Chunks accepted while a writev is in flight, the callbacks due once they are written, and their bytes. */
  private queue: Uint8Array[] = []
  private queueDone: Array<() => void> = []
  private queuedBytes = 0
  /** Bytes of the writev in flight (0: none). */
  private inFlight = 0
  /** Waiting for everything accepted to be written (backpressure, close). */
  private idleWaiters: Array<() => void> = []
  /**
   * Armed while chunks are held with nothing in flight (holdBytes > 0). Not unref'd: a
   * program that ends without close() still gets its last chunks written, as it would
   * have without the hold.
   */
  private holdTimer: NodeJS.Timeout | undefined
  private readonly onHoldTimer = (): void => {
    this.holdTimer = undefined
    if (this.inFlight === 0 && this.queue.length > 0) this.flush()
  }

  constructor(
    private readonly fd: number,
    readonly name: string,
    private readonly highWaterMark: number,
    /** Chunks wait, while nothing is in flight, until this many bytes are queued (0: never wait). */
    private readonly holdBytes: number,
    /** ... or this long after the first of them. */
    private readonly holdMs: number,
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    return this.writev([chunk])
  }

  writev(chunks: readonly Uint8Array[], written?: () => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new OutputError(`${this.name} is already closed`))
    let bytes = 0
    for (let i = 0; i < chunks.length; i++) bytes += chunks[i]!.byteLength
    this.bytesWritten += bytes
    for (let i = 0; i < chunks.length; i++) this.queue.push(chunks[i]!)
    if (written !== undefined) this.queueDone.push(written)
    this.queuedBytes += bytes
    if (this.inFlight === 0) this.flushOrHold()
    if (this.inFlight + this.queuedBytes < this.highWaterMark) return Promise.resolve()
    return this.untilIdle().then(() => {
      if (this.failure) throw this.failure
    })
  }

  /** Nothing in flight: write what is queued now, or hold it (holdBytes) until there is enough or the timer fires. */
  private flushOrHold(): void {
    if (this.queuedBytes < this.holdBytes && this.idleWaiters.length === 0 && !this.closed) {
      this.holdTimer ??= setTimeout(this.onHoldTimer, this.holdMs)
      return
    }
    this.flush()
  }

  /** Hand what is queued to one writev. */
  private flush(): void {
    if (this.holdTimer !== undefined) {
      clearTimeout(this.holdTimer)
      this.holdTimer = undefined
    }
    const chunks = this.queue
    const done = this.queueDone
    const bytes = this.queuedBytes
    this.queue = []
    this.queueDone = []
    this.queuedBytes = 0
    if (bytes === 0) {
      // Only empty chunks: nothing to write, their callbacks are due now.
      for (let i = 0; i < done.length; i++) done[i]!()
      this.settle()
      return
    }
    this.inFlight = bytes
    this.writeAll(chunks, done)
  }

  private writeAll(chunks: Uint8Array[], done: Array<() => void>): void {
    writevFd(this.fd, chunks, null, (err, n) => {
      if (err) {
        this.fail(err)
        this.inFlight = 0
        // As a destroyed stream calls them: every write's callback runs, failed or not.
        for (let i = 0; i < done.length; i++) done[i]!()
        const queued = this.queueDone
        this.queue = []
        this.queueDone = []
        this.queuedBytes = 0
        for (let i = 0; i < queued.length; i++) queued[i]!()
        this.settle()
        return
      }
      this.inFlight -= n
      if (this.inFlight > 0) {
        // A short write (a pipe, a full device): the rest, as fs.WriteStream's writevAll does.
        this.writeAll(rest(chunks, n), done)
        return
      }
      for (let i = 0; i < done.length; i++) done[i]!()
      if (this.queue.length > 0) this.flushOrHold()
      else this.settle()
    })
  }

  private untilIdle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve()
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    // Held chunks go out now: someone waits for them.
    if (this.inFlight === 0) this.flush()
    return idle
  }

  /** Nothing in flight or queued: wake who waits. */
  private settle(): void {
    const waiters = this.idleWaiters
    if (waiters.length === 0) return
    this.idleWaiters = []
    for (let i = 0; i < waiters.length; i++) waiters[i]!()
  }

  private fail(err: Error): void {
    this.failure ??= new OutputError(`writing to ${this.name} failed: ${err.message}`, { cause: err })
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      await this.untilIdle()
      if (!this.fdClosed) {
        this.fdClosed = true
        await new Promise<void>((resolve) =>
          closeFd(this.fd, (err) => {
            if (err) this.fail(err)
            resolve()
          }),
        )
      }
    }
    if (this.failure) throw this.failure
  }
}

/** The chunks after the first `n` bytes of `chunks` (views, not copies). */
function rest(chunks: readonly Uint8Array[], n: number): Uint8Array[] {
  let i = 0
  while (i < chunks.length && n >= chunks[i]!.byteLength) n -= chunks[i++]!.byteLength
  const out = chunks.slice(i)
  if (out.length > 0 && n > 0) out[0] = out[0]!.subarray(n)
  return out
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
