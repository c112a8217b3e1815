import { MediaError } from '../../errors.js'
import type { CodecDetails } from '../types.js'

/** What the H.264 and H.265 SPS parsers report that a track's details carry. */
interface SpsSummary {
  width: number
  height: number
  profile: string
  /** H.265 only. */
  tier?: string
  level: string
  codecString: string
}

export type SpsDetails = Pick<CodecDetails, 'width' | 'height' | 'profile' | 'tier' | 'level' | 'codecString'>

/**
 * Size, profile, tier (H.265), level and codec string of `sps`, for Object.assign into a
 * track's details; undefined when the SPS does not parse (a broken SPS is left for the
 * decoder to judge: the stream may still play).
 */
export function spsDetails(sps: Buffer, parse: (sps: Buffer) => SpsSummary): SpsDetails | undefined {
  let info: SpsSummary
  try {
    info = parse(sps)
  } catch (err) {
    if (!(err instanceof MediaError)) throw err
    return undefined
  }
  const d: SpsDetails = { width: info.width, height: info.height, profile: info.profile }
  if (info.tier !== undefined) d.tier = info.tier
  d.level = info.level
  d.codecString = info.codecString
  return d
}
