import { MediaError } from '../errors.js'
import { BitReader } from './bit-reader.js'
import { removeEmulationPrevention } from './h264-nal.js'
import { H265NalType, h265NalType } from './h265-nal.js'

/** general_* fields of profile_tier_level (H.265 §7.3.3): what an hvcC and a codec string need. */
export interface H265ProfileTierLevel {
  generalProfileSpace: number
  /** false: Main tier, true: High tier. */
  generalTierFlag: boolean
  generalProfileIdc: number
  /** general_profile_compatibility_flag[0..31], flag 0 in the most significant bit. */
  generalProfileCompatibilityFlags: number
  /** The 48 bits after the compatibility flags (progressive_source_flag first), as 6 bytes. */
  generalConstraintIndicatorFlags: Buffer
  generalLevelIdc: number
}

export interface H265SpsInfo extends H265ProfileTierLevel {
  maxSubLayers: number
  temporalIdNesting: boolean
  seqParameterSetId: number
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
  chromaFormatIdc: number
  bitDepthLuma: number
  bitDepthChroma: number
  /** pic_width/height_in_luma_samples: the coded size. */
  codedWidth: number
  codedHeight: number
  /** Display size, after the conformance window. */
  width: number
  height: number
  /** e.g. 'Main', 'Main 10', 'Rext' */
  profile: string
  /** 'Main' or 'High' */
  tier: string
  /** e.g. '3.1' (general_level_idc / 30) */
  level: string
  /** ISO/IEC 14496-15 Annex E codec string, e.g. 'hvc1.1.6.L93.B0'. */
  codecString: string
}

/**
 * Parse a sequence parameter set (H.265 §7.3.2.2) up to the bit depths, with or without its
 * 2-byte NAL header, emulation prevention bytes included. Throws MediaError when it is
 * truncated or invalid.
 */
export function parseH265Sps(sps: Uint8Array): H265SpsInfo {
  let bytes = removeEmulationPrevention(sps)
  if (bytes.length >= 2 && h265NalType(bytes[0]!) === H265NalType.Sps && (bytes[0]! & 0x80) === 0) bytes = bytes.subarray(2)
  if (bytes.length < 15) throw new MediaError(`H.265 SPS too short (${bytes.length} bytes); the SDP or stream carries a broken parameter set`)
  try {
    return parseRbsp(new BitReader(bytes))
  } catch (err) {
    if (err instanceof MediaError) throw new MediaError(`invalid H.265 SPS: ${err.message}`, { cause: err })
    throw err
  }
}

function parseRbsp(r: BitReader): H265SpsInfo {
  r.skipBits(4) // sps_video_parameter_set_id
  const maxSubLayersMinus1 = r.readBits(3)
  if (maxSubLayersMinus1 > 6) throw new MediaError(`sps_max_sub_layers_minus1 ${maxSubLayersMinus1} out of range`)
  const temporalIdNesting = r.readBool()
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1)
  const seqParameterSetId = r.readUE()
  if (seqParameterSetId > 15) throw new MediaError(`sps_seq_parameter_set_id ${seqParameterSetId} out of range`)
  const chromaFormatIdc = r.readUE()
  if (chromaFormatIdc > 3) throw new MediaError(`chroma_format_idc ${chromaFormatIdc} out of range`)
  const separateColourPlane = chromaFormatIdc === 3 ? r.readBool() : false
  const codedWidth = r.readUE()
  const codedHeight = r.readUE()
  if (codedWidth === 0 || codedHeight === 0 || codedWidth > 16888 || codedHeight > 16888) {
    throw new MediaError(`picture size ${codedWidth}x${codedHeight} out of range`)
  }
  let width = codedWidth
  let height = codedHeight
  if (r.readBool()) {
    // conformance_window_flag: offsets in chroma sample units (§7.4.3.2.1, SubWidthC/SubHeightC, Table 6-1)
    const left = r.readUE()
    const right = r.readUE()
    const top = r.readUE()
    const bottom = r.readUE()
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc
    const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1
    const subHeightC = chromaArrayType === 1 ? 2 : 1
    width -= subWidthC * (left + right)
    height -= subHeightC * (top + bottom)
    if (width <= 0 || height <= 0) throw new MediaError(`the conformance window leaves no picture (${width}x${height})`)
  }
  const bitDepthLuma = 8 + r.readUE()
  const bitDepthChroma = 8 + r.readUE()
  if (bitDepthLuma > 16 || bitDepthChroma > 16) throw new MediaError(`bit depth ${bitDepthLuma}/${bitDepthChroma} out of range`)
  return {
    ...ptl,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    seqParameterSetId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    codedWidth,
    codedHeight,
    width,
    height,
    profile: h265ProfileName(ptl.generalProfileIdc, ptl.generalProfileCompatibilityFlags),
    tier: ptl.generalTierFlag ? 'High' : 'Main',
    level: h265LevelName(ptl.generalLevelIdc),
    codecString: hevcCodecString(ptl),
  }
}

