/**
 * Motion JPEG as concatenated JPEG files (what `ffmpeg -f mjpeg` reads and writes): the first
 * JPEG video track, one complete frame after another, no timestamps. Every frame is a key
 * frame, so the recording starts at once.
 */
import { OutputError, StateError, UnsupportedError } from '../errors.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { OutputFormat, Recorder, RecorderDropCounts, RecorderFrame, RecorderOptions, SkippedTrack } from './recorder.js'
import { DROPPED, Timeline, checkFrame } from './timeline.js'
import type { TimelineTrackKind } from './timeline.js'

type RecorderState = 'open' | 'finalized' | 'failed'

export class MjpegRecorder implements Recorder {
  readonly format: OutputFormat = 'mjpeg'
  framesWritten = 0
  readonly skippedTracks: readonly SkippedTrack[]

  private state: RecorderState = 'open'
  private failure: unknown
  private readonly timeline: Timeline

  private constructor(
    private readonly sink: ByteSink,
    private readonly trackCount: number,
    private readonly video: number,
    skipped: SkippedTrack[],
  ) {
    this.skippedTracks = skipped
    const kinds: TimelineTrackKind[] = Array.from({ length: trackCount }, (_, i) => (i === video ? 'video' : 'off'))
    this.timeline = new Timeline(kinds, video)
  }

  static async create(opts: RecorderOptions): Promise<MjpegRecorder> {
    const video = opts.tracks.findIndex((t) => t.type === 'video' && t.codec.toUpperCase() === 'JPEG')
    if (video < 0) {
      throw new UnsupportedError('nothing to record to mjpeg: there is no JPEG video track; try --format mp4 or ts')
    }
    const skipped: SkippedTrack[] = []
    opts.tracks.forEach((t, i) => {
      if (i !== video) {
        skipped.push({ trackIndex: i, reason: `the mjpeg format holds one JPEG video track; ${t.type} track ${i} (${t.codec}) is not written` })
      }
    })
    const sink = await openByteSink(opts.sink)
    return new MjpegRecorder(sink, opts.tracks.length, video, skipped)
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten
  }

  get dropped(): Readonly<RecorderDropCounts> {
    return this.timeline.dropped
  }

  async write(frame: RecorderFrame): Promise<void> {
    if (this.state !== 'open') {
      if (this.state === 'failed') throw this.failure
      throw new StateError({ action: 'write a frame', state: this.state, allowed: ['open'] })
    }
    const invalid = checkFrame(frame, this.trackCount)
    if (invalid) throw invalid
    if (frame.trackIndex !== this.video || frame.data.length === 0) {
      this.timeline.dropped.ignored++
      return
    }
    if (this.timeline.admit(frame.trackIndex, frame.pts, true) === DROPPED) return
    this.framesWritten++
    try {
      await this.sink.writev(frame.data)
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
      this.failure = new OutputError(`nothing was recorded to ${this.sink.name}: no JPEG frame arrived`)
      this.state = 'failed'
      throw this.failure
    }
  }

  private fail(err: unknown): void {
    if (this.state === 'failed' && this.failure !== undefined) return
    this.state = 'failed'
    this.failure = err instanceof OutputError ? err : new OutputError(`writing mjpeg failed: ${(err as Error).message}`, { cause: err })
  }
}
