/** `10m`, `7d`, `50GB` as they appear on the command line and in the serve config. */
import { InvalidArgumentError } from '../errors.js'

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }

/** Seconds from `500ms`, `10s`, `10m`, `1.5h`, `7d`, `2w` or a bare number of seconds. */
export function parseDuration(what: string, v: string | number): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v > 0) return v
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$/i.exec(v)
    if (m) {
      const n = Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()]!
      if (n > 0) return n
    }
  }
  throw new InvalidArgumentError(`${what} must be a positive duration such as 10s, 10m, 1h or 7d, not "${String(v)}"`)
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
}

/** Bytes from `50GB` (10^9), `512MiB` (2^20), `1.5TB` or a bare number of bytes. */
export function parseSize(what: string, v: string | number): number {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && v > 0) return Math.floor(v)
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(v)
    if (m) {
      const n = Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!)
      if (n > 0) return n
    }
  }
  throw new InvalidArgumentError(`${what} must be a positive size such as 500MB, 50GB or 1TiB, not "${String(v)}"`)
}