/** profile_tier_level(1, maxSubLayersMinus1) (§7.3.3): the general part, sub-layer parts skipped. */
function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const generalProfileSpace = r.readBits(2)
  const generalTierFlag = r.readBool()
  const generalProfileIdc = r.readBits(5)
  const generalProfileCompatibilityFlags = r.readBits(32)
  const constraints = Buffer.alloc(6)
  for (let i = 0; i < 6; i++) constraints[i] = r.readBits(8)
  const generalLevelIdc = r.readBits(8)
  const profilePresent: boolean[] = []
  const levelPresent: boolean[] = []
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    profilePresent.push(r.readBool())
    levelPresent.push(r.readBool())
  }
  if (maxSubLayersMinus1 > 0) r.skipBits(2 * (8 - maxSubLayersMinus1)) // reserved_zero_2bits
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (profilePresent[i]) r.skipBits(88) // sub_layer profile space … inbld/reserved
    if (levelPresent[i]) r.skipBits(8) // sub_layer_level_idc
  }
  return {
    generalProfileSpace,
    generalTierFlag,
    generalProfileIdc,
    generalProfileCompatibilityFlags,
    generalConstraintIndicatorFlags: constraints,
    generalLevelIdc,
  }
}

const PROFILE_NAMES: Readonly<Record<number, string>> = {
  1: 'Main',
  2: 'Main 10',
  3: 'Main Still Picture',
  4: 'Rext',
  5: 'High Throughput',
  6: 'Multiview Main',
  7: 'Scalable Main',
  8: '3D Main',
  9: 'Screen Content Coding',
  10: 'Scalable Rext',
  11: 'High Throughput Screen Content Coding',
}

/**
 * Profile name from general_profile_idc (H.265 Annex A). An encoder may leave the idc at 0 and
 * set only a compatibility flag (§7.4.4): the lowest flag set names the profile then.
 */
export function h265ProfileName(profileIdc: number, compatibilityFlags = 0): string {
  let idc = profileIdc
  if (idc === 0) {
    for (let j = 1; j < 32; j++) {
      if ((compatibilityFlags >>> (31 - j)) & 1) {
        idc = j
        break
      }
    }
  }
  return PROFILE_NAMES[idc] ?? `Unknown (${profileIdc})`
}

/** Level name: general_level_idc is 30 × the level number (§A.4.1): 93 → '3.1', 120 → '4.0'. */
export function h265LevelName(levelIdc: number): string {
  return (levelIdc / 30).toFixed(1)
}

/**
 * ISO/IEC 14496-15 §E.3 codec string: 'hvc1.' profile space letter and profile_idc, the 32
 * compatibility flags in reverse bit order as hex, tier letter and level_idc, then the
 * constraint bytes as hex with trailing zero bytes left out.
 */
export function hevcCodecString(ptl: H265ProfileTierLevel, sampleEntry: 'hvc1' | 'hev1' = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][ptl.generalProfileSpace] ?? ''
  let reversed = 0
  for (let i = 0; i < 32; i++) if ((ptl.generalProfileCompatibilityFlags >>> i) & 1) reversed |= 1 << (31 - i)
  const bytes = [...ptl.generalConstraintIndicatorFlags]
  while (bytes.length > 0 && bytes[bytes.length - 1] === 0) bytes.pop()
  const tail = bytes.map((b) => `.${b.toString(16).toUpperCase()}`).join('')
  return `${sampleEntry}.${space}${ptl.generalProfileIdc}.${(reversed >>> 0).toString(16).toUpperCase()}.${ptl.generalTierFlag ? 'H' : 'L'}${ptl.generalLevelIdc}${tail}`
}
