/**
 * The common part of the raw, single-track outputs (Annex B video, MJPEG, ADTS): one track
 * of the session written as a byte stream, the others listed as skipped. Subclasses turn one
 * admitted frame into the chunks to write; state, errors, counting and finalize live here.
 */
import { OutputError, StateError } from '../errors.js'
import type { ByteSink } from './byte-sink.js'
import type { OutputFormat, Recorder, RecorderDropCounts, RecorderFrame, SkippedTrack } from './types.js'
import { Timeline, checkFrame } from './timeline.js'
import type { TimelineTrackKind } from './timeline.js'

type RecorderState = 'open' | 'finalized' | 'failed'

export abstract class SingleTrackRecorder implements Recorder {
  framesWritten = 0
  readonly skippedTracks: readonly SkippedTrack[]
  protected readonly timeline: Timeline
  private state: RecorderState = 'open'
  private failure: unknown

  protected constructor(
    readonly format: OutputFormat,
    protected readonly sink: ByteSink,
    trackCount: number,
    /** Index of the recorded track. */
    protected readonly track: number,
    kind: 'video' | 'audio',
    skipped: SkippedTrack[],
  ) {
    this.skippedTracks = skipped
    const kinds: TimelineTrackKind[] = Array.from({ length: trackCount }, (_, i) => (i === track ? kind : 'off'))
    this.timeline = new Timeline(kinds, kind === 'video' ? track : -1)
    this.trackCount = trackCount
  }

  private readonly trackCount: number

  get bytesWritten(): number {
    return this.sink.bytesWritten
  }

  get dropped(): Readonly<RecorderDropCounts> {
    return this.timeline.dropped
  }

  /**
   * The chunks to write for this frame of the recorded track, or undefined to skip it (a
   * subclass counts why in `timeline.dropped`). Called only while open.
   */
  protected abstract chunksOf(frame: RecorderFrame): readonly Buffer[] | undefined

  /** The error message when finalize finds nothing was written. */
  protected abstract nothingRecorded(): string

  async write(frame: RecorderFrame): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'failed') throw this.failure
      throw new StateError({ action: 'write a frame', state: this.state, allowed: ['open'] })
    }
    const invalid = checkFrame(frame, this.trackCount)
    if (invalid) throw invalid
    if (frame.trackIndex !== this.track || frame.data.length === 0) {
      this.timeline.dropped.ignored++
      frame.release?.()
      return
    }
    const chunks = this.chunksOf(frame)
    if (chunks === undefined) {
      frame.release?.()
      return
    }
    this.framesWritten++
    try {
      // Headers and payload views go out without being joined (a file sink gathers several
      // frames into one writev: ByteSinkOptions.coalesce); the frame's buffers are released
      // once the last of them is written.
      await this.sink.writev(chunks, frame.release)
    } catch (err) {
      this.fail(err)
      throw this.failure
    }
  }

  async finalize(): Promise<void> {
    if (this.state === 'finalized') return
    const failed = this.state === 'failed'
    this.state = failed ? 'failed' : 'finalized'
    try {
      await this.sink.close()
    } catch (err) {
      this.fail(err)
    }
    if (this.state === 'failed') throw this.failure
    if (this.framesWritten === 0) {
      this.failure = new OutputError(`nothing was recorded to ${this.sink.name}: ${this.nothingRecorded()}`)
      this.state = 'failed'
      throw this.failure
    }
  }

  private fail(err: unknown): void {
    if (this.state === 'failed' && this.failure !== undefined) return
    this.state = 'failed'
    this.failure = err instanceof OutputError ? err : new OutputError(`writing ${this.format} failed: ${(err as Error).message}`, { cause: err })
  }
}
