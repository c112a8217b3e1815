/**
 * A recorded video track's decoder config, made when its first key frame arrives: SPS/PPS
 * (H.265: VPS too) from the frame or else the SDP, parsed for the codec string and coded size,
 * and packed into avcC / hvcC; for mediabunny's muxers and our own fMP4 writer alike. Also
 * which NAL units a container has no use for (AUDs).
 */
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { parseH264Sps } from '../codec/h264-sps.js'
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { parseH265Sps } from '../codec/h265-sps.js'
import { findH265ParameterSets } from './annexb-recorder.js'
import { buildAvcDecoderConfigurationRecord, findParameterSets, withNalHeader } from './avc-config.js'
import { buildHevcDecoderConfigurationRecord } from './hvcc.js'
import type { RecorderFrame, RecorderTrack } from './types.js'

/** A video track's sample entry data: the MP4 sample entry type, what its SPS says, the avcC / hvcC record. */
export interface VideoConfigRecord {
  codec: 'avc1' | 'hvc1'
  info: { codecString: string; width: number; height: number }
  record: Buffer
}

/**
 * The config of video track `index` from a key frame's NAL units (in-band parameter sets win:
 * they are what this frame was encoded with) or the SDP's; a string says why there is none.
 */
export function videoConfigRecord(index: number, track: Pick<RecorderTrack, 'codec' | 'details'>, nalus: readonly Buffer[]): VideoConfigRecord | string {
  const d = track.details
  try {
    if (track.codec.toUpperCase() === 'H265') {
      const inBand = findH265ParameterSets(nalus)
      const vps = inBand.vps ?? d.vps
      const sps = inBand.sps ?? d.sps
      const pps = inBand.pps ?? d.pps
      if (vps === undefined || sps === undefined || pps === undefined) return `track ${index}: no VPS/SPS/PPS in the SDP or before the key frame`
      const info = parseH265Sps(sps)
      return { codec: 'hvc1', info, record: buildHevcDecoderConfigurationRecord(vps, sps, pps, info) }
    }
    const inBand = findParameterSets(nalus)
    const spsRaw = inBand.sps ?? d.sps
    const ppsRaw = inBand.pps ?? d.pps
    if (spsRaw === undefined || ppsRaw === undefined) return `track ${index}: no SPS/PPS in the SDP or before the key frame`
    const sps = withNalHeader(spsRaw, H264NalType.Sps)
    const pps = withNalHeader(ppsRaw, H264NalType.Pps)
    const info = parseH264Sps(sps)
    return { codec: 'avc1', info, record: buildAvcDecoderConfigurationRecord(sps, pps, info) }
  } catch (err) {
    // An SPS that does not parse.
    return `track ${index}: ${(err as Error).message}`
  }
}

/** The config as WebCodecs metadata (mediabunny's muxers): codec string, coded size, the record as description. */
export function videoDecoderConfig(index: number, track: RecorderTrack, frame: RecorderFrame): EncodedVideoChunkMetadata | string {
  const c = videoConfigRecord(index, track, frame.data)
  if (typeof c === 'string') return c
  return { decoderConfig: { codec: c.info.codecString, codedWidth: c.info.width, codedHeight: c.info.height, description: c.record } }
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
