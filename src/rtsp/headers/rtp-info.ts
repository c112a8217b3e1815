/**
 * RTP-Info header (RFC 2326 §12.33):
 *   RTP-Info = "RTP-Info" ":" 1#stream-url 1*parameter
 *   stream-url = "url" "=" url ;  parameter = ";" "seq" "=" 1*DIGIT | ";" "rtptime" "=" 1*DIGIT
 * A URL may itself contain ',' or ';' (query strings, `;jsessionid`), so a separator only
 * counts when a known key follows it. RFC 7826 adds `ssrc`, which we read too.
 */
import { parseHex32, unquote } from './quoted.js'

export interface RtpInfoEntry {
  /** As sent: absolute, or a bare control such as `trackID=0`; '' when the server omitted it. */
  url: string
  seq?: number
  rtptime?: number
  ssrc?: number
}

const KEY_AHEAD = /[ \t]*(?:url|seq|rtptime|ssrc)[ \t]*=/iy
const TWO32 = 2 ** 32

/** Lenient: malformed numbers are left out rather than thrown. */
export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const out: RtpInfoEntry[] = []
  let entry: RtpInfoEntry | undefined
  let from = 0
  let separator = ','
  let quoted = false
  for (let i = 0; i <= value.length; i++) {
    const c = value[i]
    if (c === '"') quoted = !quoted
    if (i < value.length && (quoted || (c !== ',' && c !== ';'))) continue
    if (i < value.length) {
      KEY_AHEAD.lastIndex = i + 1
      if (!KEY_AHEAD.test(value)) continue
    }
    const piece = value.slice(from, i)
    const eq = piece.indexOf('=')
    const key = eq === -1 ? '' : piece.slice(0, eq).trim().toLowerCase()
    const v = eq === -1 ? '' : unquote(piece.slice(eq + 1))
    if (key !== '') {
      if (entry === undefined || separator === ',' || (key === 'url' && entry.url !== '')) {
        entry = { url: '' }
        out.push(entry)
      }
      apply(entry, key, v)
    }
    separator = c ?? ','
    from = i + 1
  }
  return out
}

function apply(entry: RtpInfoEntry, key: string, v: string): void {
  switch (key) {
    case 'url':
      entry.url = v
      break
    case 'seq':
      if (/^\d{1,5}$/.test(v) && Number(v) <= 0xffff) entry.seq = Number(v)
      break
    case 'rtptime':
      // Some servers print rtptime as a signed 32-bit integer; wrap it back to unsigned.
      if (/^-?\d{1,20}$/.test(v)) {
        const n = Number(v)
        if (Math.abs(n) < 2 ** 53) entry.rtptime = ((n % TWO32) + TWO32) % TWO32
      }
      break
    case 'ssrc': {
      const ssrc = parseHex32(v)
      if (ssrc !== undefined) entry.ssrc = ssrc
      break
    }
  }
}

export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      let s = `url=${e.url}`
      if (e.seq !== undefined) s += `;seq=${e.seq}`
      if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime}`
      return s
    })
    .join(',')
}
