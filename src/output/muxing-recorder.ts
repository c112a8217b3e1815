/**
 * The common part of the multi-track container writers (mediabunny's MP4/MOV/TS muxers, our
 * own fragmented MP4): frames written one at a time in call order, the state
 * ('open' → 'finalizing' → 'finalized', or 'failed' for good at the first error), and the
 * finalize that says why nothing was recorded. Subclasses mux one frame (writeNow) and write
 * what they hold at the end (finish).
 */
import { OutputError, RtspError, StateError } from '../errors.js'
import type { ByteSink } from './byte-sink.js'
import { checkFrame } from './timeline.js'
import type { Timeline } from './timeline.js'
import type { OutputFormat, Recorder, RecorderDropCounts, RecorderFrame, SkippedTrack } from './types.js'

type MuxingState = 'open' | 'finalizing' | 'finalized' | 'failed'

export abstract class MuxingRecorder implements Recorder {
  framesWritten = 0
  protected state: MuxingState = 'open'
  protected failure: unknown
  /** Why the last candidate first key frame could not start the recording. */
  protected startProblem: string | undefined
  private tail: Promise<void> = Promise.resolve()

  protected constructor(
    readonly format: OutputFormat,
    readonly skippedTracks: SkippedTrack[],
    protected readonly sink: ByteSink,
    protected readonly timeline: Timeline,
    private readonly trackCount: number,
    /** Who failed, in errors: 'the mp4 muxer'. */
    private readonly writerName: string,
  ) {}

  get bytesWritten(): number {
    return this.sink.bytesWritten
  }

  get dropped(): Readonly<RecorderDropCounts> {
    return this.timeline.dropped
  }

  write(frame: RecorderFrame): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'failed') return Promise.reject(this.failure)
      return Promise.reject(new StateError({ action: 'write a frame', state: this.state, allowed: ['open'] }))
    }
    const invalid = checkFrame(frame, this.trackCount)
    if (invalid) return Promise.reject(invalid)
    const p = this.tail.then(() => this.writeNow(frame))
    this.tail = p.catch(() => {})
    return p
  }

  /** Mux one frame (after those before it); count it in framesWritten when it went in. */
  protected abstract writeNow(frame: RecorderFrame): Promise<void>

  /** Write what is still held (the sink is closed afterwards); `end` as finalize's. */
  protected abstract finish(end?: number): Promise<void>

  /** Drop what the writer holds: nothing was recorded. */
  protected async discard(): Promise<void> {}

  /** Write what is held and close the sink: the file is complete. Throws OutputError when nothing was recorded. */
  async finalize(end?: number): Promise<void> {
    if (this.state === 'finalized') return
    if (this.state === 'finalizing') throw new StateError({ action: 'finalize', state: this.state, allowed: ['open', 'failed'] })
    const failed = this.state === 'failed'
    this.state = 'finalizing'
    await this.tail
    if (failed || this.framesWritten === 0) {
      await this.discard().catch(() => {})
      await this.sink.close().catch(() => {})
      this.state = 'failed'
      if (failed) throw this.failure
      const d = this.timeline.dropped
      this.failure = new OutputError(
        `nothing was recorded to ${this.sink.name}: ` +
          (this.timeline.started ? 'no frame could be written' : `no video key frame ${this.startProblem ? `could start the recording (${this.startProblem})` : 'arrived'}`) +
          ` (${d.beforeStart} frames dropped before the start)`,
      )
      throw this.failure
    }
    try {
      await this.finish(end)
      await this.sink.close()
    } catch (err) {
      this.fail(err)
      await this.sink.close().catch(() => {})
      throw this.failure
    }
    this.state = 'finalized'
  }

  /** Fail for good with `err` (wrapped in OutputError unless it is an RtspError); returns the failure. */
  protected fail(err: unknown): unknown {
    if (this.state !== 'failed') {
      this.failure = wrapOutputError(err, this.writerName)
      this.state = 'failed'
    }
    return this.failure
  }
}

/** An error of a writer as the recorder's: RtspErrors as they are, others in an OutputError. */
export function wrapOutputError(err: unknown, writerName: string): unknown {
  if (err instanceof RtspError) return err
  return new OutputError(`${writerName} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}
