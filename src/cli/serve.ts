import { basename } from 'node:path'
import { parseArgs } from 'node:util'
import { RtspServer } from '../server/server.js'
import { extraLines, serverOptions } from './serve-options.js'
import type { StreamTrackInfo } from '../server/stream.js'
import { UsageError, parsePositiveNumber, parseTransport, withSignals } from './common.js'
import { redactUrl } from '../util/url.js'
import { startWebServer } from './view.js'
import type { WebServer } from './view.js'

export const SERVE_USAGE =
  'usage: rtspkit serve [--config rtspkit.yml] [--host 127.0.0.1] [--port 8554] [--user U --password P] [--session-timeout <s>] [--pull-transport auto|tcp|udp] [--http <port> [--http-host 127.0.0.1] [--allow-origin <origin>] [--webrtc-address <ip>]] [--multicast <range, e.g. 239.0.0.0/24> [--multicast-port <first RTP port>]] [--http-tunnel-port <port>] [<path>=<file|rtsp-url> ...]'

/** `H264 + AAC`, for the listing printed at start. */
export function describeTracks(tracks: readonly StreamTrackInfo[]): string {
  return tracks.map((t) => t.codec).join(' + ')
}

export function parsePort(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be 0-65535, not "${v}"`)
  return n
}

/**
 * `rtspkit serve`: serve files as looping live streams and other servers' streams (pulled
 * once, reconnected), take publishers on every other path, until Ctrl-C / SIGTERM. URLs go to stdout, one log line per session to stderr.
 */
export async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', short: 'p' },
      user: { type: 'string' },
      password: { type: 'string' },
      'session-timeout': { type: 'string' },
      'pull-transport': { type: 'string' },
      // rtsp:// sources pulled only while someone watches, closed <s> after the last viewer.
      'on-demand': { type: 'boolean', default: false },
      'close-after': { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
      // The HTTP side (browser live view) on its own port, same process and paths.
      http: { type: 'string' },
      'http-host': { type: 'string', default: '127.0.0.1' },
      'allow-origin': { type: 'string', multiple: true },
      'webrtc-address': { type: 'string', multiple: true },
      // Readers that SETUP with RTP/AVP;multicast share one copy per stream, sent to a group of this range.
      multicast: { type: 'string' },
      'multicast-port': { type: 'string' },
      // RTSP tunnelled in HTTP on a port of its own (it is also accepted on the RTSP port).
      'http-tunnel-port': { type: 'string' },
      // Paths, sources, recordings and users from a YAML/JSON file (src/config); SIGHUP reloads it.
      config: { type: 'string', short: 'c' },
    },
  })
  const httpPort = values.http === undefined ? undefined : Number(values.http)
  if (httpPort !== undefined && !(Number.isInteger(httpPort) && httpPort >= 0 && httpPort <= 65535)) throw new UsageError(`--http must be 0-65535, not "${values.http}"`)
  const serverExtras = serverOptions(values)
  if (values.config !== undefined) {
    if (positionals.length > 0 || values.user !== undefined) {
      throw new UsageError('--config takes paths and users from the file: give no <path>=<source> or --user with it')
    }
    if (values['on-demand'] || values['close-after'] !== undefined) throw new UsageError('--on-demand is for <path>=<rtsp-url> arguments; in a config file set sourceOnDemand: true on the path')
    const { serveConfig } = await import('./serve-config.js')
    return serveConfig({
      file: values.config,
      host: argv.some((a) => a === '--host' || a.startsWith('--host=')) ? values.host : undefined,
      port: values.port === undefined ? undefined : parsePort(values.port, 8554),
      sessionTimeoutS: parsePositiveNumber('--session-timeout', values['session-timeout'], 60),
      pullTransport: parseTransport(values['pull-transport']),
      quiet: values.quiet,
      server: serverExtras,
      ...(httpPort !== undefined
        ? {
            http: {
              host: values['http-host'],
              port: httpPort,
              ...(values['allow-origin'] !== undefined ? { allowedOrigins: values['allow-origin'] } : {}),
              ...(values['webrtc-address'] !== undefined ? { webrtcAddresses: values['webrtc-address'] } : {}),
            },
          }
        : {}),
    })
  }
  const port = parsePort(values.port, 8554)
  // The password may come from the environment so it stays out of `ps`.
  const password = values.password ?? process.env.RTSPKIT_PASSWORD
  if ((values.user === undefined) !== (password === undefined)) {
    throw new UsageError('--user and --password go together (the password may also come from RTSPKIT_PASSWORD)')
  }
  const files = positionals.map((arg) => {
    const eq = arg.indexOf('=')
    if (eq <= 0 || eq === arg.length - 1) throw new UsageError(`"${arg}" is not <path>=<file>; e.g. cam=clip.mp4\n${SERVE_USAGE}`)
    return { path: arg.slice(0, eq), file: arg.slice(eq + 1) }
  })
  const pullTransport = parseTransport(values['pull-transport'])
  if (values['close-after'] !== undefined && !values['on-demand']) throw new UsageError('--close-after goes with --on-demand')
  const closeAfterMs = parsePositiveNumber('--close-after', values['close-after'], 10) * 1000
  const sessionTimeoutS = parsePositiveNumber('--session-timeout', values['session-timeout'], 60)
  const log = values.quiet ? undefined : (line: string) => process.stderr.write(`rtspkit serve: ${line}\n`)

  return withSignals(async (signal) => {
    const server = new RtspServer({
      host: values.host,
      port,
      sessionTimeoutS,
      log,
      ...serverExtras,
      ...(values.user !== undefined && password !== undefined ? { credentials: { username: values.user, password } } : {}),
    })
    let web: WebServer | undefined
    try {
      const lines: string[] = []
      for (const { path, file } of files) {
        if (/^rtsps?:\/\//i.test(file) && values['on-demand']) {
          // Connected by the first viewer (RTSP or browser), closed closeAfterMs after the last.
          await server.addPull(path, file, { transport: pullTransport, timeoutMs: 10_000, readTimeoutMs: 10_000, onDemand: true, closeAfterMs })
          lines.push(`  ${'{url}'}/${path.replace(/^\/+|\/+$/g, '')}  ${redactUrl(file)} (relayed on demand, closed ${closeAfterMs / 1000} s after the last viewer)`)
          continue
        }
        if (/^rtsps?:\/\//i.test(file)) {
          // Another server's stream (a camera): pulled once, reconnected, served to every reader here.
          const { publisher, skipped } = await server.addPull(path, file, { transport: pullTransport, timeoutMs: 10_000, readTimeoutMs: 10_000 })
          const note = skipped.length > 0 ? `; not forwarded: ${skipped.join(', ')}` : ''
          lines.push(`  ${'{url}'}/${publisher.stream.path}  ${redactUrl(file)} (${describeTracks(publisher.tracks)}, relayed${note})`)
          continue
        }
        const pub = await server.addFile(path, file)
        lines.push(`  ${'{url}'}/${pub.stream.path}  ${basename(file)} (${describeTracks(pub.tracks)}, looped)`)
      }
      await server.listen()
      const base = server.url('').replace(/\/$/, '')
      const out = [`rtspkit serve: listening on ${base}${values.user !== undefined ? ` (user ${values.user})` : ''}`]
      for (const l of lines) out.push(l.replace('{url}', base))
      out.push(`  publish to any other path, e.g.: rtspkit push clip.mp4 ${base}/live`)
      out.push(...extraLines(server, serverExtras))
      if (httpPort !== undefined) {
        web = await startWebServer(server, {
          host: values['http-host'],
          port: httpPort,
          ...(values['allow-origin'] !== undefined ? { allowedOrigins: values['allow-origin'] } : {}),
          ...(values['webrtc-address'] !== undefined ? { webrtcAddresses: values['webrtc-address'] } : {}),
        })
        out.push(`rtspkit serve: watch in a browser at ${web.origin}/`)
      }
      process.stdout.write(out.join('\n') + '\n')
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    } finally {
      await web?.close()
      await server.close()
    }
    return 0
  })
}
