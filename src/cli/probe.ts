import { parseArgs } from 'node:util'
import { RtspClient } from '../client/client.js'
import type { PullSession } from '../client/pull-session.js'
import type { Track } from '../client/track.js'
import { TimeoutError } from '../errors.js'
import { redactUrl } from '../util/url.js'
import { UsageError, checkRtspUrl, parsePositiveNumber, parseTransport, proxyOption, tlsOptions, withSignals, CONNECT_OPTIONS } from './common.js'

export interface ProbeTrack {
  type: string
  codec: string
  clockRate: number
  payloadType: number
  control: string
  width?: number
  height?: number
  profile?: string
  level?: string
  /** H.265: 'Main' or 'High'. */
  tier?: string
  codecString?: string
  sampleRate?: number
  channels?: number
  transport: string
}

export interface ProbeResult {
  url: string
  server: string | null
  tracks: ProbeTrack[]
  skipped: Array<{ type: string; codec: string }>
}

export function describeTrack(t: Track): ProbeTrack {
  const d = t.details
  const out: ProbeTrack = {
    type: t.type,
    codec: t.codec,
    clockRate: t.clockRate,
    payloadType: t.payloadType,
    control: t.control,
    transport: t.transport.protocol,
  }
  if (t.type === 'video') {
    if (d.width !== undefined) out.width = d.width
    if (d.height !== undefined) out.height = d.height
    if (d.profile !== undefined) out.profile = d.profile
    if (d.level !== undefined) out.level = d.level
    if (d.tier !== undefined) out.tier = d.tier
  } else if (t.type === 'audio') {
    const sampleRate = d.sampleRate ?? t.clockRate
    out.sampleRate = sampleRate
    const channels = d.channels ?? t.channels
    if (channels !== undefined) out.channels = channels
  }
  if (d.codecString !== undefined) out.codecString = d.codecString
  return out
}

/** Wait for the first video key frame (or the first frame of an audio-only stream). */
function firstKeyFrame(session: PullSession, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const hasVideo = session.tracks.some((t) => t.type === 'video')
  return new Promise<void>((resolve, reject) => {
    const done = (err?: unknown) => {
      clearTimeout(timer)
      session.off('frame', onFrame)
      session.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onFrame = (f: { keyFrame: boolean; track: Track }) => {
      if (!hasVideo || (f.keyFrame && f.track.type === 'video')) done()
    }
    const onClose = (err: unknown) => done(err ?? new TimeoutError({ phase: 'media', timeoutMs }))
    const onAbort = () => done()
    const timer = setTimeout(
      () => done(new TimeoutError({ phase: 'media', timeoutMs, detail: hasVideo ? '(waiting for the first key frame)' : '' })),
      timeoutMs,
    )
    session.on('frame', onFrame)
    session.on('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

export async function probe(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CONNECT_OPTIONS,
      json: { type: 'boolean', default: false },
    },
  })
  const url = positionals[0]
  if (url === undefined || positionals.length > 1) throw new UsageError('usage: rtspkit probe <url> [--transport tcp|udp] [--timeout <ms>] [--json]')
  checkRtspUrl('the url', url)
  const transport = parseTransport(values.transport)
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)

  return withSignals(async (signal) => {
    const client = new RtspClient({ transport, timeoutMs, readTimeoutMs: timeoutMs, tls: tlsOptions(values), ...proxyOption(values) })
    const session = await client.pull(url, { signal })
    try {
      await firstKeyFrame(session, timeoutMs, signal)
    } finally {
      await session.close()
    }
    const result: ProbeResult = {
      url: redactUrl(url),
      server: session.server ?? null,
      tracks: session.tracks.map(describeTrack),
      skipped: session.skippedMedia,
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`)
    } else {
      process.stdout.write(formatProbe(result))
    }
    return 0
  })
}

export function formatProbe(r: ProbeResult): string {
  const lines = [`url:    ${r.url}`, `server: ${r.server ?? '(not given)'}`]
  for (const [i, t] of r.tracks.entries()) {
    let detail = ''
    if (t.type === 'video') {
      const size = t.width !== undefined ? `${t.width}x${t.height}` : 'size unknown'
      detail = `${size}${t.profile ? `, ${t.profile}` : ''}${t.level ? ` @ level ${t.level}` : ''}`
    } else if (t.type === 'audio') {
      detail = `${t.sampleRate} Hz${t.channels !== undefined ? `, ${t.channels} ch` : ''}`
    }
    lines.push(`track ${i}: ${t.type} ${t.codec} (pt ${t.payloadType}, ${t.clockRate} Hz clock, ${t.transport})${detail ? ` — ${detail}` : ''}`)
    lines.push(`         ${t.control}`)
  }
  for (const s of r.skipped) lines.push(`skipped: ${s.type} ${s.codec} (not supported)`)
  return `${lines.join('\n')}\n`
}
