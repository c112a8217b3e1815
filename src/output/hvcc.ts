/**
 * HEVCDecoderConfigurationRecord ('hvcC', ISO/IEC 14496-15 §8.3.3.1) from one VPS, SPS and
 * PPS, for H.265 in MP4 and MPEG-TS.
 */
import { H265NalType } from '../codec/h265-nal.js'
import type { H265SpsInfo } from '../codec/h265-sps.js'

export function buildHevcDecoderConfigurationRecord(vps: Buffer, sps: Buffer, pps: Buffer, info: H265SpsInfo): Buffer {
  const arrays: Array<[number, Buffer]> = [
    [H265NalType.Vps, vps],
    [H265NalType.Sps, sps],
    [H265NalType.Pps, pps],
  ]
  const out = Buffer.alloc(23 + arrays.reduce((n, [, nal]) => n + 5 + nal.length, 0))
  let o = 0
  out[o++] = 1 // configurationVersion
  out[o++] = (info.generalProfileSpace << 6) | (info.generalTierFlag ? 0x20 : 0) | info.generalProfileIdc
  o = out.writeUInt32BE(info.generalProfileCompatibilityFlags >>> 0, o) // general_profile_compatibility_flags
  o += info.generalConstraintIndicatorFlags.copy(out, o, 0, 6) // general_constraint_indicator_flags (48 bits)
  out[o++] = info.generalLevelIdc
  o = out.writeUInt16BE(0xf000, o) // reserved '1111', min_spatial_segmentation_idc 0 (unknown)
  out[o++] = 0xfc // reserved '111111', parallelismType 0 (unknown)
  out[o++] = 0xfc | info.chromaFormatIdc // reserved '111111', chromaFormat
  out[o++] = 0xf8 | (info.bitDepthLuma - 8) // reserved '11111', bitDepthLumaMinus8
  out[o++] = 0xf8 | (info.bitDepthChroma - 8) // reserved '11111', bitDepthChromaMinus8
  o = out.writeUInt16BE(0, o) // avgFrameRate: unspecified
  // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
  out[o++] = ((info.maxSubLayers & 7) << 3) | (info.temporalIdNesting ? 4 : 0) | 3
  out[o++] = arrays.length // numOfArrays
  for (const [type, nal] of arrays) {
    out[o++] = 0x80 | type // array_completeness 1: every set of this type is here, reserved 0, NAL_unit_type
    o = out.writeUInt16BE(1, o) // numNalus
    o = out.writeUInt16BE(nal.length, o) // nalUnitLength
    o += nal.copy(out, o)
  }
  return out
}
