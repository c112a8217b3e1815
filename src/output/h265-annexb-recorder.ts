/**
 * Raw H.265 Annex B (ITU-T H.265 Annex B): the first H.265 video track as a byte stream with
 * 4-byte start codes, nothing else. Like the H.264 one it has no timestamps; every IRAP
 * picture gets the current VPS/SPS/PPS in front of it when it lacks them, so the stream can
 * be cut or joined at any key frame.
 */
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { OutputError, StateError, UnsupportedError } from '../errors.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { OutputFormat, Recorder, RecorderDropCounts, RecorderFrame, RecorderOptions, SkippedTrack } from './recorder.js'
import { DROPPED, Timeline, checkFrame } from './timeline.js'
import type { TimelineTrackKind } from './timeline.js'

const START_CODE = Buffer.from([0, 0, 0, 1])

type RecorderState = 'open' | 'finalized' | 'failed'

/** The last VPS, SPS and PPS among the NAL units of one access unit. */
export function findH265ParameterSets(nalus: readonly Buffer[]): { vps?: Buffer; sps?: Buffer; pps?: Buffer } {
  const found: { vps?: Buffer; sps?: Buffer; pps?: Buffer } = {}
  for (const n of nalus) {
    if (n.length < 2) continue
    const type = h265NalType(n[0]!)
    if (type === H265NalType.Vps) found.vps = n
    else if (type === H265NalType.Sps) found.sps = n
    else if (type === H265NalType.Pps) found.pps = n
  }
  return found
}

export class H265AnnexBRecorder implements Recorder {
  readonly format: OutputFormat = 'h265'
  framesWritten = 0
  readonly skippedTracks: readonly SkippedTrack[]

  private state: RecorderState = 'open'
  private failure: unknown
  /** Latest parameter sets: from the SDP, replaced by in-band ones as they arrive. */
  private vps: Buffer | undefined
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

  static async create(opts: RecorderOptions): Promise<H265AnnexBRecorder> {
    const video = opts.tracks.findIndex((t) => t.type === 'video' && t.codec.toUpperCase() === 'H265')
    if (video < 0) {
      throw new UnsupportedError('nothing to record to h265: there is no H.265 video track; try --format mp4 or ts')
    }
    const skipped: SkippedTrack[] = []
    opts.tracks.forEach((t, i) => {
      if (i !== video) {
        skipped.push({ trackIndex: i, reason: `the h265 format holds one H.265 video track; ${t.type} track ${i} (${t.codec}) is not written` })
      }
    })
    const sink = await openByteSink(opts.sink)
    return new H265AnnexBRecorder(sink, opts, video, skipped)
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
    const inBand = findH265ParameterSets(frame.data)
    if (!this.timeline.started) {
      // Read the SDP's parameter sets late: the session may have filled them in meanwhile.
      const details = this.opts.tracks[this.video]!.details
      this.vps ??= details.vps
      this.sps ??= details.sps
      this.pps ??= details.pps
      // A stream that starts without its parameter sets decodes nothing; wait for a key frame that has them.
      if (frame.keyFrame && ((inBand.vps ?? this.vps) === undefined || (inBand.sps ?? this.sps) === undefined || (inBand.pps ?? this.pps) === undefined)) {
        this.timeline.dropped.beforeStart++
        return
      }
    }
    if (this.timeline.admit(frame.trackIndex, frame.pts, frame.keyFrame) === DROPPED) return
    if (inBand.vps) this.vps = inBand.vps
    if (inBand.sps) this.sps = inBand.sps
    if (inBand.pps) this.pps = inBand.pps
    let nalus = frame.data
    if (frame.keyFrame && (!inBand.vps || !inBand.sps || !inBand.pps)) {
      // VPS, SPS, PPS go first, after an access unit delimiter if there is one (H.265 §7.4.2.4.4).
      const at = nalus[0] !== undefined && nalus[0].length > 0 && h265NalType(nalus[0][0]!) === H265NalType.Aud ? 1 : 0
      const rest = nalus.slice(at).filter((n) => n.length < 2 || !isSet(h265NalType(n[0]!)))
      nalus = [...nalus.slice(0, at), this.vps!, this.sps!, this.pps!, ...rest]
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
        `nothing was recorded to ${this.sink.name}: no H.265 key frame with VPS/SPS/PPS arrived (${this.timeline.dropped.beforeStart} frames dropped before the start)`,
      )
      this.state = 'failed'
      throw this.failure
    }
  }

  private fail(err: unknown): void {
    if (this.state === 'failed' && this.failure !== undefined) return
    this.state = 'failed'
    this.failure = err instanceof OutputError ? err : new OutputError(`writing h265 failed: ${(err as Error).message}`, { cause: err })
  }
}

function isSet(type: number): boolean {
  return type >= H265NalType.Vps && type <= H265NalType.Pps
}
