import { aacCodecString, buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../codec/aac-config.js'
import { MediaError } from '../../errors.js'
import type { MediaDescription, RtpMap } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import type { CodecDetails } from '../types.js'

/** The AU header layout and stream parameters of an mpeg4-generic payload (RFC 3640 §4.1). */
export interface AacSdpParams {
  /** mode as written: 'AAC-hbr', 'AAC-lbr', 'generic' ... ('' when absent). */
  mode: string
  sizeLength: number
  indexLength: number
  indexDeltaLength: number
  ctsDeltaLength: number
  dtsDeltaLength: number
  randomAccessIndication: boolean
  streamStateIndication: number
  auxiliaryDataSizeLength: number
  /** RTP ticks per access unit, when the SDP says. */
  constantDuration?: number
  /** AudioSpecificConfig from the hex `config` parameter. */
  config?: Buffer
  streamType?: number
}

/** Defaults implied by the mode (RFC 3640 §3.3.5 and §3.3.6) when the SDP leaves them out. */
const MODE_DEFAULTS: Record<string, [number, number, number]> = {
  'aac-hbr': [13, 3, 3],
  'aac-lbr': [6, 2, 2],
}

/** Read the RFC 3640 fmtp parameters (keys are lower-cased by the SDP parser). */
export function parseAacFmtp(fmtp: Readonly<Record<string, string>> | undefined): AacSdpParams {
  const f = fmtp ?? {}
  const mode = f['mode'] ?? ''
  const [size, index, delta] = MODE_DEFAULTS[mode.toLowerCase()] ?? [0, 0, 0]
  const params: AacSdpParams = {
    mode,
    sizeLength: bits(f['sizelength'], size),
    indexLength: bits(f['indexlength'], index),
    indexDeltaLength: bits(f['indexdeltalength'], delta),
    ctsDeltaLength: bits(f['ctsdeltalength'], 0),
    dtsDeltaLength: bits(f['dtsdeltalength'], 0),
    randomAccessIndication: f['randomaccessindication'] === '1',
    streamStateIndication: bits(f['streamstateindication'], 0),
    auxiliaryDataSizeLength: bits(f['auxiliarydatasizelength'], 0),
  }
  const duration = Number.parseInt(f['constantduration'] ?? '', 10)
  if (duration > 0) params.constantDuration = duration
  // Some cameras write the hex in upper case or with stray spaces.
  const hex = (f['config'] ?? '').replace(/[^0-9a-f]/gi, '')
  if (hex.length >= 4) params.config = Buffer.from(hex.length % 2 ? hex.slice(0, -1) : hex, 'hex')
  const streamType = Number.parseInt(f['streamtype'] ?? '', 10)
  if (Number.isInteger(streamType)) params.streamType = streamType
  return params
}

function bits(value: string | undefined, fallback: number): number {
  const n = Number.parseInt(value ?? '', 10)
  // A field is at most 32 bits wide; anything else is a broken SDP, so keep the mode's default.
  return Number.isInteger(n) && n >= 0 && n <= 32 ? n : fallback
}

/** Codec details (ASC, sample rate, channels, object type, codec string) of an AAC payload type. */
export function aacDetailsFromSdp(media: MediaDescription, payloadType: number, rtpmap = media.rtpmap.get(payloadType)): CodecDetails {
  const params = parseAacFmtp(media.fmtp.get(payloadType))
  return aacDetails(params.config, rtpmap)
}

function aacDetails(config: Buffer | undefined, rtpmap: RtpMap | undefined): CodecDetails {
  if (config) {
    try {
      const asc = parseAudioSpecificConfig(config)
      return {
        audioSpecificConfig: config,
        objectType: asc.objectType,
        sampleRate: asc.sampleRate,
        channels: asc.channels || rtpmap?.channels || 1,
        codecString: aacCodecString(asc.objectType),
      }
    } catch (err) {
      if (!(err instanceof MediaError)) throw err
    }
  }
  // No or broken config (a few cameras): assume AAC LC at the rtpmap's rate and channels.
  const sampleRate = rtpmap?.clockRate || 44100
  const channels = rtpmap?.channels || 1
  const details: CodecDetails = { objectType: 2, sampleRate, channels, codecString: aacCodecString(2) }
  try {
    details.audioSpecificConfig = buildAudioSpecificConfig({ objectType: 2, sampleRate, channels })
  } catch {
    // Channel counts without a channelConfiguration: leave the config out.
  }
  return details
}

/**
 * RTP ticks per AAC frame: constantDuration when given, else the frame length scaled from
 * the ASC's output rate to the RTP clock (1024 for AAC LC at its own rate, 2048 for HE-AAC
 * whose RTP clock runs at the SBR rate but whose config gives the core rate).
 */
export function aacFrameDuration(params: AacSdpParams, clockRate: number): number {
  if (params.constantDuration) return params.constantDuration
  if (params.config) {
    try {
      const asc = parseAudioSpecificConfig(params.config)
      if (asc.frameLength && asc.sampleRate > 0 && clockRate > 0) {
        const d = Math.round((asc.frameLength * clockRate) / asc.sampleRate)
        if (d > 0) return d
      }
    } catch (err) {
      if (!(err instanceof MediaError)) throw err
    }
  }
  return 1024
}

/**
 * fmtp parameters for an AAC track we send (ANNOUNCE), AAC-hbr layout (RFC 3640 §3.3.6).
 */
export function aacFmtp(init: { config: Buffer } | { objectType: number; sampleRate: number; channels: number }): Record<string, string> {
  const config = 'config' in init ? init.config : buildAudioSpecificConfig(init)
  return {
    streamtype: '5',
    'profile-level-id': '1',
    mode: 'AAC-hbr',
    sizelength: '13',
    indexlength: '3',
    indexdeltalength: '3',
    config: config.toString('hex'),
  }
}

/** A media description for an AAC track we send (ANNOUNCE); the RTP clock is the sample rate. */
export function aacMediaDescription(init: { payloadType?: number; control?: string; config: Buffer }): MediaDescription {
  const asc = parseAudioSpecificConfig(init.config)
  return sendMediaDescription({
    type: 'audio',
    payloadType: init.payloadType ?? 97,
    encoding: 'mpeg4-generic',
    clockRate: asc.sampleRate,
    channels: asc.channels,
    fmtp: aacFmtp({ config: init.config }),
    control: init.control,
  })
}
