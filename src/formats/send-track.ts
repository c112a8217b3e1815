import { InvalidArgumentError, UnsupportedError } from '../errors.js'
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { parseAudioSpecificConfig } from '../codec/aac-config.js'
import { AacPacketizer } from './aac/packetizer.js'
import { aacMediaDescription } from './aac/sdp.js'
import { H264Packetizer } from './h264/packetizer.js'
import { h264MediaDescription } from './h264/sdp.js'
import { H265Packetizer } from './h265/packetizer.js'
import { h265MediaDescription } from './h265/sdp.js'
import { OpusPacketizer } from './opus/packetizer.js'
import { OPUS_CLOCK_RATE, opusMediaDescription } from './opus/sdp.js'
import { G711Packetizer } from './g711/packetizer.js'
import { g711MediaDescription } from './g711/sdp.js'
import { MjpegPacketizer } from './mjpeg/packetizer.js'
import type { CodecDetails } from './types.js'
import type { MediaDescription } from '../sdp/types.js'
import { sendMediaDescription } from '../sdp/media.js'

/** What a sender (push session, server stream) knows of one track before packetizing. */
export interface SendTrackInit {
  type: 'video' | 'audio'
  /** 'H264', 'H265', 'AAC', 'OPUS', 'PCMA', 'PCMU', 'JPEG' (MJPEG: one JPEG file per frame; any case). */
  codec: string
  /** RTP clock; default 90000 for video, the AAC sample rate for AAC. A different value is refused. */
  clockRate?: number
  /** H.264/H.265: sps, pps (vps); AAC: audioSpecificConfig; G.711/Opus: sampleRate, channels. */
  details: CodecDetails
  /** Default 96 + index (G.711 8 kHz mono: the RFC 3551 static type). */
  payloadType?: number
}

export interface SendPacketizer {
  /** Whole RTP packets (12-byte header included) for one access unit. */
  packetize(au: { data: readonly Buffer[]; rtpTimestamp: number }): Buffer[]
}

/** A track ready to send: its packetizer, its SDP media section and the parameter sets to repeat. */
export interface SendTrack {
  codec: string
  clockRate: number
  payloadType: number
  packetizer: SendPacketizer
  media: MediaDescription
  /** H.264/H.265 parameter sets, sent in-band before key frames that lack them. */
  parameterSets: Buffer[]
}

export const SENDABLE_CODECS = 'H264, H265, AAC, OPUS, PCMA, PCMU, JPEG'

/**
 * Build the packetizer and SDP media description for one track. Shared by push sessions
 * (ANNOUNCE) and the embedded server (DESCRIBE), so both describe a codec the same way.
 */
export function createSendTrack(init: SendTrackInit, index: number, opts: { ssrc: number; mtu: number; control: string; initialSequenceNumber?: number }): SendTrack {
  let pt = init.payloadType ?? 96 + index
  const { control } = opts
  const d = init.details
  const writer = { payloadType: pt, ssrc: opts.ssrc, mtu: opts.mtu, ...(opts.initialSequenceNumber !== undefined ? { initialSequenceNumber: opts.initialSequenceNumber } : {}) }
  let packetizer: SendPacketizer
  let media: MediaDescription
  let clockRate: number
  let sets: Buffer[] = []
  const codec = init.codec.toUpperCase()
  switch (codec) {
    case 'H264':
      packetizer = new H264Packetizer(writer)
      media = h264MediaDescription({ payloadType: pt, control, sps: d.sps, pps: d.pps })
      clockRate = 90000
      sets = [d.sps, d.pps].filter((b): b is Buffer => b !== undefined)
      break
    case 'H265':
      packetizer = new H265Packetizer(writer)
      media = h265MediaDescription({ payloadType: pt, control, vps: d.vps, sps: d.sps, pps: d.pps })
      clockRate = 90000
      sets = [d.vps, d.sps, d.pps].filter((b): b is Buffer => b !== undefined)
      break
    case 'AAC': {
      if (d.audioSpecificConfig === undefined) throw new InvalidArgumentError(`AAC track ${index} needs details.audioSpecificConfig`)
      const asc = parseAudioSpecificConfig(d.audioSpecificConfig)
      clockRate = asc.sampleRate
      packetizer = new AacPacketizer({ ...writer, frameDuration: asc.frameLength ?? 1024, maxFramesPerPacket: 1 })
      media = aacMediaDescription({ payloadType: pt, control, config: d.audioSpecificConfig })
      break
    }
    case 'OPUS': {
      // RFC 7587 §4.1: always a 48 kHz clock, whatever the encoder's rate.
      clockRate = OPUS_CLOCK_RATE
      packetizer = new OpusPacketizer(writer)
      media = opusMediaDescription({ payloadType: pt, control, channels: d.channels ?? 2 })
      break
    }
    case 'PCMA':
    case 'PCMU': {
      clockRate = d.sampleRate ?? init.clockRate ?? 8000
      const channels = d.channels ?? 1
      // RFC 3551 static types (PCMU 0, PCMA 8) for 8 kHz mono unless the caller chose one.
      pt = init.payloadType ?? (clockRate === 8000 && channels === 1 ? (codec === 'PCMU' ? 0 : 8) : pt)
      packetizer = new G711Packetizer({ ...writer, payloadType: pt, sampleRate: clockRate, channels })
      media = g711MediaDescription({ codec, sampleRate: clockRate, channels, payloadType: pt, control })
      break
    }
    case 'JPEG': {
      // RFC 3551 §6: JPEG is static payload type 26 at 90 kHz (RFC 2435); the rtpmap is
      // redundant for it but some clients look only there.
      clockRate = 90000
      pt = init.payloadType ?? 26
      packetizer = new MjpegPacketizer({ ...writer, payloadType: pt })
      media = sendMediaDescription({ type: 'video', payloadType: pt, encoding: 'JPEG', clockRate, control })
      break
    }
    default:
      throw new UnsupportedError(`cannot send ${init.codec}; supported: ${SENDABLE_CODECS}`)
  }
  if (init.clockRate !== undefined && init.clockRate !== clockRate) {
    throw new InvalidArgumentError(`track ${index}: ${init.codec} runs at ${clockRate} Hz, not ${init.clockRate}`)
  }
  return { codec, clockRate, payloadType: pt, packetizer, media, parameterSets: sets }
}

/** RFC 6184 §8.4 / RFC 7798 §7.2: repeat parameter sets in-band before key frames that lack them (after an AUD, if any). */
export function withParameterSets(codec: string, sets: readonly Buffer[], data: readonly Buffer[]): readonly Buffer[] {
  if (sets.length === 0) return data
  const h265 = codec === 'H265'
  for (const n of data) {
    const t = h265 ? h265NalType(n[0] ?? 0) : nalType(n[0] ?? 0)
    if (h265 ? t === H265NalType.Sps : t === H264NalType.Sps) return data
  }
  const first = data[0]
  const aud = first !== undefined && (h265 ? h265NalType(first[0] ?? 0) === H265NalType.Aud : nalType(first[0] ?? 0) === H264NalType.Aud)
  return aud ? [first, ...sets, ...data.slice(1)] : [...sets, ...data]
}
