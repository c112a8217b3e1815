/** `rtspkit serve` options that go to RtspServer as they are: --multicast, --multicast-port, --http-tunnel-port. */
import type { RtspServer, RtspServerOptions } from '../server/server.js'
import { MulticastAddressPool } from '../transport/multicast.js'
import { UsageError } from './common.js'

function parsePort(v: string, option: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${option} must be 0-65535, not "${v}"`)
  return n
}

/** --multicast, --multicast-port and --http-tunnel-port as RtspServer options. */
export function serverOptions(values: { multicast?: string; 'multicast-port'?: string; 'http-tunnel-port'?: string }): Pick<RtspServerOptions, 'multicast' | 'httpTunnelPort'> {
  const out: Pick<RtspServerOptions, 'multicast' | 'httpTunnelPort'> = {}
  if (values['multicast-port'] !== undefined && values.multicast === undefined) throw new UsageError('--multicast-port goes with --multicast')
  if (values.multicast !== undefined) {
    const port = values['multicast-port'] === undefined ? undefined : Number(values['multicast-port'])
    if (port !== undefined && !(Number.isInteger(port) && port >= 1024 && port <= 65534)) throw new UsageError(`--multicast-port must be 1024-65534, not "${values['multicast-port']}"`)
    try {
      new MulticastAddressPool(values.multicast)
    } catch (err) {
      throw new UsageError(`--multicast: ${(err as Error).message}`)
    }
    out.multicast = { range: values.multicast, ...(port !== undefined ? { port } : {}) }
  }
  if (values['http-tunnel-port'] !== undefined) out.httpTunnelPort = parsePort(values['http-tunnel-port'], '--http-tunnel-port')
  return out
}

/** The start-up lines for --multicast and --http-tunnel-port. */
export function extraLines(server: RtspServer, extras: Pick<RtspServerOptions, 'multicast' | 'httpTunnelPort'>): string[] {
  const lines: string[] = []
  const m = extras.multicast
  if (m !== undefined && typeof m !== 'string') lines.push(`  multicast readers (Transport RTP/AVP;multicast) share one copy per stream, sent to a group of ${m.range}`)
  const tunnel = server.httpTunnelPort
  if (tunnel !== undefined) lines.push(`rtspkit serve: RTSP over HTTP on ${server.url('').replace(/:\d+\/$/, `:${tunnel}`)} (and on the RTSP port)`)
  return lines
}

