/**
 * Playing a file source's frames in real time by dts (or as fast as taken), looping with
 * timestamps that never go back: an async iterator (paceFrames) and a callback loop over a
 * replayed pass (playFrames), both on one Pacer.
 */
import type { FileSource, SourceFrame } from './types.js'

export interface PaceOptions {
  /** Start over at the end, timestamps continuing. */
  loop: boolean
  /** Release frames at their dts against the wall clock; false = as fast as the consumer takes them. */
  realtime: boolean
  signal?: AbortSignal
}

/**
 * Frames paced in real time by dts, with timestamps continuous across loops: each pass is
 * offset by max(duration, last dts + one frame interval) so nothing goes backwards.
 */
export async function* paceFrames(source: PaceSource, opts: PaceOptions): AsyncGenerator<PacedFrame> {
  const pacer = new Pacer(source, opts)
  try {
    for (;;) {
      const f = pacer.take()
      if (f !== undefined) {
        yield f
        continue
      }
      if (!(await pacer.advance())) return
    }
  } finally {
    pacer.stop()
  }
}

/**
 * The same frames as paceFrames, handed to `onFrame` as they fall due: a real-time pass
 * over a replayed file awaits nothing but one timer per wake-up (the frames due together go
 * out in one turn). Resolves at the end of the file (without `loop`) or on abort.
 */
export function playFrames(source: PaceSource, opts: PaceOptions, onFrame: (f: PacedFrame) => void): Promise<void> {
  return runFrames(source, opts, onFrame, false)
}

/**
 * playFrames with flow control: when `onFrame` returns a promise, the next frame waits for
 * it, and its rejection ends the loop with that error (a sender awaiting its socket's drain).
 * Without an async generator between the frames and the consumer: a replayed pass costs one
 * promise reaction per frame, not the three or four of `for await` over paceFrames (issue 14,
 * `rtspkit push`).
 */
export function pumpFrames(source: PaceSource, opts: PaceOptions, onFrame: (f: PacedFrame) => Promise<void> | undefined): Promise<void> {
  return runFrames(source, opts, onFrame, true)
}

function runFrames(source: PaceSource, opts: PaceOptions, onFrame: (f: PacedFrame) => Promise<void> | void, wait: boolean): Promise<void> {
  const pacer = new Pacer(source, opts)
  return new Promise<void>((resolve, reject) => {
    const end = (err?: unknown): void => {
      pacer.stop()
      if (err !== undefined) reject(err)
      else resolve()
    }
    const step = (): void => {
      try {
        for (let f = pacer.take(); f !== undefined; f = pacer.take()) {
          const pending = onFrame(f)
          if (wait && pending !== undefined) {
            pending.then(step, end)
            return
          }
        }
        if (pacer.stopped) return end()
        // A frame waits for its time: a bare timer calls back (abort calls back at once).
        if (pacer.wakeWhenDue(step)) return
        pacer.advance().then((more) => (more ? step() : end()), end)
      } catch (err) {
        end(err)
      }
    }
    step()
  })
}

export type PaceSource = Pick<FileSource, 'frames' | 'duration'> & Partial<Pick<FileSource, 'cachedFrames'>>
export type PacedFrame = SourceFrame & { loop: number }

/**
 * The pacing state shared by paceFrames and playFrames. take() returns the next frame when it
 * is due now (frames of a replayed pass are read synchronously); advance() does the waiting:
 * for the next frame of a demuxed pass, for its time, or for the next pass.
 */
