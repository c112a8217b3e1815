/**
 * strftime-style file names for segments (the subset NVRs use: MediaMTX's recordPath,
 * ffmpeg's segment muxer with -strftime). %f is milliseconds, as in MediaMTX.
 */
import { InvalidArgumentError } from '../errors.js'

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

/** The conversions formatName knows; any other `%x` is refused by checkPattern. */
const CONVERSIONS = new Set(['Y', 'm', 'd', 'H', 'M', 'S', 'f', 'j', 's', 'z', '%'])

/** Throws InvalidArgumentError for an unknown `%x` (a typo would otherwise name every segment alike). */
export function checkPattern(pattern: string): void {
  for (let i = pattern.indexOf('%'); i >= 0; i = pattern.indexOf('%', i + 2)) {
    const c = pattern[i + 1]
    if (c === undefined || !CONVERSIONS.has(c)) {
      throw new InvalidArgumentError(`"%${c ?? ''}" in "${pattern}" is not a known conversion; use %Y %m %d %H %M %S %f (ms) %j %s %z or %%`)
    }
  }
}

/** True when the pattern names each segment differently (it has a time conversion). */
export function hasTimeConversion(pattern: string): boolean {
  return /%[YmdHMSfjs]/.test(pattern.replace(/%%/g, ''))
}

/** `pattern` with its conversions filled from `ms` (local time, or UTC when `utc`). */
export function formatName(pattern: string, ms: number, utc = false): string {
  const d = new Date(ms)
  const Y = utc ? d.getUTCFullYear() : d.getFullYear()
  const mo = utc ? d.getUTCMonth() : d.getMonth()
  const day = utc ? d.getUTCDate() : d.getDate()
  const H = utc ? d.getUTCHours() : d.getHours()
  const M = utc ? d.getUTCMinutes() : d.getMinutes()
  const S = utc ? d.getUTCSeconds() : d.getSeconds()
  const f = utc ? d.getUTCMilliseconds() : d.getMilliseconds()
  const offsetMin = utc ? 0 : -d.getTimezoneOffset()
  return pattern.replace(/%(.)/g, (all, c: string) => {
    switch (c) {
      case 'Y':
        return String(Y)
      case 'm':
        return pad(mo + 1)
      case 'd':
        return pad(day)
      case 'H':
        return pad(H)
      case 'M':
        return pad(M)
      case 'S':
        return pad(S)
      case 'f':
        return pad(f, 3)
      case 'j':
        return pad((Date.UTC(Y, mo, day) - Date.UTC(Y, 0, 1)) / 86_400_000 + 1, 3)
      case 's':
        return String(Math.floor(ms / 1000))
      case 'z':
        return `${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offsetMin) / 60))}${pad(Math.abs(offsetMin) % 60)}`
      case '%':
        return '%'
      default:
        return all
    }
  })
}

/** The directory part of the pattern before its first conversion: where index.jsonl goes. */
export function staticDirectory(pattern: string): string {
  const parts = pattern.split('/')
  const out: string[] = []
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i]!.includes('%')) break
    out.push(parts[i]!)
  }
  if (out.length === 0) return '.'
  const joined = out.join('/')
  return joined === '' ? '/' : joined
}

/** A segment file pattern: known conversions, at least one time conversion, .mp4/.mov/.ts. */
export function checkSegmentPath(pattern: string): void {
  checkPattern(pattern)
  if (!hasTimeConversion(pattern)) {
    throw new InvalidArgumentError(`"${pattern}" has no time conversion, so every segment would get the same name; add one, e.g. rec/cam1/%Y-%m-%d_%H-%M-%S.mp4`)
  }
  if (!/\.(mp4|mov|ts)$/i.test(pattern)) throw new InvalidArgumentError(`segments are written as .mp4, .mov or .ts files, not "${pattern}"`)
}
