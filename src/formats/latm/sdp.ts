import { aacCodecString } from '../../codec/aac-config.js'
import { buildStreamMuxConfig, parseStreamMuxConfig, type StreamMuxConfig } from '../../codec/latm.js'
import type { MediaDescription, RtpMap } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import type { CodecDetails } from '../types.js'

/** The RFC 6416 §7.3 fmtp parameters we read. */
export interface LatmSdpParams {
  /** cpresent: 1 (the default) means the StreamMuxConfig is in-band (RFC 6416 §7.3). */
  cpresent: boolean
  /** The StreamMuxConfig from the hex `config`, when present. */
  config?: Buffer
}

export function parseLatmFmtp(fmtp: Readonly<Record<string, string>> | undefined): LatmSdpParams {
  const f = fmtp ?? {}
  const params: LatmSdpParams = { cpresent: (f['cpresent'] ?? '1').trim() !== '0' }
  // Some cameras write the hex in upper case or with stray spaces.
  const hex = (f['config'] ?? '').replace(/[^0-9a-f]/gi, '')
  if (hex.length >= 4) params.config = Buffer.from(hex.length % 2 ? hex.slice(0, -1) : hex, 'hex')
  return params
}

/** Details (ASC, sample rate, channels, object type, codec string) from a parsed StreamMuxConfig. */
export function latmDetails(smc: StreamMuxConfig, rtpmap: RtpMap | undefined): CodecDetails {
  return {
    audioSpecificConfig: smc.audioSpecificConfig,
    objectType: smc.asc.objectType,
    sampleRate: smc.asc.sampleRate || rtpmap?.clockRate || 44100,
    channels: smc.asc.channels || rtpmap?.channels || 1,
    codecString: aacCodecString(smc.asc.objectType),
  }
}

export { latmFrameDuration } from './depacketizer.js'

/** A media description for an AAC track we send as MP4A-LATM (ANNOUNCE); the clock is the sample rate. */
export function latmMediaDescription(init: { config: Buffer; payloadType?: number; control?: string }): MediaDescription {
  const smc = buildStreamMuxConfig(init.config)
  const { asc } = parseStreamMuxConfig(smc)
  return sendMediaDescription({
    type: 'audio',
    payloadType: init.payloadType ?? 97,
    encoding: 'MP4A-LATM',
    clockRate: asc.sampleRate,
    channels: asc.channels,
    // profile-level-id 30: AAC Profile L1 (RFC 6416 §7.3 default is 30 too); object 2: AAC LC.
    fmtp: { 'profile-level-id': '30', object: String(asc.coreObjectType ?? asc.objectType), cpresent: '0', config: smc.toString('hex') },
    control: init.control,
  })
}
