/**
 * Live tracks → a fragmented MP4 for MSE and `<video src>`: the init segment once, then one
 * `moof`/`mdat` per frame. A frame's fragment depends only on the frame (its time on the
 * path's timeline and its own duration), so one path muxes each frame once for all viewers.
 */
import { MediaError } from '../../errors.js'
import type { CodecDetails } from '../../formats/types.js'
import { parseH264Sps } from '../../codec/h264-sps.js'
import { parseH265Sps } from '../../codec/h265-sps.js'
import { opusPacketSamples } from '../../codec/opus.js'
import { buildAvcDecoderConfigurationRecord, withNalHeader } from '../avc-config.js'
import { buildHevcDecoderConfigurationRecord } from '../hvcc.js'
import { fragment } from './fragment.js'
import { g711Samples, g711ToFlacFrame } from './flac.js'
import { initSegment, type LiveFmp4Track } from './init.js'

/** What the muxer needs of a track (the http layer's LiveTrack has these fields). */
export interface MuxTrackInput {
  index: number
  type: string
  codec: string
  clockRate: number
  channels?: number
  details: CodecDetails
}

/** What it needs of a frame (LiveFrame). */
export interface MuxFrameInput {
  track: number
  /** Extended RTP timestamp (ticks of the track's clock). */
  timestamp: number
  /** Seconds on the path's timeline (≥ 0). */
  pts: number
  /** Seconds until the next frame of the track, when known (else estimated). */
  duration?: number
  keyFrame: boolean
  data: readonly Buffer[]
}

interface Muxed {
  track: LiveFmp4Track
  /** Source codec. */
  codec: string
  /** MSE codec string: avc1.64001f, hvc1.1.6.L93.B0, mp4a.40.2, opus, flac. */
  mime: string
  clockRate: number
  channels: number
}

/** NAL unit types carried in the decoder configuration, not in samples (parameter sets, AUD). */
const H264_OUT_OF_BAND = new Set([7, 8, 9])
const H265_OUT_OF_BAND = new Set([32, 33, 34, 35])

export class LiveFmp4Muxer {
  /** Source track index → muxed track. */
  readonly #muxed = new Map<number, Muxed>()
  /** Tracks left out, with the reason in words (e.g. `JPEG: not carried in MP4`). */
  readonly skipped: Array<{ index: number; codec: string; reason: string }> = []
  #sequence = 0

