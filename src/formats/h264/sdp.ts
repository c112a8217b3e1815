import { H264NalType, nalType } from '../../codec/h264-nal.js'
import { avcCodecString, h264LevelName, h264ProfileName, parseH264Sps } from '../../codec/h264-sps.js'
import type { MediaDescription } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import { spsDetails } from '../nal/details.js'
import type { CodecDetails } from '../types.js'

export interface H264SdpParams {
  /** packetization-mode (RFC 6184 §8.1); 0 when absent. */
  packetizationMode: number
  /** profile-level-id as written: 6 hex digits. */
  profileLevelId?: string
  /** First SPS in sprop-parameter-sets. */
  sps?: Buffer
  /** First PPS in sprop-parameter-sets. */
  pps?: Buffer
}

/**
 * Read the H.264 fmtp parameters (RFC 6184 §8.1). sprop-parameter-sets is a comma
 * separated list of base64 NAL units; they are sorted by NAL type, not position, because
 * cameras list them in any order and some add an SEI.
 */
export function parseH264Fmtp(fmtp: Readonly<Record<string, string>> | undefined): H264SdpParams {
  const params: H264SdpParams = { packetizationMode: 0 }
  if (!fmtp) return params
  const mode = Number.parseInt(fmtp['packetization-mode'] ?? '', 10)
  if (Number.isInteger(mode) && mode >= 0) params.packetizationMode = mode
  const pli = fmtp['profile-level-id']
  if (pli && /^[0-9a-f]{6}$/i.test(pli)) params.profileLevelId = pli.toLowerCase()
  for (const item of (fmtp['sprop-parameter-sets'] ?? '').split(',')) {
    // Some encoders write URL-safe base64; Buffer's decoder takes both and skips stray characters.
    const nal = Buffer.from(item.trim(), 'base64')
    if (nal.length === 0) continue
    const type = nalType(nal[0]!)
    if (type === H264NalType.Sps && !params.sps) params.sps = nal
    else if (type === H264NalType.Pps && !params.pps) params.pps = nal
  }
  return params
}

/**
 * Codec details from SPS/PPS: size, profile, level and codec string from the SPS. An SPS
 * that does not parse leaves only the parameter sets themselves (the stream may still play).
 */
export function h264DetailsFromParameterSets(sps: Buffer | undefined, pps: Buffer | undefined): CodecDetails {
  const details: CodecDetails = {}
  if (sps) details.sps = sps
  if (pps) details.pps = pps
  if (sps) Object.assign(details, spsDetails(sps, parseH264Sps))
  return details
}

/** Codec details of an H.264 payload type from the SDP alone. */
export function h264DetailsFromSdp(media: MediaDescription, payloadType: number): CodecDetails & { packetizationMode: number } {
  const params = parseH264Fmtp(media.fmtp.get(payloadType))
  const details = h264DetailsFromParameterSets(params.sps, params.pps)
  if (!details.codecString && params.profileLevelId) {
    // No usable SPS (Hikvision and others omit sprop-parameter-sets): profile-level-id still says profile and level.
    const [profileIdc, constraints, levelIdc] = Buffer.from(params.profileLevelId, 'hex')
    details.profile = h264ProfileName(profileIdc!, constraints!)
    details.level = h264LevelName(levelIdc!, constraints!, profileIdc!)
    details.codecString = avcCodecString(profileIdc!, constraints!, levelIdc!)
  }
  return { ...details, packetizationMode: params.packetizationMode }
}

/**
 * fmtp parameters for an H.264 track we send (ANNOUNCE): packetization-mode=1,
 * profile-level-id from the SPS, sprop-parameter-sets from SPS and PPS.
 */
export function h264Fmtp(init: { sps?: Buffer; pps?: Buffer; packetizationMode?: number }): Record<string, string> {
  const fmtp: Record<string, string> = { 'packetization-mode': String(init.packetizationMode ?? 1) }
  const sps = init.sps
  if (sps && sps.length >= 4) fmtp['profile-level-id'] = sps.subarray(1, 4).toString('hex')
  const sets = [sps, init.pps].filter((b): b is Buffer => b !== undefined && b.length > 0)
  if (sets.length > 0) fmtp['sprop-parameter-sets'] = sets.map((b) => b.toString('base64')).join(',')
  return fmtp
}

/** A media description for an H.264 track we send (ANNOUNCE). */
export function h264MediaDescription(init: { payloadType?: number; control?: string; sps?: Buffer; pps?: Buffer }): MediaDescription {
  return sendMediaDescription({ type: 'video', payloadType: init.payloadType ?? 96, encoding: 'H264', clockRate: 90000, fmtp: h264Fmtp(init), control: init.control })
}
