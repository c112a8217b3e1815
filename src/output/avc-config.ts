/**
 * H.264 parameter sets as containers want them: found in an access unit, and packed into an
 * AVCDecoderConfigurationRecord ('avcC', ISO/IEC 14496-15 §5.3.3.1) for MP4 and MPEG-TS.
 */
import { H264NalType, nalType } from '../codec/h264-nal.js'
import type { H264SpsInfo } from '../codec/h264-sps.js'

export interface ParameterSets {
  sps?: Buffer
  pps?: Buffer
}

/** The last SPS and PPS among the NAL units of one access unit (a camera may repeat them). */
export function findParameterSets(nalus: readonly Buffer[]): ParameterSets {
  const found: ParameterSets = {}
  for (const n of nalus) {
    if (n.length === 0) continue
    const type = nalType(n[0]!)
    if (type === H264NalType.Sps) found.sps = n
    else if (type === H264NalType.Pps) found.pps = n
  }
  return found
}

/**
 * A parameter set with its NAL header byte. SDP sprop-parameter-sets carry the header, but a
 * camera that hands out a bare RBSP would otherwise produce an avcC no decoder accepts.
 */
export function withNalHeader(nalu: Buffer, type: typeof H264NalType.Sps | typeof H264NalType.Pps): Buffer {
  const b = nalu[0]
  // forbidden_zero_bit 0 and the expected nal_unit_type; nal_ref_idc may be anything.
  if (b !== undefined && (b & 0x9f) === type) return nalu
  return Buffer.concat([Buffer.from([0x60 | type]), nalu])
}

// Profiles whose avcC carries the chroma/bit-depth extension (ISO/IEC 14496-15 §5.3.3.1.2).
const AVCC_EXTENDED_PROFILES = new Set([100, 110, 122, 144])

/**
 * AVCDecoderConfigurationRecord for one SPS and one PPS, both with their NAL header byte, with
 * 4-byte NAL unit lengths. `info` (the parsed SPS) fills the High-profile extension.
 */
export function buildAvcDecoderConfigurationRecord(sps: Buffer, pps: Buffer, info: H264SpsInfo): Buffer {
  const extended = AVCC_EXTENDED_PROFILES.has(info.profileIdc)
  const out = Buffer.alloc(6 + 2 + sps.length + 1 + 2 + pps.length + (extended ? 4 : 0))
  let o = 0
  out[o++] = 1 // configurationVersion
  out[o++] = sps[1] ?? info.profileIdc // AVCProfileIndication
  out[o++] = sps[2] ?? info.constraintFlags // profile_compatibility
  out[o++] = sps[3] ?? info.levelIdc // AVCLevelIndication
  out[o++] = 0xfc | 3 // reserved '111111', lengthSizeMinusOne = 3
  out[o++] = 0xe0 | 1 // reserved '111', numOfSequenceParameterSets
  o = out.writeUInt16BE(sps.length, o) // sequenceParameterSetLength
  o += sps.copy(out, o)
  out[o++] = 1 // numOfPictureParameterSets
  o = out.writeUInt16BE(pps.length, o) // pictureParameterSetLength
  o += pps.copy(out, o)
  if (extended) {
    out[o++] = 0xfc | (info.chromaFormatIdc & 3) // reserved '111111', chroma_format
    out[o++] = 0xf8 | ((info.bitDepthLuma - 8) & 7) // reserved '11111', bit_depth_luma_minus8
    out[o++] = 0xf8 | ((info.bitDepthChroma - 8) & 7) // reserved '11111', bit_depth_chroma_minus8
    out[o++] = 0 // numOfSequenceParameterSetExt
  }
  return out
}
