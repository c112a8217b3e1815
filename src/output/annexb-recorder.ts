/**
 * Raw H.264 Annex B (ITU-T H.264 Annex B): the first H.264 video track as a byte stream with
 * 4-byte start codes, nothing else. It has no timestamps, so players assume a frame rate;
 * it is for tools that want the bare bitstream. Every key frame gets the current SPS/PPS in
 * front of it when it does not carry them, so the stream can be cut or joined at any IDR.
 */
import { H264NalType, nalType } from '../codec/h264-nal.js'

const START_CODE = Buffer.from([0, 0, 0, 1])
import { OutputError, StateError, UnsupportedError } from '../errors.js'
import { findParameterSets, withNalHeader } from './avc-config.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { OutputFormat, Recorder, RecorderDropCounts, RecorderFrame, RecorderOptions, SkippedTrack } from './recorder.js'
import { DROPPED, Timeline, checkFrame } from './timeline.js'
import type { TimelineTrackKind } from './timeline.js'

type RecorderState = 'open' | 'finalized' | 'failed'

export class AnnexBRecorder implements Recorder {
  readonly format: OutputFormat = 'h264'
  framesWritten = 0
  readonly skippedTracks: readonly SkippedTrack[]

  private state: RecorderState = 'open'
  private failure: unknown
  /** Latest parameter sets: from the SDP, replaced by in-band ones as they arrive. */
  private sps: Buffer | undefined
  private pps: Buffer | undefined
  private readonly timeline: Timeline

  private constructor(
    private readonly sink: ByteSink,
    private readonly opts: RecorderOptions,
    private readonly video: number,
    skipped: SkippedTrack[],
  ) {
    this.skippedTracks = skipped
    const kinds: TimelineTrackKind[] = opts.tracks.map((_, i) => (i === video ? 'video' : 'off'))
    this.timeline = new Timeline(kinds, video)
  }

  static async create(opts: RecorderOptions): Promise<AnnexBRecorder> {
    const video = opts.tracks.findIndex((t) => t.type === 'video' && t.codec.toUpperCase() === 'H264')
    if (video < 0) {
      throw new UnsupportedError('nothing to record to h264: there is no H.264 video track; try --format mp4 or ts')
    }
    const skipped: SkippedTrack[] = []
    opts.tracks.forEach((t, i) => {
      if (i !== video) {
        skipped.push({ trackIndex: i, reason: `the h264 format holds one H.264 video track; ${t.type} track ${i} (${t.codec}) is not written` })
      }
    })
    const sink = await openByteSink(opts.sink)
    return new AnnexBRecorder(sink, opts, video, skipped)
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
    const invalid = checkFrame(frame, this.opts.tracks.length)
    if (invalid) throw invalid
    if (frame.trackIndex !== this.video || frame.data.length === 0) {
      this.timeline.dropped.ignored++
      return
    }
    const inBand = findParameterSets(frame.data)
    if (!this.timeline.started) {
      // Read the SDP's parameter sets late: the session may have filled them in meanwhile.
      const details = this.opts.tracks[this.video]!.details
      if (this.sps === undefined && details.sps !== undefined) this.sps = withNalHeader(details.sps, H264NalType.Sps)
      if (this.pps === undefined && details.pps !== undefined) this.pps = withNalHeader(details.pps, H264NalType.Pps)
      // A stream that starts without SPS/PPS decodes nothing; wait for a key frame that has them.
      if (frame.keyFrame && ((inBand.sps ?? this.sps) === undefined || (inBand.pps ?? this.pps) === undefined)) {
        this.timeline.dropped.beforeStart++
        return
      }
    }
    if (this.timeline.admit(frame.trackIndex, frame.pts, frame.keyFrame) === DROPPED) return
    if (inBand.sps) this.sps = inBand.sps
    if (inBand.pps) this.pps = inBand.pps
    let nalus = frame.data
    if (frame.keyFrame && (!inBand.sps || !inBand.pps)) {
      // SPS and PPS go first, after an access unit delimiter if there is one (H.264 §7.4.1.2.3).
      const at = nalus[0] !== undefined && nalus[0].length > 0 && nalType(nalus[0][0]!) === H264NalType.Aud ? 1 : 0
      nalus = [...nalus.slice(0, at), this.sps!, this.pps!, ...nalus.slice(at).filter((n) => n !== inBand.sps && n !== inBand.pps)]
    }
    this.framesWritten++
    try {
      // Start codes and NAL units go out as one writev: the picture is never copied.
      const chunks: Buffer[] = new Array(nalus.length * 2)
      for (let i = 0; i < nalus.length; i++) {
        chunks[2 * i] = START_CODE
        chunks[2 * i + 1] = nalus[i]!
      }
      await this.sink.writev(chunks)
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
      this.failure = new OutputError(
        `nothing was recorded to ${this.sink.name}: no video key frame with SPS/PPS arrived (${this.timeline.dropped.beforeStart} frames dropped before the start)`,
      )
      this.state = 'failed'
      throw this.failure
    }
  }

  private fail(err: unknown): void {
    if (this.state === 'failed' && this.failure !== undefined) return
    this.state = 'failed'
    this.failure = err instanceof OutputError ? err : new OutputError(`writing h264 failed: ${(err as Error).message}`, { cause: err })
  }
}
