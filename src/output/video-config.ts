/**
 * A recorded video track's decoder config, made when its first key frame arrives: SPS/PPS
 * (H.265: VPS too) from the frame or else the SDP, parsed for the codec string and coded size,
 * and packed into avcC / hvcC. Also which NAL units a container has no use for (AUDs).
 */
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { parseH264Sps } from '../codec/h264-sps.js'
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { parseH265Sps } from '../codec/h265-sps.js'
import { findH265ParameterSets } from './annexb-recorder.js'
import { buildAvcDecoderConfigurationRecord, findParameterSets, withNalHeader } from './avc-config.js'
import { buildHevcDecoderConfigurationRecord } from './hvcc.js'
import type { RecorderFrame, RecorderTrack } from './types.js'

/**
 * The decoder config for track `index` from the key frame's (in-band parameter sets win: they
 * are what this frame was encoded with) or the SDP's parameter sets; a string says why not.
 */
export function videoDecoderConfig(index: number, track: RecorderTrack, frame: RecorderFrame): EncodedVideoChunkMetadata | string {
  if (track.codec.toUpperCase() === 'H265') return hevcConfig(index, track, frame)
  const inBand = findParameterSets(frame.data)
  const spsRaw = inBand.sps ?? track.details.sps
  const ppsRaw = inBand.pps ?? track.details.pps
  if (spsRaw === undefined || ppsRaw === undefined) return `track ${index}: no SPS/PPS in the SDP or before the key frame`
  const sps = withNalHeader(spsRaw, H264NalType.Sps)
  const pps = withNalHeader(ppsRaw, H264NalType.Pps)
  const info = parseSps(index, parseH264Sps, sps)
  return typeof info === 'string' ? info : metadata(info, buildAvcDecoderConfigurationRecord(sps, pps, info))
}

/** H.265: hvcC from the key frame's (or the SDP's) VPS/SPS/PPS. */
function hevcConfig(index: number, track: RecorderTrack, frame: RecorderFrame): EncodedVideoChunkMetadata | string {
  const inBand = findH265ParameterSets(frame.data)
  const d = track.details
  const vps = inBand.vps ?? d.vps
  const sps = inBand.sps ?? d.sps
  const pps = inBand.pps ?? d.pps
  if (vps === undefined || sps === undefined || pps === undefined) return `track ${index}: no VPS/SPS/PPS in the SDP or before the key frame`
  const info = parseSps(index, parseH265Sps, sps)
  return typeof info === 'string' ? info : metadata(info, buildHevcDecoderConfigurationRecord(vps, sps, pps, info))
}

/** The SPS parsed, or why it does not parse. */
function parseSps<I extends object>(index: number, parse: (sps: Buffer) => I, sps: Buffer): I | string {
  try {
    return parse(sps)
  } catch (err) {
    return `track ${index}: ${(err as Error).message}`
  }
}

/** Codec string and coded size from the SPS, the avcC / hvcC record as description. */
function metadata(info: { codecString: string; width: number; height: number }, description: Buffer): EncodedVideoChunkMetadata {
  return { decoderConfig: { codec: info.codecString, codedWidth: info.width, codedHeight: info.height, description } }
}

/** Whether a NAL unit is an access unit delimiter (or empty) for the track's codec. */
export function audPredicate(codec: string): (n: Buffer) => boolean {
  return codec.toUpperCase() === 'H265' ? isH265Aud : isH264Aud
}

function isH264Aud(n: Buffer): boolean {
  return n.length === 0 || nalType(n[0]!) === H264NalType.Aud
}

function isH265Aud(n: Buffer): boolean {
  return n.length < 2 || h265NalType(n[0]!) === H265NalType.Aud
}
