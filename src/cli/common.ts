import { RtspError, InvalidArgumentError } from '../errors.js'
import { readFileSync } from 'node:fs'
import type { TransportChoice } from '../client/client.js'
import type { TlsOptions } from '../client/connection.js'

export const USAGE = `rtspkit — RTSP toolkit

Usage:
  rtspkit demo [-o demo.mp4] [--duration <s>]
               serve the bundled clip, pull it over TCP and UDP, record it
  rtspkit probe <url> [--transport auto|tcp|udp] [--timeout <ms>] [--json]
  rtspkit pull <url> -o <file|-> [--format mp4|mov|ts|h264|h265|mjpeg|aac] [--duration <s>]
               [--transport auto|tcp|udp] [--timeout <ms>] [--reconnect] [--quiet]
  rtspkit push <file.mp4|.mov|.ts> <url> [--transport tcp|udp] [--loop] [--duration <s>]
               [--no-realtime] [--timeout <ms>] [--quiet]
  rtspkit relay <src-url> <dst-url> [--transport tcp|udp] [--src-transport auto|tcp|udp]
               [--duration <s>] [--timeout <ms>] [--reconnect] [--quiet]
  rtspkit serve [--host 127.0.0.1] [--port 8554] [--user U --password P]
               [--session-timeout <s>] [--pull-transport auto|tcp|udp] [--quiet]
               [<path>=<file|rtsp-url> ...]
               serve files and cameras as live streams; publishers may push to any other path

Connection options (probe, pull):
  --transport auto|tcp|udp   auto (default) tries UDP, then falls back to TCP
  --timeout <ms>             handshake, reply and media timeout (default 10000)
  --ca <file>                rtsps://: trust this CA certificate (PEM)
  --insecure                 rtsps://: do not verify the server certificate

  rtspkit --version | --help

Credentials go in the URL: rtsp://user:password@host:554/path
`

/** Thrown for bad command-line input: exit status 2. */
export class UsageError extends InvalidArgumentError {}

export function parseTransport(v: string | undefined): TransportChoice {
  if (v === undefined) return 'auto'
  if (v === 'tcp' || v === 'udp' || v === 'auto') return v
  throw new UsageError(`--transport must be auto, tcp or udp, not "${v}"`)
}

/** Options every command that connects shares. */
export const CONNECT_OPTIONS = {
  transport: { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', default: false },
} as const

/** --ca FILE / --insecure for rtsps:// servers. */
export function tlsOptions(values: { ca?: string; insecure?: boolean }): TlsOptions | undefined {
  if (values.ca === undefined && !values.insecure) return undefined
  let ca: Buffer | undefined
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca)
    } catch (err) {
      throw new UsageError(`cannot read --ca ${values.ca}: ${(err as Error).message}`)
    }
  }
  return { ca, rejectUnauthorized: !values.insecure }
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
