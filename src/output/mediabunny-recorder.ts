/**
 * Fragmented MP4 and MPEG-TS through mediabunny's muxers. Both write monotonically, so the
 * bytes go straight to an append-only sink: a fragmented MP4 cut short (crash, kill -9) still
 * plays up to its last complete fragment, and either format can be piped to a player.
 *
 * H.264 goes in as AVCC samples with an avcC description built from the first SPS/PPS (from
 * the SDP, or in-band in the first key frame); in-band parameter sets stay in the samples so a
 * mid-stream change reaches the decoder. The TS muxer turns AVCC back into Annex B and puts
 * the avcC parameter sets before every key frame. H.265 goes the same way with an hvcC built
 * from VPS/SPS/PPS (hvcc.ts). AAC goes in raw with the
 * AudioSpecificConfig as description (the TS muxer adds ADTS headers); AAC from MP4A-LATM the
 * same, its config taken from the StreamMuxConfig. MOV is fragmented like MP4 and also takes
 * G.711 (ulaw/alaw), which mediabunny's MP4 and TS muxers refuse: such a track is skipped with
 * "use .mov" (or, alone, the recorder refuses). Opus goes in MP4/MOV with an OpusHead of
 * pre-skip 0 (RTP carries no encoder delay); mediabunny's TS muxer has no Opus. Which track
 * goes in how: track-plan.ts; the video decoder config: video-config.ts; the write queue,
 * state and finalize: muxing-recorder.ts.
 */
import {
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedVideoPacketSource,
  Mp4OutputFormat,
  MovOutputFormat,
  MpegTsOutputFormat,
  Output,
  StreamTarget,
} from '../util/mediabunny.js'
import type { StreamTargetChunk } from '../util/mediabunny.js'
import { joinAvcc } from '../codec/h264-nal.js'
import { InvalidArgumentError, OutputError, UnsupportedError } from '../errors.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import { MuxingRecorder, wrapOutputError } from './muxing-recorder.js'
import { DROPPED, Timeline } from './timeline.js'
import type { TimelineTrackKind } from './timeline.js'
import { planTrack, type AudioPlan } from './track-plan.js'
import type { OutputFormat, RecorderFrame, RecorderOptions, RecorderTrack, SkippedTrack } from './types.js'
import { audPredicate, videoDecoderConfig } from './video-config.js'

const DEFAULT_MAX_TRACK_LAG = 10
/** Used for a video track's last sample until two frames give a real frame interval. */
const DEFAULT_FRAME_DURATION = 1 / 25

interface VideoOut {
  kind: 'video'
  index: number
  track: RecorderTrack
  source: EncodedVideoPacketSource
  /** Decoder config to pass with the first packet; null once passed. */
  meta: EncodedVideoChunkMetadata | null | undefined
  lastPts: number
  frameDuration: number
}

interface AudioOut {
  kind: 'audio'
  index: number
  source: EncodedAudioPacketSource
  meta: EncodedAudioChunkMetadata | null
  frameDuration: number
  /** Seconds of one access unit when it varies (G.711 sample runs, Opus packets); else frameDuration. */
  durationOf?: (data: Buffer) => number | undefined
}

type TrackOut = VideoOut | AudioOut

export class MediabunnyRecorder extends MuxingRecorder {
  private constructor(
    format: OutputFormat,
    trackCount: number,
    private readonly outs: Array<TrackOut | undefined>,
    skipped: SkippedTrack[],
    private readonly output: Output,
    sink: ByteSink,
    timeline: Timeline,
    private readonly maxTrackLag: number,
    private readonly fragments: { written: number },
  ) {
    super(format, skipped, sink, timeline, trackCount, `the ${format} muxer`)
  }

