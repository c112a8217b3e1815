import { EventEmitter } from 'node:events'
import type { ClientPullOptions, PlayRange, ReconnectOptions, SuperviseOptions } from './options.js'
import { FrameQueue } from './frame-queue.js'
import { publishSessionState } from '../diagnostics.js'
import type { PullSession } from './pull-session.js'
import type { Frame, Track } from './track.js'
import {
  AbortError,
  AuthError,
  InvalidArgumentError,
  ProtocolError,
  RtspError,
  SdpError,
  StatusError,
  UnsupportedError,
} from '../errors.js'

export type { ReconnectOptions } from './options.js'

/** How the supervisor opens each session (RtspClient.pull, bound). */
export type PullFunction = (url: string, options: ClientPullOptions) => Promise<PullSession>

export interface ReconnectEvent {
  /** 1 for the first retry after a drop, counting up while attempts fail. */
  attempt: number
  delayMs: number
  error: RtspError
}

/** A time without a playing session: from the drop to the next session (or to the end). */
export interface OutageEvent {
  /** Wall-clock ms (Date.now()) of the drop. */
  start: number
  /** Wall-clock ms when a session played again, or when the supervisor stopped. */
  end: number
  durationMs: number
  /** The error that ended the session. */
  error: RtspError
  /** True when a session plays again; false when the supervisor stopped during the outage. */
  recovered: boolean
}

export interface SupervisorEvents {
  /** A session is playing (the first one, and each after a reconnect). */
  session: [session: PullSession, reconnected: boolean]
  /** The session dropped (or an attempt failed); the next attempt comes after delayMs. */
  reconnecting: [event: ReconnectEvent]
  /** An outage ended: once per drop, with how long it lasted. */
  outage: [event: OutageEvent]
  close: [err: RtspError | undefined]
}

export interface SupervisorStats {
  state: SupervisorState
  /** Connection attempts made: the first and every retry, failed or not. */
  attempts: number
  /** Sessions re-established after a drop. */
  reconnects: number
  /** Outages so far (the current one included). */
  outages: number
  /** The error that ended the last session or attempt. */
  lastError: RtspError | undefined
  /** Time spent playing, over all sessions, in ms. */
  connectedMs: number
  /** Since when the current session plays (wall-clock ms), when one does. */
  connectedSince: number | undefined
  /** Frames handed to frames() / taken from sessions. */
  frames: number
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
  /** The PLAY Range of the next session: the caller's, then where the last one dropped (resumeAt). */
  private range: PlayRange | undefined
  /** ONVIF replay: the recording time (ms) of the last frame with one (Streaming §6.3). */
  private lastReplayMs: number | undefined
  /** The current session's latest frame pts (its own timeline, 0 at its PLAY). */
  private sessionPts = 0
  private offset = 0
  private lastPts = 0
  private framesSeen = 0
  private attempts = 0
  private outages = 0
  private connectedMs = 0
  private connectedSince: number | undefined
  private outage: { start: number; error: RtspError } | undefined
  private readonly delays: Required<ReconnectOptions>
  private wake: (() => void) | undefined
  private readonly ac = new AbortController()
  private readonly signal: AbortSignal | undefined
  private readonly onSignalAbort = () => void this.stop(new AbortError(this.signal?.reason))

