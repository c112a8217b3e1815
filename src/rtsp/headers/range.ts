/**
 * Range header (RFC 2326 §12.29, §3.5-3.7):
 *   npt-range   = npt-time "-" [ npt-time ] | "-" npt-time ; npt-time = "now" | seconds | hh:mm:ss[.frac]
 *   utc-range   = "clock" "=" utc-time "-" [ utc-time ]     ; 19961108T143720.25Z
 *   smpte-range = smpte-type "=" smpte-time "-" [ smpte-time ] ; hh:mm:ss[:frames[.subframes]]
 * Times come back in seconds: NPT from the start of the presentation, clock as Unix time,
 * SMPTE from 00:00:00:00 at the type's frame rate.
 */
import { ProtocolError } from '../../errors.js'

export type RangeUnit = 'npt' | 'clock' | 'smpte'

export interface RangeHeader {
  unit: RangeUnit
  start?: number | 'now'
  end?: number
}

/** Lenient: spaces, upper-case units and a trailing `;time=` parameter are accepted. */
export function parseRange(value: string): RangeHeader {
  const spec = (value.split(';')[0] ?? '').trim()
  const eq = spec.indexOf('=')
  if (eq === -1) throw bad(value)
  const type = spec.slice(0, eq).trim().toLowerCase()
  const times = spec.slice(eq + 1).trim()
  const dash = times.indexOf('-')
  if (dash === -1) throw bad(value)
  const from = times.slice(0, dash).trim()
  const to = times.slice(dash + 1).trim()
  let unit: RangeUnit
  let parse: (s: string) => number | undefined
  if (type === 'npt') {
    unit = 'npt'
    parse = parseNpt
  } else if (type === 'clock') {
    unit = 'clock'
    parse = parseClock
  } else if (type === 'smpte' || type === 'smpte-30-drop' || type === 'smpte-25') {
    unit = 'smpte'
    // §3.5: "smpte" is 30 fps; "smpte-30-drop" is 29.97 fps.
    const fps = type === 'smpte-25' ? 25 : type === 'smpte-30-drop' ? 30000 / 1001 : 30
    parse = (s) => parseSmpte(s, fps)
  } else {
    throw bad(value)
  }
  const out: RangeHeader = { unit }
  if (from !== '') {
    if (unit === 'npt' && from.toLowerCase() === 'now') out.start = 'now'
    else {
      const t = parse(from)
      if (t === undefined) throw bad(value)
      out.start = t
    }
  }
  if (to !== '') {
    const t = parse(to)
    if (t === undefined) throw bad(value)
    out.end = t
  }
  if (out.start === undefined && out.end === undefined) throw bad(value)
  return out
}

function bad(value: string): ProtocolError {
  return new ProtocolError(`invalid Range header ${JSON.stringify(value)}; expected e.g. npt=0.000- or npt=now-`)
}

function parseNpt(s: string): number | undefined {
  // npt-sec = 1*DIGIT [ "." *DIGIT ]  (also ".5", which some servers write)
  if (/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(s)) return Number(s.endsWith('.') ? s.slice(0, -1) : s)
  // npt-hhmmss = npt-hh ":" npt-mm ":" npt-ss [ "." *DIGIT ]
  const m = /^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d*)?)$/.exec(s)
  if (m === null) return undefined
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]!.replace(/\.$/, ''))
}

function parseClock(s: string): number | undefined {
  // utc-time = utc-date "T" utc-time "Z"  (19961108T143720.25Z)
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/i.exec(s)
  if (m === null) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return ms / 1000 + (m[7] === undefined ? 0 : Number(m[7]))
}

function parseSmpte(s: string, fps: number): number | undefined {
  const m = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,2}))?)?$/.exec(s)
  if (m === null) return undefined
  const frames = Number(m[4] ?? 0) + Number(m[5] ?? 0) / 100
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) + frames / fps
}

/** Format a Range for PLAY: `npt=0.000-`, `npt=now-`, `npt=1.500-10.000`, `clock=19961108T143720Z-`. */
export function formatRange(range: RangeHeader): string {
  const fmt = (t: number): string => {
    if (range.unit === 'clock') {
      const iso = new Date(t * 1000).toISOString() // 1996-11-08T14:37:20.250Z
      const [date = '', time = ''] = iso.replace(/\.000Z$/, 'Z').split('T')
      return `${date.replace(/-/g, '')}T${time.replace(/:/g, '')}`
    }
    if (range.unit === 'smpte') {
      const h = Math.floor(t / 3600)
      const m = Math.floor((t % 3600) / 60)
      const sec = Math.floor(t % 60)
      return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    }
    return t.toFixed(3)
  }
  const start = range.start === undefined ? '' : range.start === 'now' ? 'now' : fmt(range.start)
  const end = range.end === undefined ? '' : fmt(range.end)
  return `${range.unit}=${start}-${end}`
}