  static async create(opts: RecorderOptions): Promise<MediabunnyRecorder> {
    const format = opts.format
    if (format !== 'mp4' && format !== 'ts' && format !== 'mov') throw new InvalidArgumentError(`MediabunnyRecorder writes mp4, mov or ts, not ${format}`)
    const skipped: SkippedTrack[] = []
    const plans: Array<{ kind: 'video' } | AudioPlan | undefined> = []
    opts.tracks.forEach((track, index) => {
      const plan = planTrack(track, format)
      if (typeof plan === 'string') {
        skipped.push({ trackIndex: index, reason: plan })
        plans.push(undefined)
      } else {
        plans.push(plan)
      }
    })
    if (plans.every((p) => p === undefined)) {
      const why = skipped.map((s) => `track ${s.trackIndex}: ${s.reason}`).join('; ')
      throw new UnsupportedError(`nothing to record to ${format}: ${why || 'no tracks'}`)
    }

    const sink = await openByteSink(opts.sink)
    let expectedPosition = 0
    const writable = new WritableStream<StreamTargetChunk>({
      write: async (chunk) => {
        // Both muxers write monotonically (fragmented MP4, TS); a seek would corrupt a pipe.
        if (chunk.position !== expectedPosition) {
          throw new OutputError(`the ${format} muxer seeked to ${chunk.position} (expected ${expectedPosition}); cannot write it to ${sink.name}`)
        }
        expectedPosition += chunk.data.byteLength
        await sink.write(chunk.data)
      },
    })
    const fragments = { written: 0 }
    const output = new Output({
      format:
        format === 'mp4'
          ? new Mp4OutputFormat({
              fastStart: 'fragmented',
              minimumFragmentDuration: 1,
              onMoof: () => void fragments.written++,
            })
          : format === 'mov'
            ? new MovOutputFormat({
                fastStart: 'fragmented',
                minimumFragmentDuration: 1,
                onMoof: () => void fragments.written++,
              })
            : new MpegTsOutputFormat(),
      // Not chunked: each fragment (MP4) or PES batch (TS) reaches the sink as soon as it is muxed.
      target: new StreamTarget(writable),
    })
    const outs: Array<TrackOut | undefined> = []
    const kinds: TimelineTrackKind[] = []
    let primaryVideo = -1
    plans.forEach((plan, index) => {
      const track = opts.tracks[index]!
      if (plan === undefined) {
        outs.push(undefined)
        kinds.push('off')
      } else if (plan.kind === 'video') {
        const source = new EncodedVideoPacketSource(track.codec.toUpperCase() === 'H265' ? 'hevc' : 'avc')
        // frameRate sets the MP4 timescale: the RTP clock (90 kHz) keeps timestamps exact.
        const clock = Number.isInteger(track.clockRate) && track.clockRate > 0 ? track.clockRate : 90000
        output.addVideoTrack(source, { frameRate: clock })
        outs.push({ kind: 'video', index, track, source, meta: undefined, lastPts: Number.NaN, frameDuration: DEFAULT_FRAME_DURATION })
        kinds.push('video')
        if (primaryVideo < 0) primaryVideo = index
      } else {
        const source = new EncodedAudioPacketSource(plan.codec)
        output.addAudioTrack(source)
        const out: AudioOut = { kind: 'audio', index, source, meta: { decoderConfig: plan.config }, frameDuration: plan.frameDuration }
        if (plan.durationOf) out.durationOf = plan.durationOf
        outs.push(out)
        kinds.push('audio')
      }
    })
    try {
      await output.start()
    } catch (err) {
      await sink.close().catch(() => {})
      throw wrapOutputError(err, `the ${format} muxer`)
    }
    return new MediabunnyRecorder(
      format,
      opts.tracks.length,
      outs,
      skipped,
      output,
      sink,
      new Timeline(kinds, primaryVideo),
      opts.maxTrackLag ?? DEFAULT_MAX_TRACK_LAG,
      fragments,
    )
  }

  protected async writeNow(frame: RecorderFrame): Promise<void> {
    if (this.state === 'failed') throw this.failure
    const out = this.outs[frame.trackIndex]
    if (out === undefined || !this.timeline.isEnabled(frame.trackIndex) || frame.data.length === 0) {
      this.timeline.dropped.ignored++
      return
    }
    if (out.kind === 'video' && out.meta === undefined) {
      // Not configured yet: only a key frame with parameter sets can start this track.
      if (!frame.keyFrame || !this.timeline.wouldStartWith(frame.trackIndex, true)) {
        this.timeline.dropped.beforeStart++
        return
      }
      const meta = videoDecoderConfig(out.index, out.track, frame)
      if (typeof meta === 'string') {
        this.startProblem = meta
        this.timeline.dropped.beforeStart++
        return
      }
      out.meta = meta
    }
    const pts = this.timeline.admit(frame.trackIndex, frame.pts, frame.keyFrame)
    if (pts === DROPPED) return
    try {
      if (out.kind === 'video') await this.addVideo(out, frame, pts)
      else await this.addAudio(out, frame, pts)
    } catch (err) {
      throw this.fail(err)
    }
    this.framesWritten++
    this.endLaggingTracks()
    if (this.fragments.written !== this.fragmentsTrimmed) this.trimFragmentIndex()
  }