  /** @hidden Applications use RtspClient.supervise(); the constructor stays in the .d.ts so the class type is not given a false no-argument one. */
  constructor(
    private readonly pull: PullFunction,
    private readonly url: string,
    private readonly options: SuperviseOptions = {},
  ) {
    super()
    this.delays = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 500,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000,
      maxAttempts: options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY,
    }
    this.range = options.range
    this.queue = new FrameQueue(options.frameQueueSize ?? 1024, true)
    // Leaving a for await over frames() stops the supervisor and its session.
    this.queue.onDetach = () => this.close()
    // The caller's signal covers the supervisor's whole life: frames() ends with an AbortError.
    this.signal = options.signal
    this.signal?.addEventListener('abort', this.onSignalAbort, { once: true })
  }

  /** Connect the first time (a failure here is reported, not retried), then keep the stream going. */
  async start(): Promise<PullSession> {
    this.attempts++
    let first: PullSession
    try {
      first = await this.pull(this.url, { ...this.options, signal: this.ac.signal })
    } catch (err) {
      this.unhook()
      // Aborted by the caller's signal: say so with its reason.
      if (this.signal?.aborted && err instanceof AbortError) throw new AbortError(this.signal.reason)
      throw err
    }
    if (this.isClosed()) {
      await first.close()
      throw new AbortError(this.signal?.reason)
    }
    this.tracks = first.tracks
    this.adopt(first, false)
    void this.run(first)
    return first
  }

  /** Frames of every session, on one continuous timeline. Leaving the loop stops the supervisor. */
  frames(): AsyncIterableIterator<Frame> {
    return this.queue
  }

  /** PullSession.release: hand a frame's buffers back for reuse once you are its sole consumer and done with it. */
  release(frame: Frame): void {
    if (this.session !== undefined) this.session.release(frame)
    else frame.data = []
  }

  /** Counters: state, attempts, reconnects, outages, last error, time connected, frames. */
  stats(): SupervisorStats {
    const now = Date.now()
    return {
      state: this.state,
      attempts: this.attempts,
      reconnects: this.reconnects,
      outages: this.outages,
      lastError: this.lastError,
      connectedMs: this.connectedMs + (this.connectedSince !== undefined ? now - this.connectedSince : 0),
      connectedSince: this.connectedSince,
      frames: this.framesSeen,
    }
  }

  private adopt(session: PullSession, reconnected: boolean): void {
    this.session = session
    this.state = 'playing'
    this.connectedSince = Date.now()
    this.endOutage(true)
    let waitKey = reconnected && this.tracks.some((t) => t.type === 'video')
    let base: number | undefined
    this.sessionPts = 0
    session.on('frame', (frame) => {
      // Where a replay resumes after a drop; also the frames skipped up to the key frame.
      if (frame.pts > this.sessionPts) this.sessionPts = frame.pts
      if (frame.replay !== undefined) this.lastReplayMs = frame.replay.time
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
        this.resumeAt(current)
        current = undefined
        attempt = 0
        this.lastError = err
        this.disconnected(err)
        if (isPermanent(err)) {
          this.finish(err)
          return
        }
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
      this.attempts++
      try {
        const next = await this.pull(this.url, { ...this.options, ...(this.range !== undefined ? { range: this.range } : {}), signal: this.ac.signal })
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

  /**
   * A session with a Range (a file's `npt=`, a recorder's `clock=`) dropped: the next one
   * starts where it was (RFC 2326 §12.29), not at the caller's start again. Where: the last
   * frame's ONVIF replay time, else the session's position from its PLAY reply's Range, else
   * the Range asked for moved on by the media received. A live stream (no Range) is unchanged.
   */
  private resumeAt(session: PullSession): void {
    const range = this.range
    if (range === undefined) return
    const asked = range.start
    let start: number | Date | undefined
    if (range.start instanceof Date || range.end instanceof Date) {
      const ms = this.lastReplayMs ?? session.clockPosition?.getTime() ?? (asked instanceof Date ? asked.getTime() + this.sessionPts * 1000 : undefined)
      if (ms !== undefined) start = new Date(ms)
    } else {
      start = session.position ?? (typeof asked === 'number' ? asked : 0) + this.sessionPts
    }
    if (start !== undefined) this.range = { ...range, start }
  }

  /** A method, not a field test, so that TypeScript re-reads the state after each await. */
  private isClosed(): boolean {
    return this.state === 'closed'
  }

  /** The playing session ended with `err`: an outage starts. */
  private disconnected(err: RtspError): void {
    if (this.connectedSince !== undefined) this.connectedMs += Date.now() - this.connectedSince
    this.connectedSince = undefined
    if (this.outage === undefined) {
      this.outages++
      this.outage = { start: Date.now(), error: err }
    }
  }

  /** A session plays again (or the supervisor stops): the outage, if any, is over. */
  private endOutage(recovered: boolean): void {
    const o = this.outage
    if (o === undefined) return
    this.outage = undefined
    const end = Date.now()
    this.emit('outage', { start: o.start, end, durationMs: end - o.start, error: o.error, recovered })
  }

  /** Stop listening to the caller's signal; time connected stops counting. */
  private unhook(): void {
    this.signal?.removeEventListener('abort', this.onSignalAbort)
    if (this.connectedSince !== undefined) this.connectedMs += Date.now() - this.connectedSince
    this.connectedSince = undefined
  }

  private finish(err: RtspError | undefined): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.unhook()
    this.endOutage(false)
    this.queue.end(err)
    this.emit('close', err)
  }

  /** Stop: close the current session (TEARDOWN) and end frames(). */
  async close(): Promise<void> {
    await this.stop(undefined)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** close(), with frames() ending in `err` (the AbortError of the caller's signal) when given. */
  private async stop(err: RtspError | undefined): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    // Wake a parked consumer at once; the TEARDOWN below takes a round trip.
    if (err !== undefined) this.queue.end(err)
    this.ac.abort()
    this.wake?.()
    const s = this.session
    this.session = undefined
    await s?.close()
    this.unhook()
    this.endOutage(false)
    this.queue.end()
    this.emit('close', err)
  }
}
