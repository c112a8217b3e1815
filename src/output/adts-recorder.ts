/**
 * Raw AAC in ADTS (ISO/IEC 13818-7 §6.2 / 14496-3 §1.A.2): the first AAC track (mpeg4-generic or
 * MP4A-LATM) as a stream of frames, each behind a 7-byte header that repeats profile, sample
 * rate and channels, so the file plays from any frame and can be piped. No timestamps: a
 * gap in the stream is a gap in time that players do not see.
 *
 *   syncword 0xfff | ID 0 | layer 00 | protection_absent 1 | profile (2) | sf index (4) | private 0 |
 *   channel config (3) | orig 0 | home 0 | copyright 00 | frame_length (13) | fullness 0x7ff | blocks 0
 */
import { AAC_SAMPLE_RATES } from '../codec/aac-config.js'
import { UnsupportedError } from '../errors.js'
import { trackAudioSpecificConfig } from './aac-track.js'
import { openByteSink } from './byte-sink.js'
import type { ByteSink } from './byte-sink.js'
import type { RecorderFrame, RecorderOptions, RecorderTrack, SkippedTrack } from './types.js'
import { SingleTrackRecorder } from './single-track-recorder.js'
import { DROPPED } from './timeline.js'

const HEADER_SIZE = 7
/** frame_length is 13 bits and counts the header. */
const MAX_FRAME = (1 << 13) - 1 - HEADER_SIZE

/** The fixed part of the header for one track (bytes 0-3 without frame_length), or why there is none. */
export function adtsHeaderTemplate(track: RecorderTrack): Buffer | string {
  const found = trackAudioSpecificConfig(track)
  if (typeof found === 'string') return found
  const c = found.config
  // HE-AAC (v2): the header names the AAC LC core; decoders find the SBR/PS data in the frames.
  const objectType = c.coreObjectType ?? c.objectType
  if (objectType < 1 || objectType > 4) return `AAC object type ${objectType} cannot be written in ADTS (Main, LC, SSR or LTP only)`
  const index = AAC_SAMPLE_RATES.indexOf(c.coreSampleRate)
  if (index < 0) return `an AAC sample rate of ${c.coreSampleRate} Hz cannot be written in ADTS`
  if (c.channelConfiguration < 1 || c.channelConfiguration > 7) {
    return `AAC channelConfiguration ${c.channelConfiguration} cannot be written in ADTS`
  }
  if (c.frameLength === 960 || c.frameLength === 1920) return 'AAC with 960-sample frames cannot be written in ADTS'
  const h = Buffer.alloc(HEADER_SIZE)
  h[0] = 0xff
  h[1] = 0xf1 // sync, MPEG-4, layer 0, no CRC
  h[2] = ((objectType - 1) << 6) | (index << 2) | (c.channelConfiguration >> 2)
  h[3] = (c.channelConfiguration & 3) << 6
  h[5] = 0x1f // buffer fullness 0x7ff (variable rate) ...
  h[6] = 0xfc // ... and one raw data block
  return h
}

export class AdtsRecorder extends SingleTrackRecorder {
  private constructor(
    sink: ByteSink,
    trackCount: number,
    audio: number,
    private readonly template: Buffer,
    skipped: SkippedTrack[],
  ) {
    super('aac', sink, trackCount, audio, 'audio', skipped)
  }

  static async create(opts: RecorderOptions): Promise<AdtsRecorder> {
    let audio = -1
    let template: Buffer | undefined
    const problems: string[] = []
    opts.tracks.forEach((t, i) => {
      const codec = t.codec.toUpperCase()
      if (audio >= 0 || t.type !== 'audio' || (codec !== 'AAC' && codec !== 'MP4A-LATM')) return
      const h = adtsHeaderTemplate(t)
      if (typeof h === 'string') {
        problems.push(`track ${i}: ${h}`)
      } else {
        audio = i
        template = h
      }
    })
    if (audio < 0 || template === undefined) {
      throw new UnsupportedError(`nothing to record to aac: ${problems.join('; ') || 'there is no AAC audio track; try --format mp4 or mov'}`)
    }
    const skipped: SkippedTrack[] = []
    opts.tracks.forEach((t, i) => {
      if (i !== audio) skipped.push({ trackIndex: i, reason: `the aac format holds one AAC audio track; ${t.type} track ${i} (${t.codec}) is not written` })
    })
    const sink = await openByteSink(opts.sink, { coalesce: true })
    return new AdtsRecorder(sink, opts.tracks.length, audio, template, skipped)
  }

  protected chunksOf(frame: RecorderFrame): readonly Buffer[] | undefined {
    let size = 0
    for (const part of frame.data) size += part.length
    if (size === 0 || size > MAX_FRAME) {
      this.timeline.dropped.ignored++
      return undefined
    }
    if (this.timeline.admit(frame.trackIndex, frame.pts, true) === DROPPED) return undefined
    // ISO/IEC 14496-3 §1.A.2.2: frame_length (13 bits, header included) across bytes 3–5.
    const header = Buffer.from(this.template)
    const length = size + HEADER_SIZE
    header[3] = header[3]! | (length >> 11)
    header[4] = (length >> 3) & 0xff
    header[5] = ((length & 7) << 5) | 0x1f
    return [header, ...frame.data]
  }

  protected nothingRecorded(): string {
    return 'no AAC frame arrived'
  }
}
