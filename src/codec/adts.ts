/** ADTS, the frame header of AAC in MPEG-TS and .aac files (ISO/IEC 13818-7 §6.2). */
import { AAC_SAMPLE_RATES } from './aac-config.js'

export interface AdtsHeader {
  headerLength: number
  frameLength: number
  objectType: number
  sampleRate: number
  channels: number
}

/** ISO/IEC 13818-7 §6.2 adts_fixed_header + adts_variable_header. */
export function parseAdtsHeader(buf: Buffer): AdtsHeader | undefined {
  if (buf.length < 7 || buf[0] !== 0xff || (buf[1]! & 0xf6) !== 0xf0) return undefined
  const protectionAbsent = buf[1]! & 1
  const objectType = (buf[2]! >> 6) + 1
  const sampleRate = AAC_SAMPLE_RATES[(buf[2]! >> 2) & 0x0f]
  const channels = ((buf[2]! & 1) << 2) | (buf[3]! >> 6)
  const frameLength = ((buf[3]! & 3) << 11) | (buf[4]! << 3) | (buf[5]! >> 5)
  if (sampleRate === undefined) return undefined
  return { headerLength: protectionAbsent ? 7 : 9, frameLength, objectType, sampleRate, channels }
}

