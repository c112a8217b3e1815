/**
 * `rtspkit -v` / `-vv`: subscribe to the library's diagnostics channels and print them on
 * stderr. Messages arrive redacted (src/diagnostics.ts), so nothing here strips secrets.
 *   -v   requests and replies with headers, transport choices, session states (reconnects
 *        included), RTP losses, the server's requests, replies and sessions
 *   -vv  also SDP and other bodies, and per-second RTP counters (RTCP totals) of each session
 */
import diagnosticsChannel from 'node:diagnostics_channel'
import { DIAGNOSTICS_CHANNELS } from '../diagnostics.js'
import type {
  ClientRequestMessage,
  ClientResponseMessage,
  ClientSessionStateMessage,
  ClientTrackLossMessage,
  ClientTransportChangeMessage,
  DiagnosticHeaders,
  ServerRequestMessage,
  ServerResponseMessage,
  ServerSessionMessage,
} from '../diagnostics.js'

type Write = (line: string) => void

function headerLines(headers: DiagnosticHeaders): string {
  let s = ''
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) s += `\n    ${name}: ${v}`
  }
  return s
}

function bodyLines(level: number, body: string | undefined, length: number): string {
  if (length === 0) return ''
  if (level < 2 || body === undefined) return `\n    (${length} byte body)`
  return `\n${body
    .replace(/\r?\n$/, '')
    .split(/\r?\n/)
    .map((l) => `    | ${l}`)
    .join('\n')}`
}

/** Counters that grow (per second) and ones that are a level, from TrackStats or PushStats. */
function rateLine(index: number, now: Record<string, number>, before: Record<string, number> | undefined, seconds: number): string {
  const delta = (k: string) => ((now[k] ?? 0) - (before?.[k] ?? 0)) / seconds
  const parts: string[] = []
  if ('packetsReceived' in now) {
    parts.push(`${delta('packetsReceived').toFixed(0)} pkt/s`, `${((delta('bytesReceived') * 8) / 1000).toFixed(0)} kbit/s`)
    parts.push(`${delta('framesReceived').toFixed(0)} frames/s`, `lost ${now.packetsLost ?? 0}`, `dropped ${now.framesDropped ?? 0}`)
    parts.push(`jitter ${((now.jitter ?? 0) * 1000).toFixed(1)} ms`)
    parts.push(`RTCP in ${now.rtcpPacketsReceived ?? 0}, out ${now.rtcpPacketsSent ?? 0}`)
  } else {
    parts.push(`${delta('packetsSent').toFixed(0)} pkt/s`, `${((delta('bytesSent') * 8) / 1000).toFixed(0)} kbit/s`)
    parts.push(`${delta('framesSent').toFixed(0)} frames/s`, `dropped ${now.framesDropped ?? 0}`)
  }
  return `track ${index}: ${parts.join(', ')}`
}

/**
 * Print diagnostics at `level` (1: -v, 2: -vv) with `write` (one call per event, no
 * trailing newline). Returns a function that unsubscribes and stops the counters.
 */
export function enableVerbose(level: number, write: Write = (l) => process.stderr.write(`${l}\n`)): () => void {
  const subscriptions: Array<[string, (msg: unknown) => void]> = []
  const on = <T>(name: string, fn: (msg: T) => void) => subscriptions.push([name, fn as (msg: unknown) => void])
  const counters = new Map<number, NodeJS.Timeout>()

  on<ClientRequestMessage>(DIAGNOSTICS_CHANNELS.clientRequest, (m) => {
    write(`rtspkit: [#${m.connectionId}] > ${m.method} ${m.url}${headerLines(m.headers)}${bodyLines(level, m.body, m.bodyLength)}`)
  })
  on<ClientResponseMessage>(DIAGNOSTICS_CHANNELS.clientResponse, (m) => {
    const head = `rtspkit: [#${m.connectionId}] < ${m.status} ${m.reason} (${m.method}, ${m.durationMs} ms)`
    write(`${head}${headerLines(m.headers)}${bodyLines(level, m.body, m.bodyLength)}`)
  })
  on<ClientTransportChangeMessage>(DIAGNOSTICS_CHANNELS.clientTransportChange, (m) => {
    write(`rtspkit: session ${m.sessionId}: transport ${m.from === undefined ? '' : `${m.from} -> `}${m.to} (${m.reason})`)
  })
  on<ClientTrackLossMessage>(DIAGNOSTICS_CHANNELS.clientTrackLoss, (m) => {
    write(`rtspkit: session ${m.sessionId}: track ${m.trackIndex} (${m.codec}) lost ${m.lost} RTP packets before #${m.sequenceNumber}`)
  })
  on<ClientSessionStateMessage>(DIAGNOSTICS_CHANNELS.clientSessionState, (m) => {
    write(`rtspkit: ${m.kind} ${m.sessionId} ${m.url}: ${m.from} -> ${m.to}${m.reason === undefined ? '' : ` (${m.reason})`}`)
    if (level < 2) return
    if ((m.to === 'playing' || m.to === 'recording') && m.stats !== undefined && !counters.has(m.sessionId)) {
      const stats = m.stats
      let before: Array<Record<string, number>> = []
      let at = performance.now()
      const timer = setInterval(() => {
        const now = stats() as Array<Record<string, number>>
        const t = performance.now()
        const seconds = Math.max((t - at) / 1000, 0.001)
        now.forEach((s, i) => write(`rtspkit: ${m.kind} ${m.sessionId} ${rateLine(i, s, before[i], seconds)}`))
        before = now
        at = t
      }, 1000)
      timer.unref()
      counters.set(m.sessionId, timer)
    } else if (m.to === 'closing' || m.to === 'closed') {
      clearInterval(counters.get(m.sessionId))
      counters.delete(m.sessionId)
    }
  })
  on<ServerRequestMessage>(DIAGNOSTICS_CHANNELS.serverRequest, (m) => {
    const from = `${m.remoteAddress}:${m.remotePort}`
    write(`rtspkit: server [${from}] < ${m.method} ${m.url}${headerLines(m.headers)}${bodyLines(level, m.body, m.bodyLength)}`)
  })
  on<ServerResponseMessage>(DIAGNOSTICS_CHANNELS.serverResponse, (m) => {
    const to = `${m.remoteAddress}:${m.remotePort}`
    write(`rtspkit: server [${to}] > ${m.status} ${m.reason} (${m.method})${headerLines(m.headers)}${bodyLines(level, m.body, m.bodyLength)}`)
  })
  on<ServerSessionMessage>(DIAGNOSTICS_CHANNELS.serverSession, (m) => {
    const how = `${m.role} of /${m.path} from ${m.remoteAddress} over ${m.transport ?? '?'}`
    write(`rtspkit: server session ${m.sessionId} ${m.event === 'open' ? 'opened' : 'closed'}: ${how}${m.reason === undefined ? '' : ` (${m.reason})`}`)
  })

  for (const [name, fn] of subscriptions) diagnosticsChannel.subscribe(name, fn)
  return () => {
    for (const [name, fn] of subscriptions) diagnosticsChannel.unsubscribe(name, fn)
    for (const timer of counters.values()) clearInterval(timer)
    counters.clear()
  }
}