  constructor(tracks: readonly MuxTrackInput[]) {
    for (const t of tracks) {
      const m = muxTrack(t, this.#muxed.size + 1)
      if (typeof m === 'string') this.skipped.push({ index: t.index, codec: t.codec, reason: m })
      else this.#muxed.set(t.index, m)
    }
  }

  /** Number of tracks in the MP4. */
  get trackCount(): number {
    return this.#muxed.size
  }

  /** The MSE type, e.g. `video/mp4; codecs="avc1.64001f,mp4a.40.2"`. */
  get mimeType(): string {
    const all = [...this.#muxed.values()]
    const video = all.some((m) => m.track.codec === 'avc1' || m.track.codec === 'hvc1')
    return `${video ? 'video' : 'audio'}/mp4; codecs="${all.map((m) => m.mime).join(',')}"`
  }

  /** Per carried track: source index, codec, MSE codec string. */
  get codecs(): Array<{ index: number; codec: string; mime: string }> {
    return [...this.#muxed].map(([index, m]) => ({ index, codec: m.codec, mime: m.mime }))
  }

  initSegment(): Buffer {
    return initSegment([...this.#muxed.values()].map((m) => m.track))
  }

  /** `moof` + `mdat` of one frame, or undefined when its track is not carried. */
  fragment(frame: MuxFrameInput): Buffer | undefined {
    const m = this.#muxed.get(frame.track)
    if (m === undefined) return undefined
    const t = m.track
    const decodeTime = Math.round(frame.pts * t.timescale)
    let duration: number
    let data: readonly Uint8Array[] = frame.data
    switch (t.codec) {
      case 'avc1':
      case 'hvc1': {
        const skip = t.codec === 'avc1' ? H264_OUT_OF_BAND : H265_OUT_OF_BAND
        data = frame.data.filter((n) => n.length > 0 && !skip.has(t.codec === 'avc1' ? n[0]! & 0x1f : (n[0]! >> 1) & 0x3f))
        duration = Math.round((frame.duration ?? 1 / 30) * t.timescale)
        break
      }
      case 'mp4a':
        duration = Math.round((1024 * t.timescale) / t.sampleRate) // one AAC frame: 1024 samples (ISO/IEC 14496-3)
        break
      case 'Opus':
        duration = frame.data[0] !== undefined ? (opusPacketSamples(frame.data[0]) ?? 960) : 960 // RFC 6716 §3.1 TOC
        break
      case 'fLaC': {
        const payload = frame.data.length === 1 ? frame.data[0]! : Buffer.concat(frame.data)
        duration = g711Samples(payload.length, m.channels)
        if (duration === 0) return undefined
        data = [g711ToFlacFrame({ payload, law: m.codec === 'PCMA' ? 'alaw' : 'ulaw', channels: m.channels, sampleRate: t.sampleRate, sampleNumber: Math.max(0, decodeTime) })]
        break
      }
    }
    if (data.length === 0) return undefined
    this.#sequence++
    return fragment(this.#sequence, t.id, { decodeTime, duration, keyFrame: frame.keyFrame, data, lengthPrefixed: t.codec === 'avc1' || t.codec === 'hvc1' })
  }
}

/** The fMP4 track for a source track, or why it cannot be carried. */
function muxTrack(t: MuxTrackInput, id: number): Muxed | string {
  const d = t.details
  const codec = t.codec.toUpperCase()
  const channels = d.channels ?? t.channels ?? 1
  switch (codec) {
    case 'H264': {
      if (d.sps === undefined || d.pps === undefined) return 'H.264 without SPS/PPS yet'
      const sps = withNalHeader(d.sps, 7)
      const pps = withNalHeader(d.pps, 8)
      let info
      try {
        info = parseH264Sps(sps)
      } catch (err) {
        if (err instanceof MediaError) return 'H.264 SPS does not parse'
        throw err
      }
      const config = buildAvcDecoderConfigurationRecord(sps, pps, info)
      return { codec, mime: info.codecString, clockRate: t.clockRate, channels: 0, track: { codec: 'avc1', id, timescale: t.clockRate, width: info.width, height: info.height, config } }
    }
    case 'H265': {
      if (d.vps === undefined || d.sps === undefined || d.pps === undefined) return 'H.265 without VPS/SPS/PPS yet'
      let info
      try {
        info = parseH265Sps(d.sps)
      } catch (err) {
        if (err instanceof MediaError) return 'H.265 SPS does not parse'
        throw err
      }
      const config = buildHevcDecoderConfigurationRecord(d.vps, d.sps, d.pps, info)
      return { codec, mime: info.codecString, clockRate: t.clockRate, channels: 0, track: { codec: 'hvc1', id, timescale: t.clockRate, width: info.width, height: info.height, config } }
    }
    case 'AAC':
    case 'MPEG4-GENERIC':
    case 'MP4A-LATM': {
      if (d.audioSpecificConfig === undefined) return 'AAC without an AudioSpecificConfig yet'
      const sampleRate = d.sampleRate ?? t.clockRate
      return { codec, mime: `mp4a.40.${d.objectType ?? 2}`, clockRate: t.clockRate, channels, track: { codec: 'mp4a', id, timescale: t.clockRate, sampleRate, channels, config: d.audioSpecificConfig } }
    }
    case 'OPUS':
      return { codec, mime: 'opus', clockRate: 48000, channels: Math.min(channels, 2), track: { codec: 'Opus', id, timescale: 48000, channels: Math.min(channels, 2) } }
    case 'PCMA':
    case 'PCMU':
      // MSE rejects alaw/ulaw: decoded to PCM and carried as FLAC (see flac.ts).
      return { codec, mime: 'flac', clockRate: t.clockRate, channels, track: { codec: 'fLaC', id, timescale: t.clockRate, sampleRate: t.clockRate, channels, bitsPerSample: 16 } }
    default:
      return `${t.codec} is not carried in MP4 here`
  }
}