  private fragmentsTrimmed = 0
  private readonly chunksTrimmed = new WeakMap<object, number>()

  /**
   * mediabunny 1.61's fragmented MP4 muxer keeps every written sample's metadata (~140 bytes)
   * until finalize, though its mfra needs only the first sample of each fragment: about 40 MB
   * per hour of 25 fps video + AAC. Drop the rest once a fragment is out. Internal fields, so
   * every step checks their shape and does nothing if a mediabunny release changed them.
   */
  private trimFragmentIndex(): void {
    this.fragmentsTrimmed = this.fragments.written
    const muxer = (this.output as unknown as { _muxer?: { trackDatas?: unknown } })._muxer
    const trackDatas = muxer?.trackDatas
    if (!Array.isArray(trackDatas)) return
    for (const td of trackDatas as Array<{ finalizedChunks?: unknown }>) {
      const chunks = td?.finalizedChunks
      if (!Array.isArray(chunks)) continue
      for (let i = this.chunksTrimmed.get(td) ?? 0; i < chunks.length; i++) {
        const samples = (chunks[i] as { samples?: unknown } | undefined)?.samples
        if (Array.isArray(samples) && samples.length > 1) samples.length = 1
      }
      this.chunksTrimmed.set(td, chunks.length)
    }
  }

  private async addVideo(out: VideoOut, frame: RecorderFrame, pts: number): Promise<void> {
    if (!Number.isNaN(out.lastPts) && pts > out.lastPts) out.frameDuration = pts - out.lastPts
    out.lastPts = pts
    // AUDs are dropped: MP4 has no use for them and the TS muxer writes its own.
    let nalus = frame.data
    const isAud = audPredicate(out.track.codec)
    if (nalus.some(isAud)) nalus = nalus.filter((n) => !isAud(n))
    const packet = new EncodedPacket(joinAvcc(nalus), frame.keyFrame ? 'key' : 'delta', pts, out.frameDuration)
    const meta = out.meta
    out.meta = null
    await out.source.add(packet, meta ?? undefined)
  }

  private async addAudio(out: AudioOut, frame: RecorderFrame, pts: number): Promise<void> {
    const data = frame.data.length === 1 ? frame.data[0]! : Buffer.concat(frame.data)
    const packet = new EncodedPacket(data, 'key', pts, out.durationOf?.(data) ?? out.frameDuration)
    const meta = out.meta
    out.meta = null
    await out.source.add(packet, meta ?? undefined)
  }

  /**
   * End tracks that fell more than maxTrackLag behind: the muxers interleave by time and would
   * otherwise hold every other track in memory waiting for them.
   */
  private endLaggingTracks(): void {
    const newest = this.timeline.newest
    const origin = this.timeline.origin!
    if (newest - origin <= this.maxTrackLag) return
    for (const out of this.outs) {
      if (out === undefined || !this.timeline.isEnabled(out.index)) continue
      const last = this.timeline.lastPts(out.index)
      const since = Number.isNaN(last) ? origin : last
      if (newest - since > this.maxTrackLag) {
        this.timeline.disable(out.index)
        out.source.close()
        // close() runs the muxer in a promise nobody awaits; a sink failure in it resurfaces on
        // the next write or in finalize, so keep it from being an unhandled rejection.
        ;(out.source as unknown as { _closingPromise?: Promise<void> })._closingPromise?.catch(() => {})
        this.skippedTracks.push({
          trackIndex: out.index,
          reason: Number.isNaN(last)
            ? `no ${out.kind} frames in the first ${this.maxTrackLag} s; ended so the other tracks are not held back`
            : `${out.kind} stopped for more than ${this.maxTrackLag} s; ended so the other tracks are not held back`,
        })
      }
    }
  }

  protected override async finish(): Promise<void> {
    await this.output.finalize()
  }

  protected override async discard(): Promise<void> {
    await this.output.cancel()
  }
}

