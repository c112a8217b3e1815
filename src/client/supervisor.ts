import { EventEmitter } from 'node:events'
import type { RtspClient, ClientPullOptions } from './client.js'
import { FrameQueue } from './frame-queue.js'
import { publishSessionState } from '../diagnostics.js'
import type { PullSession } from './pull-session.js'
import type { Frame, Track } from './track.js'
import {
  AuthError,
  InvalidArgumentError,
  ProtocolError,
  RtspError,
  SdpError,
  StatusError,
  UnsupportedError,
} from '../errors.js'

export interface ReconnectOptions {
  /** First wait after a drop. Default 500 ms. */
  initialDelayMs?: number
  /** Longest wait between attempts (the delay doubles up to this). Default 30 000 ms. */
  maxDelayMs?: number
  /** Give up after this many failed attempts in a row. Default: never. */
  maxAttempts?: number
}

export interface ReconnectEvent {
  /** 1 for the first retry after a drop, counting up while attempts fail. */
  attempt: number
  delayMs: number
  error: RtspError
}

export interface SupervisorEvents {
  /** A session is playing (the first one, and each after a reconnect). */
  session: [session: PullSession, reconnected: boolean]
  /** The session dropped (or an attempt failed); the next attempt comes after delayMs. */
  reconnecting: [event: ReconnectEvent]
  close: [err: RtspError | undefined]
}

export type SupervisorState = 'idle' | 'playing' | 'waiting' | 'closed'

/**
 * Errors that another attempt will not fix: wrong password, no such stream, nothing we can
 * play. Everything else (refused, reset, timeouts, 5xx) is worth a retry.
 */
function isPermanent(err: RtspError): boolean {
  if (err instanceof AuthError || err instanceof UnsupportedError || err instanceof SdpError || err instanceof InvalidArgumentError) return true
  if (err instanceof StatusError) return err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 454
  return false
}

/**
 * Keeps a pull alive: when the session drops it reconnects with exponential backoff and
 * jitter, and hands out one continuous stream of frames (pts keeps growing across
 * reconnects, each new session starting at a key frame), so a recording resumes in the
 * same file.
 */
export class PullSupervisor extends EventEmitter<SupervisorEvents> {
  /** Each change is published on rtspkit:client:session:state (waiting: with the error that ended the last pull). */
  get state(): SupervisorState {
    return this.stateValue
  }
  set state(to: SupervisorState) {
    publishSessionState(this, 'supervisor', this.url, this.stateValue, to, to === 'waiting' ? this.lastError?.message : undefined)
    this.stateValue = to
  }
  private stateValue: SupervisorState = 'idle'
  /** The session playing now (undefined while reconnecting). */
  session: PullSession | undefined
  /** Tracks of the first session; later sessions must offer the same codecs. */
  tracks: Track[] = []
  /** Reconnects so far. */
  reconnects = 0

  private readonly queue: FrameQueue
  private offset = 0
  private lastPts = 0
  private framesSeen = 0
  private readonly delays: Required<ReconnectOptions>
  private wake: (() => void) | undefined
  private readonly ac = new AbortController()

  constructor(
    private readonly client: RtspClient,
    private readonly url: string,
    private readonly options: ClientPullOptions & { reconnect?: ReconnectOptions } = {},
  ) {
    super()
    this.delays = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000,
      maxAttempts: options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY,
    }
    this.queue = new FrameQueue(options.frameQueueSize ?? 1024, true)
    options.signal?.addEventListener('abort', () => void this.close(), { once: true })
  }

  /** Connect the first time (a failure here is reported, not retried), then keep the stream going. */
  async start(): Promise<PullSession> {
    const first = await this.client.pull(this.url, { ...this.options, signal: this.ac.signal })
    this.tracks = first.tracks
    this.adopt(first, false)
    void this.run(first)
    return first
  }

  /** Frames of every session, on one continuous timeline. */
  frames(): AsyncIterableIterator<Frame> {
    return this.queue
  }

  private adopt(session: PullSession, reconnected: boolean): void {
    this.session = session
    this.state = 'playing'
    let waitKey = reconnected && this.tracks.some((t) => t.type === 'video')
    let base: number | undefined
    session.on('frame', (frame) => {
      if (waitKey) {
        // A decoder (and the recorder) resumes at a key frame.
        if (!(frame.keyFrame && frame.track.type === 'video')) return
        waitKey = false
      }
      if (base === undefined) {
        // Continue one nominal frame after the last pts we handed out.
        base = frame.pts
        if (reconnected) this.offset = this.lastPts + 1 / 30 - frame.pts
      }
      const pts = frame.pts + this.offset
      if (pts > this.lastPts) this.lastPts = pts
      this.framesSeen++
      this.queue.push({ ...frame, track: this.tracks[frame.track.index] ?? frame.track, pts })
    })
    this.emit('session', session, reconnected)
  }

  private async run(session: PullSession): Promise<void> {
    let current: PullSession | undefined = session
    let attempt = 0
    while (!this.isClosed()) {
      if (current !== undefined) {
        const err = await current.closed
        if (this.isClosed()) break
        if (err === undefined) {
          // Closed from outside this supervisor: nothing to resume.
          this.finish(undefined)
          return
        }
        current = undefined
        attempt = 0
        if (isPermanent(err)) {
          this.finish(err)
          return
        }
        this.lastError = err
      }
      attempt++
      if (attempt > this.delays.maxAttempts) {
        this.finish(this.lastError)
        return
      }
      // Exponential backoff with full jitter on the upper half (AWS "equal jitter").
      const cap = Math.min(this.delays.maxDelayMs, this.delays.initialDelayMs * 2 ** (attempt - 1))
      const delayMs = Math.round(cap / 2 + Math.random() * (cap / 2))
      this.state = 'waiting'
      this.session = undefined
      this.emit('reconnecting', { attempt, delayMs, error: this.lastError! })
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delayMs)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.wake = undefined
      if (this.isClosed()) break
      try {
        const next = await this.client.pull(this.url, { ...this.options, signal: this.ac.signal })
        if (this.isClosed()) {
          await next.close()
          break
        }
        const same =
          next.tracks.length === this.tracks.length && next.tracks.every((t, i) => t.codec === this.tracks[i]!.codec)
        if (!same) {
          await next.close()
          this.finish(new ProtocolError('the stream offers other tracks after reconnecting; stopping so as not to mix them in one recording'))
          return
        }
        this.reconnects++
        this.adopt(next, true)
        current = next
      } catch (err) {
        this.lastError = err instanceof RtspError ? err : new ProtocolError(String(err), { cause: err })
        if (isPermanent(this.lastError) && !(this.lastError instanceof StatusError && this.lastError.status >= 500)) {
          this.finish(this.lastError)
          return
        }
      }
    }
  }

  private lastError: RtspError | undefined

  /** A method, not a field test, so that TypeScript re-reads the state after each await. */
  private isClosed(): boolean {
    return this.state === 'closed'
  }

  private finish(err: RtspError | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.queue.end(err)
    this.emit('close', err)
  }

  /** Stop: close the current session (TEARDOWN) and end frames(). */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.ac.abort()
    this.wake?.()
    const s = this.session
    this.session = undefined
    await s?.close()
    this.queue.end()
    this.emit('close', undefined)
  }
}
