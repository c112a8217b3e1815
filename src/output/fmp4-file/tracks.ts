/**
 * What the fMP4 file writer keeps per track: its sample entry (live-fmp4's LiveFmp4Track),
 * timescale, the samples waiting to be written, and how long a sample lasts when nothing
 * follows it; and how each source codec maps onto it.
 */
import { opusPacketSamples } from '../../codec/opus.js'
import { trackAudioSpecificConfig } from '../aac-track.js'
import type { LiveFmp4Track } from '../live-fmp4/init.js'
import type { RecorderTrack } from '../types.js'
import { DecodeTimes } from './decode-times.js'

/** Used for a video track's last sample until two pictures give a real interval. */
const DEFAULT_FRAME_S = 1 / 25

export interface Sample {
  /** Decode time (track ticks); undefined until derived (video with look-ahead). */
  dts: number | undefined
  pts: number
  keyFrame: boolean
  data: readonly Uint8Array[]
}

export interface TrackState {
  index: number
  kind: 'video' | 'audio'
  codec: string
  /** Set for audio at create, for video when configured (the recording's first key frame). */
  mp4: LiveFmp4Track | undefined
  timescale: number
  /** Samples not yet written, in decode order; the first `assigned` have a decode time. */
  queue: Sample[]
  assigned: number
  decodeTimes: DecodeTimes | undefined
  /** Duration (ticks) of the newest sample when nothing follows it: the last interval seen, or a codec frame. */
  lastDuration: number
  /** Audio: the codec's duration of one access unit, in ticks. */
  durationOf: ((data: Uint8Array) => number | undefined) | undefined
  /** G.711: 8-bit samples → one FLAC frame. */
  law: 'alaw' | 'ulaw' | undefined
  channels: number
  /** The source track's parameters (video: SPS/PPS from the SDP). */
  details: RecorderTrack['details']
}

/** How a track goes into the file, or why it cannot. */
export function planTrack(track: RecorderTrack, index: number): TrackState | string {
  const codec = track.codec.toUpperCase()
  const base = { index, codec, queue: [], assigned: 0, law: undefined, channels: 1, details: track.details, durationOf: undefined }
  if (track.type === 'video') {
    if (codec !== 'H264' && codec !== 'H265') return `${track.codec} video cannot be recorded to mp4 yet (H.264 and H.265 only)`
    const timescale = Number.isInteger(track.clockRate) && track.clockRate > 0 ? track.clockRate : 90000
    return { ...base, kind: 'video', mp4: undefined, timescale, decodeTimes: new DecodeTimes(), lastDuration: Math.round(DEFAULT_FRAME_S * timescale) }
  }
  const d = track.details
  if (codec === 'AAC' || codec === 'MP4A-LATM') {
    const found = trackAudioSpecificConfig(track)
    if (typeof found === 'string') return found
    const { asc, config: parsed } = found
    const sampleRate = parsed.sampleRate || d.sampleRate || track.clockRate
    const channels = parsed.channels || d.channels || 1
    const frame = parsed.frameLength ?? 1024
    return { ...base, kind: 'audio', timescale: sampleRate, channels, decodeTimes: undefined, lastDuration: frame, durationOf: () => frame, mp4: { codec: 'mp4a', id: 0, timescale: sampleRate, sampleRate, channels, config: asc } }
  }
  if (codec === 'OPUS') {
    const channels = d.channels === 1 ? 1 : 2
    // From the TOC byte (RFC 6716 §3.1): 2.5 to 120 ms per packet, at 48 kHz.
    return { ...base, kind: 'audio', timescale: 48000, channels, decodeTimes: undefined, lastDuration: 960, durationOf: (p) => opusPacketSamples(p), mp4: { codec: 'Opus', id: 0, timescale: 48000, channels } }
  }
  if (codec === 'PCMA' || codec === 'PCMU') {
    const sampleRate = d.sampleRate || track.clockRate || 8000
    const channels = d.channels || 1
    return {
      ...base,
      kind: 'audio',
      timescale: sampleRate,
      channels,
      law: codec === 'PCMA' ? 'alaw' : 'ulaw',
      decodeTimes: undefined,
      lastDuration: Math.round(sampleRate * 0.02),
      // The newest payload's sample count is kept in lastDuration (pushAudio).
      durationOf: undefined,
      mp4: { codec: 'fLaC', id: 0, timescale: sampleRate, sampleRate, channels, bitsPerSample: 16 },
    }
  }
  return `${track.codec} audio cannot be recorded to mp4 (AAC, Opus and G.711 only)`
}
