/**
 * How each track of a recording goes into mediabunny's MP4, MOV or MPEG-TS muxer (codec,
 * decoder config, frame duration), or the one-line reason it cannot.
 */
import type { AudioCodec } from '../util/mediabunny.js'
import { aacCodecString } from '../codec/aac-config.js'
import { buildOpusHead, opusPacketSamples } from '../codec/opus.js'
import { trackAudioSpecificConfig } from './aac-track.js'
import type { OutputFormat, RecorderTrack } from './types.js'

/** How an audio track goes into the container. */
export interface AudioPlan {
  kind: 'audio'
  codec: AudioCodec
  config: AudioDecoderConfig
  frameDuration: number
  durationOf?: (data: Buffer) => number | undefined
}

/** How a track goes into the container, or why it cannot. */
export function planTrack(
  track: RecorderTrack,
  format: OutputFormat,
): { kind: 'video' } | AudioPlan | string {
  const codec = track.codec.toUpperCase()
  if (track.type === 'video') {
    if (codec === 'H264' || codec === 'H265') return { kind: 'video' }
    return `${track.codec} video cannot be recorded to ${format} yet (H.264 and H.265 only)`
  }
  // AAC, and AAC carried as LATM: its AudioSpecificConfig came from the StreamMuxConfig.
  if (codec === 'AAC' || codec === 'MP4A-LATM') {
    const d = track.details
    const found = trackAudioSpecificConfig(track)
    if (typeof found === 'string') return found
    const { asc, config: parsed } = found
    const sampleRate = parsed.sampleRate || d.sampleRate || track.clockRate
    const channels = parsed.channels || d.channels || 1
    return {
      kind: 'audio',
      codec: 'aac',
      config: {
        // From the config itself: mediabunny validates the string against the description.
        codec: aacCodecString(parsed.objectType),
        sampleRate,
        numberOfChannels: channels,
        description: asc,
      },
      frameDuration: (parsed.frameLength ?? 1024) / sampleRate,
    }
  }
  if (codec === 'OPUS') return opusPlan(track, format)
  if (codec === 'PCMA' || codec === 'PCMU') return g711Plan(track, format)
  return `${track.codec} audio cannot be recorded to ${format} (AAC, Opus and, in MOV, G.711 only)`
}

const CONTAINER_NAMES: Readonly<Record<string, string>> = { mp4: 'MP4', ts: 'MPEG-TS', mov: 'MOV' }

/** Opus in MP4/MOV with an OpusHead of pre-skip 0: RTP carries no encoder delay. mediabunny's TS muxer has no Opus. */
function opusPlan(track: RecorderTrack, format: OutputFormat): AudioPlan | string {
  if (format === 'ts') return 'OPUS audio cannot go in MPEG-TS; use .mp4 or .mov'
  const channels = track.details.channels === 1 ? 1 : 2
  return {
    kind: 'audio',
    codec: 'opus',
    config: { codec: 'opus', sampleRate: 48000, numberOfChannels: channels, description: buildOpusHead({ channels }) },
    frameDuration: 0.02,
    // From the TOC byte: 2.5 to 120 ms per packet.
    durationOf: (data) => {
      const n = opusPacketSamples(data)
      return n === undefined ? undefined : n / 48000
    },
  }
}

/** G.711 goes in MOV only (mediabunny's MP4 and TS muxers refuse it); one byte per sample and channel. */
function g711Plan(track: RecorderTrack, format: OutputFormat): AudioPlan | string {
  if (format !== 'mov') return `${track.codec} audio cannot go in ${CONTAINER_NAMES[format] ?? format}; use .mov`
  const sampleRate = track.details.sampleRate || track.clockRate || 8000
  const channels = track.details.channels || 1
  const codec = track.codec.toUpperCase() === 'PCMU' ? 'ulaw' : 'alaw'
  const bytesPerSecond = sampleRate * channels
  return {
    kind: 'audio',
    codec,
    config: { codec, sampleRate, numberOfChannels: channels },
    frameDuration: 0.02,
    durationOf: (data) => (data.length > 0 ? data.length / bytesPerSecond : undefined),
  }
}
