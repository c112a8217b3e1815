import { MediaError } from '../errors.js'
import { BitReader } from './bit-reader.js'
import { nalType, removeEmulationPrevention } from './h264-nal.js'

export interface H264SpsInfo {
  profileIdc: number
  /** constraint_set0..5 flags and reserved bits, the byte after profile_idc. */
  constraintFlags: number
  levelIdc: number
  seqParameterSetId: number
  /** 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
  chromaFormatIdc: number
  bitDepthLuma: number
  bitDepthChroma: number
  frameMbsOnly: boolean
  /** e.g. 'Baseline', 'Constrained Baseline', 'Main', 'High', 'High 4:2:2' */
  profile: string
  /** e.g. '3.0', '3.1', '1b' */
  level: string
  /** Display size, after frame cropping. */
  width: number
  height: number
  /** Sample aspect ratio from the VUI, when given. */
  sarWidth?: number
  sarHeight?: number
  /** Frames per second from VUI timing info, when given (time_scale / (2 * num_units_in_tick)). */
  frameRate?: number
  /** RFC 6381 codec string, e.g. 'avc1.64001f'. */
  codecString: string
}

// Profiles whose SPS carries chroma_format_idc, bit depths and scaling lists (H.264 §7.3.2.1.1).
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135])

/** Table E-1: sample aspect ratios for aspect_ratio_idc 1..16. */
const SAR_TABLE: ReadonlyArray<readonly [number, number]> = [
  [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11],
  [80, 33], [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1],
]

/**
 * Parse a sequence parameter set (H.264 §7.3.2.1.1), with or without its NAL header byte,
 * emulation prevention bytes included. Throws MediaError when it is truncated or invalid.
 */
export function parseH264Sps(sps: Uint8Array): H264SpsInfo {
  let bytes = removeEmulationPrevention(sps)
  // No profile_idc collides with an SPS NAL header (0x67, 0x47, 0x27, 0x07), so the header is optional.
  if (bytes.length > 0 && nalType(bytes[0]!) === 7 && (bytes[0]! & 0x80) === 0) bytes = bytes.subarray(1)
  if (bytes.length < 4) throw new MediaError(`H.264 SPS too short (${bytes.length} bytes); the SDP or stream carries a broken parameter set`)
  try {
    return parseRbsp(new BitReader(bytes))
  } catch (err) {
    if (err instanceof MediaError) throw new MediaError(`invalid H.264 SPS: ${err.message}`, { cause: err })
    throw err
  }
}

