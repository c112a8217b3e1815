import { RtspError, InvalidArgumentError } from '../errors.js'
import type { TransportProtocol } from '../client/pull-session.js'

export const USAGE = `rtspkit — RTSP toolkit

Usage:
  rtspkit probe <url> [--transport tcp|udp] [--timeout <ms>] [--json]
  rtspkit pull <url> -o <file|-> [--format mp4|ts|h264] [--duration <s>]
               [--transport tcp|udp] [--timeout <ms>] [--quiet]
  rtspkit --version | --help

Credentials go in the URL: rtsp://user:password@host:554/path
`

/** Thrown for bad command-line input: exit status 2. */
export class UsageError extends InvalidArgumentError {}

export function parseTransport(v: string | undefined): TransportProtocol {
  if (v === undefined) return 'tcp'
  if (v === 'tcp' || v === 'udp') return v
  throw new UsageError(`--transport must be tcp or udp, not "${v}"`)
}

export function parsePositiveNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, not "${v}"`)
  return n
}

/** One line, `rtspkit:` first, never a password (errors carry redacted URLs only). */
export function formatError(err: unknown): string {
  if (err instanceof RtspError) return `rtspkit: ${err.message}`
  if (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    return `rtspkit: ${err.message.split('\n')[0]}; see rtspkit --help`
  }
  if (err instanceof Error) return `rtspkit: internal error: ${err.message.split('\n')[0]}`
  return `rtspkit: internal error: ${String(err)}`
}

/** Run `fn` with an AbortSignal that fires on SIGINT/SIGTERM; the handlers are removed afterwards. */
export async function withSignals<T>(fn: (signal: AbortSignal, stopped: () => boolean) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      // Second Ctrl-C: give up on a clean stop.
      process.exit(sig === 'SIGINT' ? 130 : 143)
    }
    ac.abort(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await fn(ac.signal, () => ac.signal.aborted)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`
}

export function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond < 1e3) return `${bitsPerSecond.toFixed(0)} bit/s`
  if (bitsPerSecond < 1e6) return `${(bitsPerSecond / 1e3).toFixed(0)} kbit/s`
  return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`
}
