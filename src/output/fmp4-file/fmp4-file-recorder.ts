/**
 * Fragmented MP4 written by rtspkit itself, flushed at least every `flushInterval` seconds
 * and at every key frame of the first video track, whatever the GOP: a camera with a 10 s
 * GOP killed (kill -9, power loss) loses at most about a second, not a GOP. (mediabunny's
 * muxer starts a fragment only at a key frame.) The init segment comes from live-fmp4
 * (ftyp + moov with mvex); fragments carry many samples each (movie-fragment.ts), with
 * decode times and composition offsets derived for B-frames (decode-times.ts).
 *
 * A sample waits until the next sample of its track gives its duration (video: and until
 * its decode time is known, a few pictures with B-frames), so a flush writes every sample
 * but the newest of each track. Bytes go to an append-only sink: the file is playable up to
 * its last complete fragment at any moment (record/fmp4-repair.ts trims a torn tail).
 *
 * Tracks: H.264 (avcC) and H.265 (hvcC) from the SDP's or the first key frame's parameter
 * sets (in-band ones stay in the samples, so a mid-stream change reaches the decoder), AAC
 * and MP4A-LATM (esds), Opus (dOps, pre-skip 0), G.711 as FLAC (lossless, see
 * live-fmp4/flac.ts: the MP4 way to carry it that players accept).
 */
import { InvalidArgumentError, UnsupportedError } from '../../errors.js'
import { openByteSink } from '../byte-sink.js'
import type { ByteSink } from '../byte-sink.js'
import { g711Samples, g711ToFlacFrame } from '../live-fmp4/flac.js'
import { initSegment } from '../live-fmp4/init.js'
import { MuxingRecorder } from '../muxing-recorder.js'
import { DROPPED, Timeline } from '../timeline.js'
import type { TimelineTrackKind } from '../timeline.js'
import type { RecorderFrame, RecorderOptions, SkippedTrack } from '../types.js'
import { audPredicate, videoConfigRecord } from '../video-config.js'
import { movieFragment } from './movie-fragment.js'
import type { FragmentSampleOut, TrackFragment } from './movie-fragment.js'
import { planTrack } from './tracks.js'
import type { TrackState } from './tracks.js'

export interface Fmp4FileRecorderOptions extends Omit<RecorderOptions, 'format'> {
  /** Write a fragment at least this often (seconds of media). Default 0.5. */
  flushInterval?: number
}

export class Fmp4FileRecorder extends MuxingRecorder {
  /** Fragments written. */
  fragmentsWritten = 0

  private sequence = 0
  private lastFlushPts = 0
  private started = false
  /** The init segment until it goes out with the first fragment (a file never holds a header alone). */
  private init: Buffer | undefined

  private constructor(
    private readonly tracks: Array<TrackState | undefined>,
    skipped: SkippedTrack[],
    sink: ByteSink,
    timeline: Timeline,
    private readonly primaryVideo: number,
    private readonly flushInterval: number,
  ) {
    super('mp4', skipped, sink, timeline, tracks.length, 'the mp4 writer')
  }

  static async create(opts: Fmp4FileRecorderOptions): Promise<Fmp4FileRecorder> {
    const flushInterval = opts.flushInterval ?? 0.5
    if (!(flushInterval > 0)) throw new InvalidArgumentError(`flushInterval must be a positive number of seconds, not ${flushInterval}`)
    const skipped: SkippedTrack[] = []
    const states: Array<TrackState | undefined> = opts.tracks.map((t, index) => {
      const s = planTrack(t, index)
      if (typeof s === 'string') skipped.push({ trackIndex: index, reason: s })
      return typeof s === 'string' ? undefined : s
    })
    if (states.every((s) => s === undefined)) {
      throw new UnsupportedError(`nothing to record to mp4: ${skipped.map((s) => `track ${s.trackIndex}: ${s.reason}`).join('; ') || 'no tracks'}`)
    }
    const primaryVideo = states.findIndex((s) => s?.kind === 'video')
    const kinds: TimelineTrackKind[] = states.map((s) => s?.kind ?? 'off')
    const sink = await openByteSink(opts.sink)
    return new Fmp4FileRecorder(states, skipped, sink, new Timeline(kinds, primaryVideo), primaryVideo, flushInterval)
  }

  protected async writeNow(frame: RecorderFrame): Promise<void> {
    if (this.state === 'failed') throw this.failure
    const st = this.tracks[frame.trackIndex]
    if (st === undefined || !this.timeline.isEnabled(frame.trackIndex) || frame.data.length === 0) {
      this.timeline.dropped.ignored++
      return
    }
    if (!this.started) {
      if (!this.timeline.wouldStartWith(frame.trackIndex, frame.keyFrame)) {
        this.timeline.dropped.beforeStart++
        return
      }
      // The recording starts here: configure the video tracks, then the init segment.
      if (st.kind === 'video' && !this.configureVideo(st, frame.data)) {
        this.timeline.dropped.beforeStart++
        return
      }
      for (const other of this.tracks) {
        if (other === undefined || other === st || other.kind !== 'video' || this.configureVideo(other, [])) continue
        this.tracks[other.index] = undefined
        this.timeline.disable(other.index)
        this.skippedTracks.push({ trackIndex: other.index, reason: `${other.codec} without parameter sets in the SDP (only the first video track may bring them in-band)` })
      }
      this.renumber()
      this.init = initSegment(this.tracks.flatMap((t) => (t?.mp4 ? [t.mp4] : [])))
    }
    const pts = this.timeline.admit(frame.trackIndex, frame.pts, frame.keyFrame)
    if (pts === DROPPED) return
    if (!this.started) {
      this.started = true
      this.lastFlushPts = pts
    }
    this.framesWritten++
    const ticks = Math.round(pts * st.timescale)
    if (st.kind === 'video') this.pushVideo(st, ticks, frame)
    else this.pushAudio(st, ticks, frame)
    const cut = frame.trackIndex === this.primaryVideo && frame.keyFrame
    if (cut || pts - this.lastFlushPts >= this.flushInterval) {
      this.lastFlushPts = pts
      const fragment = this.fragment(undefined)
      if (fragment !== undefined) await this.send(fragment)
    }
  }

