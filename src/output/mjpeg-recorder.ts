/**
 * Motion JPEG as concatenated JPEG files (what `ffmpeg -f mjpeg` reads and writes): the first
 * JPEG video track, one complete frame after another, no timestamps. Every frame is a key
 * frame, so the recording starts at once.
 */
import { UnsupportedError } from '../errors.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { RecorderFrame, RecorderOptions, SkippedTrack } from './types.js'
import { SingleTrackRecorder } from './single-track-recorder.js'
import { DROPPED } from './timeline.js'

export class MjpegRecorder extends SingleTrackRecorder {
  private constructor(sink: ByteSink, trackCount: number, video: number, skipped: SkippedTrack[]) {
    super('mjpeg', sink, trackCount, video, 'video', skipped)
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
    const sink = await openByteSink(opts.sink, { coalesce: true })
    return new MjpegRecorder(sink, opts.tracks.length, video, skipped)
  }

  protected chunksOf(frame: RecorderFrame): readonly Buffer[] | undefined {
    // Every JPEG is a key frame.
    return this.timeline.admit(frame.trackIndex, frame.pts, true) === DROPPED ? undefined : frame.data
  }

  protected nothingRecorded(): string {
    return 'no JPEG frame arrived'
  }
}
