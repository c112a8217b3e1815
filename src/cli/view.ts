/**
 * `rtspkit view <rtsp-url>`: watch one camera in the browser. The embedded server pulls the
 * camera on demand (first viewer, browser or RTSP; closed a while after the last) and its HTTP side
 * serves the player page; the command prints the page's URL (`--open` opens it).
 * Also the HTTP side helpers of `serve --http` and `demo --web`.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isIPv6 } from 'node:net'
import { parseArgs } from 'node:util'
import { BindError, InvalidArgumentError } from '../errors.js'
import type { LiveTrack } from '../http/live-media.js'
import { RtspServer } from '../server/server.js'
import { redactUrl } from '../util/url.js'
import { UsageError, parsePositiveNumber, parseTransport, withSignals } from './common.js'

export interface WebServer {
  /** `http://host:port` */
  origin: string
  close(): Promise<void>
}

/** Serve `server`'s HTTP side on `host:port` (a plain Node http server). */
export async function startWebServer(server: RtspServer, opts: { host: string; port: number; allowedOrigins?: string[]; webrtcAddresses?: string[] }): Promise<WebServer> {
  const sideOptions = {
    ...(opts.allowedOrigins !== undefined ? { allowedOrigins: opts.allowedOrigins } : {}),
    ...(opts.webrtcAddresses !== undefined ? { webrtcAddresses: opts.webrtcAddresses } : {}),
  }
  const http = createServer(server.httpHandler(sideOptions))
  http.on('upgrade', server.upgradeHandler())
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BindError({ protocol: 'tcp', host: opts.host, port: opts.port, reason: err.code ?? err.message, hint: 'choose another --http port (0 picks a free one)', cause: err })),
    )
    http.listen(opts.port, opts.host, () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  const shown = opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host === '::' ? '[::1]' : isIPv6(opts.host) ? `[${opts.host}]` : opts.host
  return {
    origin: `http://${shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections()
        http.close(() => resolve())
      }),
  }
}

/** Open `url` in the default browser; a failure is reported, never fatal. */
export function openBrowser(url: string, say: (line: string) => void): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true })
  child.on('error', () => say(`could not run ${cmd}; open ${url} yourself`))
  child.unref()
}

/** A port option (0-65535); `fallback` when absent. */
function parsePort(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${name} must be 0-65535, not "${v}"`)
  return n
}

function trackLine(t: LiveTrack): string {
  const d = t.details
  return t.type === 'video' ? `${t.codec}${d.width !== undefined ? ` ${d.width}x${d.height}` : ''}` : `${t.codec} ${d.sampleRate ?? t.clockRate} Hz`
}

export async function view(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      http: { type: 'string' },
      'http-host': { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', short: 'p' },
      open: { type: 'boolean', default: false },
      path: { type: 'string', default: 'cam' },
      linger: { type: 'string' },
      transport: { type: 'string' },
      timeout: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'webrtc-address': { type: 'string', multiple: true },
      quiet: { type: 'boolean', short: 'q', default: false },
    },
  })
  const url = positionals[0]
  if (url === undefined || positionals.length > 1 || !/^rtsps?:\/\//i.test(url)) throw new UsageError('rtspkit view needs one rtsp:// URL, e.g. rtspkit view rtsp://admin:pw@192.168.1.64/stream1; see rtspkit view --help')
  const path = values.path.replace(/^\/+|\/+$/g, '')
  if (path === '' || !/^[\w.\-/]+$/.test(path)) throw new UsageError(`--path must be a simple path such as cam or cams/front, not "${values.path}"`)
  const httpPort = parsePort('--http', values.http, 8080)
  const rtspPort = parsePort('--port', values.port, 0)
  const lingerS = parsePositiveNumber('--linger', values.linger, 10)
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)
  const transport = parseTransport(values.transport)
  const password = values.password ?? process.env.RTSPKIT_PASSWORD
  if ((values.user === undefined) !== (password === undefined)) throw new UsageError('--user and --password go together (the password may also come from RTSPKIT_PASSWORD)')
  const say = (line: string) => {
    if (!values.quiet) process.stderr.write(`rtspkit view: ${line}\n`)
  }

  return withSignals(async (signal) => {
    const server = new RtspServer({
      port: rtspPort,
      ...(values.user !== undefined && password !== undefined ? { credentials: { username: values.user, password } } : {}),
      log: values.quiet ? undefined : (line) => say(line),
    })
    let web: WebServer | undefined
    try {
      await server.listen()
      const hub = server.httpSide({ lingerMs: lingerS * 1000 }).hub
      await server.addPull(path, url, { transport, timeoutMs, readTimeoutMs: timeoutMs, onDemand: true, closeAfterMs: lingerS * 1000 })
      // Open the camera once now: a wrong URL or password is reported here, not in the page.
      const media = hub.media(path)!
      const tracks = await new Promise<readonly LiveTrack[]>((resolve, reject) => {
        const stop = media.subscribe({
          frame: () => {},
          tracksChanged: () => {
            resolve(media.tracks())
            stop()
          },
          end: (err) => reject(err ?? new InvalidArgumentError(`${redactUrl(url)} ended at once`)),
        })
      })
      web = await startWebServer(server, {
        host: values['http-host'],
        port: httpPort,
        ...(values['allow-origin'] !== undefined ? { allowedOrigins: values['allow-origin'] } : {}),
        ...(values['webrtc-address'] !== undefined ? { webrtcAddresses: values['webrtc-address'] } : {}),
      })
      const page = `${web.origin}/${path}/`
      say(`${redactUrl(url)}: ${tracks.map(trackLine).join(' + ')}`)
      say(`also on RTSP at ${server.url(path)}`)
      process.stdout.write(`${page}\n`)
      if (values.open) openBrowser(page, say)
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    } finally {
      await web?.close()
      await server.close()
    }
    return 0
  })
}