function parseRbsp(r: BitReader): H264SpsInfo {
  const profileIdc = r.readBits(8)
  const constraintFlags = r.readBits(8)
  const levelIdc = r.readBits(8)
  const seqParameterSetId = r.readUE()
  if (seqParameterSetId > 31) throw new MediaError(`seq_parameter_set_id ${seqParameterSetId} out of range`)
  let chromaFormatIdc = 1
  let separateColourPlane = false
  let bitDepthLuma = 8
  let bitDepthChroma = 8
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUE()
    if (chromaFormatIdc > 3) throw new MediaError(`chroma_format_idc ${chromaFormatIdc} out of range`)
    if (chromaFormatIdc === 3) separateColourPlane = r.readBool()
    bitDepthLuma = 8 + r.readUE()
    bitDepthChroma = 8 + r.readUE()
    r.skipBits(1) // qpprime_y_zero_transform_bypass_flag
    if (r.readBool()) {
      // seq_scaling_matrix_present_flag: 6 4x4 lists, then 2 (or 6 for 4:4:4) 8x8 lists
      const lists = chromaFormatIdc === 3 ? 12 : 8
      for (let i = 0; i < lists; i++) {
        if (r.readBool()) skipScalingList(r, i < 6 ? 16 : 64)
      }
    }
  }
  r.readUE() // log2_max_frame_num_minus4
  const picOrderCntType = r.readUE()
  if (picOrderCntType === 0) {
    r.readUE() // log2_max_pic_order_cnt_lsb_minus4
  } else if (picOrderCntType === 1) {
    r.skipBits(1) // delta_pic_order_always_zero_flag
    r.readSE() // offset_for_non_ref_pic
    r.readSE() // offset_for_top_to_bottom_field
    const cycle = r.readUE()
    if (cycle > 255) throw new MediaError(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} out of range`)
    for (let i = 0; i < cycle; i++) r.readSE()
  } else if (picOrderCntType !== 2) {
    throw new MediaError(`pic_order_cnt_type ${picOrderCntType} out of range`)
  }
  r.readUE() // max_num_ref_frames
  r.skipBits(1) // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUE() + 1
  const heightMapUnits = r.readUE() + 1
  const frameMbsOnly = r.readBool()
  if (!frameMbsOnly) r.skipBits(1) // mb_adaptive_frame_field_flag
  r.skipBits(1) // direct_8x8_inference_flag
  let width = widthMbs * 16
  let height = (2 - (frameMbsOnly ? 1 : 0)) * heightMapUnits * 16
  if (r.readBool()) {
    // frame_cropping_flag: offsets in chroma sample units (§7.4.2.1.1, CropUnitX/Y)
    const left = r.readUE()
    const right = r.readUE()
    const top = r.readUE()
    const bottom = r.readUE()
    const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc
    const subWidthC = chromaArrayType === 3 ? 1 : 2
    const subHeightC = chromaArrayType === 1 ? 2 : 1
    const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC
    const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (2 - (frameMbsOnly ? 1 : 0))
    width -= (left + right) * cropUnitX
    height -= (top + bottom) * cropUnitY
    if (width <= 0 || height <= 0) throw new MediaError(`frame cropping leaves no picture (${width}x${height})`)
  }
  const info: H264SpsInfo = {
    profileIdc,
    constraintFlags,
    levelIdc,
    seqParameterSetId,
    chromaFormatIdc,
    bitDepthLuma,
    bitDepthChroma,
    frameMbsOnly,
    profile: h264ProfileName(profileIdc, constraintFlags),
    level: h264LevelName(levelIdc, constraintFlags, profileIdc),
    width,
    height,
    codecString: avcCodecString(profileIdc, constraintFlags, levelIdc),
  }
  if (r.bitsLeft > 0 && r.readBool()) {
    // The VUI is optional extra: a camera that writes a broken one still gets its size parsed.
    try {
      parseVui(r, info)
    } catch (err) {
      if (!(err instanceof MediaError)) throw err
    }
  }
  return info
}

function skipScalingList(r: BitReader, size: number): void {
  // §7.3.2.1.1.1: delta-coded; a next scale of 0 repeats the last value to the end.
  let last = 8
  let next = 8
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.readSE()
      next = (last + delta + 256) % 256
    }
    last = next === 0 ? last : next
  }
}

/** VUI (Annex E.1.1) up to timing_info: the sample aspect ratio and the frame rate. */
function parseVui(r: BitReader, info: H264SpsInfo): void {
  if (r.readBool()) {
    const idc = r.readBits(8)
    if (idc === 255) {
      info.sarWidth = r.readBits(16)
      info.sarHeight = r.readBits(16)
    } else {
      const sar = SAR_TABLE[idc - 1]
      if (sar) [info.sarWidth, info.sarHeight] = sar
    }
  }
  if (r.readBool()) r.skipBits(1) // overscan_info_present → overscan_appropriate
  if (r.readBool()) {
    r.skipBits(4) // video_format, video_full_range_flag
    if (r.readBool()) r.skipBits(24) // colour_primaries, transfer, matrix
  }
  if (r.readBool()) {
    r.readUE() // chroma_sample_loc_type_top_field
    r.readUE() // chroma_sample_loc_type_bottom_field
  }
  if (r.readBool()) {
    const numUnitsInTick = r.readBits(32)
    const timeScale = r.readBits(32)
    if (numUnitsInTick > 0 && timeScale > 0) info.frameRate = timeScale / (2 * numUnitsInTick)
  }
}

/** Profile name from profile_idc and the constraint flags (H.264 Annex A.2). */
export function h264ProfileName(profileIdc: number, constraintFlags: number): string {
  const set1 = (constraintFlags & 0x40) !== 0
  const set3 = (constraintFlags & 0x10) !== 0
  const set4 = (constraintFlags & 0x08) !== 0
  const set5 = (constraintFlags & 0x04) !== 0
  switch (profileIdc) {
    case 66: return set1 ? 'Constrained Baseline' : 'Baseline'
    case 77: return 'Main'
    case 88: return 'Extended'
    case 100: return set4 && set5 ? 'Constrained High' : set4 ? 'Progressive High' : 'High'
    case 110: return set3 ? 'High 10 Intra' : 'High 10'
    case 122: return set3 ? 'High 4:2:2 Intra' : 'High 4:2:2'
    case 244: return set3 ? 'High 4:4:4 Intra' : 'High 4:4:4 Predictive'
    case 44: return 'CAVLC 4:4:4 Intra'
    case 83: return 'Scalable Baseline'
    case 86: return 'Scalable High'
    case 118: return 'Multiview High'
    case 128: return 'Stereo High'
    case 134: return 'MFC High'
    case 138: return 'Multiview Depth High'
    case 139: return 'Enhanced Multiview Depth High'
    default: return `Unknown (${profileIdc})`
  }
}

/** Level name from level_idc: '3.0', '3.1'; level 1b is 11 with constraint_set3 in Baseline/Main/Extended, or 9. */
export function h264LevelName(levelIdc: number, constraintFlags = 0, profileIdc = 0): string {
  if (levelIdc === 9) return '1b'
  if (levelIdc === 11 && (constraintFlags & 0x10) !== 0 && (profileIdc === 66 || profileIdc === 77 || profileIdc === 88)) return '1b'
  return (levelIdc / 10).toFixed(1)
}

/** RFC 6381 §3.3: 'avc1.' + profile_idc, constraint byte, level_idc as hex. */
export function avcCodecString(profileIdc: number, constraintFlags: number, levelIdc: number): string {
  const hex = (n: number) => (n & 0xff).toString(16).padStart(2, '0')
  return `avc1.${hex(profileIdc)}${hex(constraintFlags)}${hex(levelIdc)}`
}
