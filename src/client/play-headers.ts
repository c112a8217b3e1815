// The headers of PLAY and its reply that the pull session reads and writes: Range
// (RFC 2326 §12.29) and RTP-Info (§12.33). Unreadable reply headers count as absent.
import { InvalidArgumentError } from '../errors.js'
import type { RtspResponse } from '../rtsp/message.js'
import { formatRange, parseRange } from '../rtsp/headers/range.js'
import type { RangeHeader } from '../rtsp/headers/range.js'
import { parseRtpInfo } from '../rtsp/headers/rtp-info.js'
import type { RtpInfoEntry } from '../rtsp/headers/rtp-info.js'
import type { PlayRange } from './options.js'

/** RFC 2326 §12.29 Range for PLAY: seconds as `npt=`, Dates as UTC `clock=` (one kind for both ends). */
export function playRangeHeader(range: PlayRange): string {
  const isDate = (v: unknown): boolean => v instanceof Date
  const clock = isDate(range.start) || isDate(range.end)
  if (clock && ((range.start !== undefined && !isDate(range.start)) || (range.end !== undefined && !isDate(range.end)))) {
    throw new InvalidArgumentError('range: start and end must both be seconds or both be Dates')
  }
  const t = (v: number | Date | undefined): number | undefined => (v === undefined ? undefined : v instanceof Date ? v.getTime() / 1000 : v)
  const start = t(range.start) ?? (clock ? undefined : 0)
  if (start === undefined) throw new InvalidArgumentError('range: a clock range needs a start Date')
  const end = t(range.end)
  return formatRange({ unit: clock ? 'clock' : 'npt', start, ...(end !== undefined ? { end } : {}) })
}

/** The Range of a PLAY reply; undefined when absent or unreadable. */
export function rangeOf(res: RtspResponse): RangeHeader | undefined {
  return parsedHeader(res, 'Range', parseRange)
}

/** The RTP-Info of a PLAY reply (RFC 2326 §12.33); undefined when absent or unreadable. */
export function rtpInfoOf(res: RtspResponse): RtpInfoEntry[] | undefined {
  return parsedHeader(res, 'RTP-Info', parseRtpInfo)
}

/** A reply header through its parser; a camera's unreadable value counts as absent (it does not end the stream). */
function parsedHeader<T>(res: RtspResponse, name: string, parse: (value: string) => T): T | undefined {
  const v = res.headers.get(name)
  if (v === undefined) return undefined
  try {
    return parse(v)
  } catch {
    return undefined
  }
}

/**
 * Scale (RFC 2326 §12.34) or Speed (§12.35) of a PLAY reply: the rate the server actually
 * uses, which may differ from the one asked for; undefined when absent or not a number.
 */
export function rateOf(res: RtspResponse, name: 'Scale' | 'Speed'): number | undefined {
  return parsedHeader(res, name, (v) => {
    const n = Number(v.trim())
    if (!Number.isFinite(n) || v.trim() === '') throw new Error('not a number')
    return n
  })
}