  private pushVideo(st: TrackState, ticks: number, frame: RecorderFrame): void {
    const dt = st.decodeTimes!
    // A key frame closes the GOP: every picture before it has its decode time.
    if (frame.keyFrame) this.assign(st, dt.drain())
    const aud = audPredicate(st.codec)
    const data = frame.data.some(aud) ? frame.data.filter((n) => !aud(n)) : frame.data
    st.queue.push({ dts: undefined, pts: ticks, keyFrame: frame.keyFrame, data })
    const n = dt.push(ticks, frame.keyFrame)
    if (frame.keyFrame) this.assign(st, dt.drain())
    else for (let i = 0; i < n; i++) st.queue[st.assigned++]!.dts = dt.take()
  }

  private pushAudio(st: TrackState, ticks: number, frame: RecorderFrame): void {
    let data: readonly Uint8Array[] = frame.data
    if (st.law !== undefined) {
      const payload = frame.data.length === 1 ? frame.data[0]! : Buffer.concat(frame.data)
      data = [g711ToFlacFrame({ payload, law: st.law, channels: st.channels, sampleRate: st.timescale, sampleNumber: ticks })]
      st.lastDuration = g711Samples(payload.length, st.channels)
    }
    st.queue.push({ dts: ticks, pts: ticks, keyFrame: true, data })
    st.assigned++
  }

  private assign(st: TrackState, dts: readonly number[]): void {
    for (const d of dts) st.queue[st.assigned++]!.dts = d
  }

  /**
   * A fragment of every sample whose duration is known (all of them at the end, the last
   * reaching `endTicks` per track when given), or undefined when there is none.
   */
  private fragment(end: number | undefined): Buffer | undefined {
    const trafs: TrackFragment[] = []
    for (const st of this.tracks) {
      if (st?.mp4 === undefined) continue
      if (end !== undefined && st.decodeTimes !== undefined) this.assign(st, st.decodeTimes.drain())
      const count = end !== undefined ? st.assigned : st.assigned - 1
      if (count <= 0) continue
      const samples: FragmentSampleOut[] = []
      for (let i = 0; i < count; i++) {
        const s = st.queue[i]!
        const next = st.queue[i + 1]
        let duration: number
        if (next?.dts !== undefined) {
          duration = next.dts - s.dts!
          if (st.kind === 'video') st.lastDuration = duration
        } else if (st.kind === 'video') {
          const endTicks = Number.isFinite(end) ? Math.round((end! - this.timeline.origin!) * st.timescale) : Number.NaN
          duration = endTicks > s.dts! ? endTicks - s.dts! : st.lastDuration
        } else {
          duration = st.durationOf?.(s.data[0]!) ?? st.lastDuration
        }
        samples.push({ duration, compositionOffset: s.pts - s.dts!, keyFrame: s.keyFrame, data: s.data })
      }
      trafs.push({ trackId: st.mp4.id, baseDecodeTime: st.queue[0]!.dts!, lengthPrefixed: st.kind === 'video', samples })
      st.queue.splice(0, count)
      st.assigned -= count
    }
    if (trafs.length === 0) return undefined
    this.fragmentsWritten++
    return movieFragment(++this.sequence, trafs)
  }

  private async send(fragment: Buffer): Promise<void> {
    const init = this.init
    this.init = undefined
    try {
      if (init === undefined) await this.sink.write(fragment)
      else await this.sink.writev([init, fragment])
    } catch (err) {
      throw this.fail(err)
    }
  }

  /** Configure a video track from in-band parameter sets (`nalus`) or the SDP's; false when neither works. */
  private configureVideo(st: TrackState, nalus: readonly Buffer[]): boolean {
    if (st.mp4 !== undefined) return true
    const c = videoConfigRecord(st.index, { codec: st.codec, details: st.details }, nalus)
    if (typeof c === 'string') {
      this.startProblem = c
      return false
    }
    // id 0: numbered by renumber() before the init segment.
    st.mp4 = { codec: c.codec, id: 0, timescale: st.timescale, width: c.info.width, height: c.info.height, config: c.record }
    return true
  }

  /** track_IDs 1, 2, ... in the source's track order, over the tracks carried. */
  private renumber(): void {
    let id = 1
    for (const t of this.tracks) if (t?.mp4 !== undefined) t.mp4 = { ...t.mp4, id: id++ }
  }

  /**
   * Write what is held (finalize then closes the file). `end` (input pts, seconds) is where
   * the recording ends, e.g. the key frame that opens the next segment: the last video
   * sample lasts until then, so segments tile exactly.
   */
  protected override async finish(end?: number): Promise<void> {
    const last = this.fragment(end ?? Number.NaN)
    if (last !== undefined) await this.send(last)
  }
}