class Pacer {
  private readonly signal: AbortSignal | undefined
  private offset = 0
  private epoch: number | undefined
  private loop = 0
  private pass: { sync: Iterator<SourceFrame> | undefined; async: AsyncIterator<SourceFrame> | undefined } | undefined
  private lastDts = Number.NEGATIVE_INFINITY
  private prevDts: number | undefined
  private step = 0
  private count = 0
  /** Read, offset, and waiting for its time. */
  private held: PacedFrame | undefined
  private done = false
  /** The timer armed last (cleared on stop and abort). */
  private timer: NodeJS.Timeout | undefined
  /** Timers made so far, by their whole-ms delay (below REUSED_DELAYS), to re-arm. */
  private timers: Array<NodeJS.Timeout | undefined> | undefined
  private wake: (() => void) | undefined
  /** The timer's callback, and abort's: wakes the waiter once. */
  private readonly fire = (): void => {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
  private readonly onAbort = (): void => {
    this.clearTimer()
    this.fire()
  }

  constructor(
    private readonly source: PaceSource,
    private readonly opts: PaceOptions,
  ) {
    this.signal = opts.signal
    this.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  take(): PacedFrame | undefined {
    if (this.done || this.signal?.aborted) return undefined
    let f = this.held
    if (f === undefined) {
      const it = this.pass?.sync
      if (it === undefined) return undefined
      const r = it.next()
      if (r.done === true) return undefined
      f = this.admit(r.value)
    }
    if (this.opts.realtime && this.dueIn(f) > 1) {
      this.held = f
      return undefined
    }
    this.held = undefined
    return f
  }

  /** Ended or aborted. */
  get stopped(): boolean {
    return this.done || this.signal?.aborted === true
  }

  /** A frame is held for its time: call `fn` then (or on abort). False when none is held. */
  wakeWhenDue(fn: () => void): boolean {
    if (this.held === undefined) return false
    this.wake = fn
    this.arm(wholeMs(this.dueIn(this.held)))
    return true
  }

  /** Wait for what take() needs next. False once there is nothing more (end, or abort). */
  async advance(): Promise<boolean> {
    if (this.done || this.signal?.aborted) return false
    if (this.held !== undefined) {
      await this.sleep(this.dueIn(this.held))
      return !this.signal?.aborted
    }
    if (this.pass === undefined) {
      this.startPass()
      return true
    }
    const it = this.pass.async
    if (it !== undefined) {
      const r = await it.next()
      if (this.signal?.aborted) return false
      if (r.done !== true) {
        this.held = this.admit(r.value)
        return true
      }
    }
    // The pass ended.
    this.pass = undefined
    if (!this.opts.loop || this.count === 0) {
      this.done = true
      return false
    }
    // Next pass starts one frame after this one ended (at least the declared duration).
    const frameStep = this.step > 0 ? this.step : 0.04
    this.offset = Math.max(this.offset + this.source.duration, this.lastDts + frameStep)
    this.loop++
    this.startPass()
    return true
  }

  stop(): void {
    this.done = true
    this.clearTimer()
    this.signal?.removeEventListener('abort', this.onAbort)
    const it = this.pass?.async
    this.pass = undefined
    // Ends a demuxing pass left mid-way (its cursors are closed).
    void it?.return?.()?.catch(() => {})
  }

  private startPass(): void {
    this.lastDts = Number.NEGATIVE_INFINITY
    this.prevDts = undefined
    this.step = 0
    this.count = 0
    const cached = this.source.cachedFrames?.()
    this.pass = cached !== undefined ? { sync: cached[Symbol.iterator](), async: undefined } : { sync: undefined, async: this.source.frames()[Symbol.asyncIterator]() }
  }

  private admit(f: SourceFrame): PacedFrame {
    if (this.prevDts !== undefined && f.dts > this.prevDts) this.step = this.step === 0 ? f.dts - this.prevDts : Math.min(this.step, f.dts - this.prevDts)
    this.prevDts = f.dts
    const out = f as PacedFrame
    out.pts = f.pts + this.offset
    out.dts = f.dts + this.offset
    out.loop = this.loop
    if (out.dts > this.lastDts) this.lastDts = out.dts
    this.count++
    return out
  }

  /** Milliseconds until frame `f` is due (the first frame read sets the clock). */
  private dueIn(f: PacedFrame): number {
    const now = performance.now()
    this.epoch ??= now - f.dts * 1000
    return this.epoch + f.dts * 1000 - now
  }

  /** One timer, no listener per wait: the abort listener added once wakes the sleeper. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
      this.arm(wholeMs(ms))
    })
  }

  /**
   * Call `fire` in `ms`. A timer made earlier with the same delay is re-armed
   * (Timeout#refresh) instead of a new one: frame after frame the delays are a frame
   * interval give or take a millisecond (39, 40, 41 at 25 fps), so a pass keeps two or three
   * Timeout objects instead of making and dropping one per frame (issue 14, server fan-out).
   * None of them is pending here (a wait is armed only after the previous one woke or was
   * cleared), so refresh() schedules it from now, as setTimeout would.
   */
  private arm(ms: number): void {
    if (!(ms >= 0 && ms < REUSED_DELAYS)) {
      this.timer = setTimeout(this.fire, ms)
      return
    }
    const timers = (this.timers ??= [])
    let timer = timers[ms]
    if (timer === undefined) timers[ms] = timer = setTimeout(this.fire, ms)
    else timer.refresh()
    this.timer = timer
  }

  private clearTimer(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    // A cleared Timeout is not re-armed by refresh(): nothing is armed from here on anyway.
    this.timers = undefined
  }
}

/** Delays (whole ms) whose timers a Pacer keeps to re-arm: frame intervals of 8 fps and up. */
const REUSED_DELAYS = 128

/**
 * A timer delay in whole milliseconds, rounded up (never early). Node keeps one timer list
 * per distinct delay: a fractional one made and dropped a list for every frame (issue 14,
 * server fan-out profile).
 */
function wholeMs(ms: number): number {
  return Math.ceil(ms)
}
