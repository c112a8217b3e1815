/**
 * Raw Annex B video (ITU-T H.264 / H.265 Annex B): the first H.264 or H.265 video track as a
 * byte stream with 4-byte start codes, nothing else. It has no timestamps, so players assume
 * a frame rate; it is for tools that want the bare bitstream. Every key frame gets the
 * current parameter sets in front of it when it does not carry them, so the stream can be
 * cut or joined at any key frame.
 */
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { UnsupportedError } from '../errors.js'
import type { CodecDetails } from '../formats/types.js'
import { findParameterSets, withNalHeader } from './avc-config.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { RecorderFrame, RecorderOptions, SkippedTrack } from './types.js'
import { SingleTrackRecorder } from './single-track-recorder.js'
import { DROPPED } from './timeline.js'

const START_CODE = Buffer.from([0, 0, 0, 1])

type SetName = 'vps' | 'sps' | 'pps'
type ParameterSets = Partial<Record<SetName, Buffer>>

/** The last VPS, SPS and PPS among the NAL units of one access unit. */
export function findH265ParameterSets(nalus: readonly Buffer[]): ParameterSets {
  const found: ParameterSets = {}
  for (const n of nalus) {
    if (n.length < 2) continue
    const type = h265NalType(n[0]!)
    if (type === H265NalType.Vps) found.vps = n
    else if (type === H265NalType.Sps) found.sps = n
    else if (type === H265NalType.Pps) found.pps = n
  }
  return found
}

/** What differs between the H.264 and the H.265 byte stream. */
interface AnnexBCodec {
  format: 'h264' | 'h265'
  codec: 'H264' | 'H265'
  label: string
  /** Parameter sets in the order they go before a key frame. */
  sets: readonly SetName[]
  find(nalus: readonly Buffer[]): ParameterSets
  /** A parameter set from the SDP, with its NAL header byte. */
  fromDetails(details: CodecDetails, name: SetName): Buffer | undefined
  isAud(nal: Buffer): boolean
  /** Comment-worthy: where the AUD rule comes from. */
  spec: string
}

const CODECS: Record<'h264' | 'h265', AnnexBCodec> = {
  h264: {
    format: 'h264',
    codec: 'H264',
    label: 'H.264',
    sets: ['sps', 'pps'],
    find: findParameterSets,
    // sprop-parameter-sets carry the header byte, but some callers hand the bare RBSP.
    fromDetails: (d, name) =>
      name === 'sps' && d.sps ? withNalHeader(d.sps, H264NalType.Sps) : name === 'pps' && d.pps ? withNalHeader(d.pps, H264NalType.Pps) : undefined,
    isAud: (n) => n.length > 0 && nalType(n[0]!) === H264NalType.Aud,
    spec: 'H.264 §7.4.1.2.3',
  },
  h265: {
    format: 'h265',
    codec: 'H265',
    label: 'H.265',
    sets: ['vps', 'sps', 'pps'],
    find: findH265ParameterSets,
    fromDetails: (d, name) => d[name],
    isAud: (n) => n.length > 0 && h265NalType(n[0]!) === H265NalType.Aud,
    spec: 'H.265 §7.4.2.4.4',
  },
}

export class AnnexBRecorder extends SingleTrackRecorder {
  /** Latest parameter sets: from the SDP, replaced by in-band ones as they arrive. */
  private readonly sets: ParameterSets = {}

  private constructor(
    private readonly c: AnnexBCodec,
    sink: ByteSink,
    private readonly opts: RecorderOptions,
    video: number,
    skipped: SkippedTrack[],
  ) {
    super(c.format, sink, opts.tracks.length, video, 'video', skipped)
  }

  static async create(opts: RecorderOptions, format: 'h264' | 'h265' = 'h264'): Promise<AnnexBRecorder> {
    const c = CODECS[format]
    const video = opts.tracks.findIndex((t) => t.type === 'video' && t.codec.toUpperCase() === c.codec)
    if (video < 0) {
      throw new UnsupportedError(`nothing to record to ${format}: there is no ${c.label} video track; try --format mp4 or ts`)
    }
    const skipped: SkippedTrack[] = []
    opts.tracks.forEach((t, i) => {
      if (i !== video) {
        skipped.push({ trackIndex: i, reason: `the ${format} format holds one ${c.label} video track; ${t.type} track ${i} (${t.codec}) is not written` })
      }
    })
    const sink = await openByteSink(opts.sink, { coalesce: true })
    return new AnnexBRecorder(c, sink, opts, video, skipped)
  }

  protected chunksOf(frame: RecorderFrame): readonly Buffer[] | undefined {
    const c = this.c
    const inBand = c.find(frame.data)
    if (!this.timeline.started) {
      // Read the SDP's parameter sets late: the session may have filled them in meanwhile.
      const details = this.opts.tracks[this.track]!.details
      for (const name of c.sets) this.sets[name] ??= c.fromDetails(details, name)
      // A stream that starts without its parameter sets decodes nothing; wait for a key frame that has them.
      if (frame.keyFrame && c.sets.some((name) => (inBand[name] ?? this.sets[name]) === undefined)) {
        this.timeline.dropped.beforeStart++
        return undefined
      }
    }
    if (this.timeline.admit(frame.trackIndex, frame.pts, frame.keyFrame) === DROPPED) return undefined
    for (const name of c.sets) {
      const set = inBand[name]
      // Copied: the frame's buffers may be reused once written (RecorderFrame.release).
      if (set !== undefined && !this.sets[name]?.equals(set)) this.sets[name] = Buffer.from(set)
    }
    let nalus = frame.data
    if (frame.keyFrame && c.sets.some((name) => !inBand[name])) {
      // Parameter sets go first, after an access unit delimiter if there is one (see c.spec).
      const at = nalus[0] !== undefined && c.isAud(nalus[0]) ? 1 : 0
      const known = new Set<Buffer>(c.sets.map((name) => inBand[name]).filter((b): b is Buffer => b !== undefined))
      nalus = [...nalus.slice(0, at), ...c.sets.map((name) => this.sets[name]!), ...nalus.slice(at).filter((n) => !known.has(n))]
    }
    // Start codes and NAL units, written without joining: the picture is never copied.
    const chunks: Buffer[] = new Array(nalus.length * 2)
    for (let i = 0; i < nalus.length; i++) {
      chunks[2 * i] = START_CODE
      chunks[2 * i + 1] = nalus[i]!
    }
    return chunks
  }

  protected nothingRecorded(): string {
    const names = this.c.sets.map((n) => n.toUpperCase()).join('/')
    return `no ${this.c.label} key frame with ${names} arrived (${this.timeline.dropped.beforeStart} frames dropped before the start)`
  }
}
