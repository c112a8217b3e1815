/**
 * `rtspkit serve --config rtspkit.yml`: paths, sources, recordings and users from a file
 * (src/config); SIGHUP reloads it, restarting only the paths whose source or recording
 * changed. A config that does not parse on reload is reported and the running one kept.
 */
import { readFile } from 'node:fs/promises'
import { RtspServer } from '../server/server.js'
import type { RtspServerOptions } from '../server/server.js'
import type { TransportChoice } from '../client/client.js'
import { ConfigServer } from '../config/config-server.js'
import type { ApplyResult } from '../config/config-server.js'
import { parseServeConfig } from '../config/serve-config.js'
import type { ServeConfig } from '../config/serve-config.js'
import { InvalidArgumentError } from '../errors.js'
import { redactUrl } from '../util/url.js'
import { withSignals } from './common.js'
import { extraLines } from './serve-options.js'
import { startWebServer } from './view.js'
import type { WebServer } from './view.js'

export interface ServeConfigOptions {
  file: string
  /** Command-line --host/--port, which win over the file's server: block. */
  host: string | undefined
  port: number | undefined
  sessionTimeoutS: number
  pullTransport: TransportChoice
  quiet: boolean
  /** --multicast, --http-tunnel-port. */
  server?: Pick<RtspServerOptions, 'multicast' | 'httpTunnelPort'>
  /** --http: the browser live view beside RTSP (same paths and users). */
  http?: { host: string; port: number; allowedOrigins?: string[]; webrtcAddresses?: string[] }
}

export async function loadServeConfig(file: string): Promise<ServeConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new InvalidArgumentError(`cannot read the config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return parseServeConfig(text, file)
}

function describe(r: ApplyResult): string {
  const parts: string[] = []
  if (r.added.length > 0) parts.push(`added ${r.added.join(', ')}`)
  if (r.restarted.length > 0) parts.push(`restarted ${r.restarted.join(', ')}`)
  if (r.removed.length > 0) parts.push(`removed ${r.removed.join(', ')}`)
  if (r.unchanged.length > 0) parts.push(`unchanged ${r.unchanged.join(', ')}`)
  return parts.join('; ')
}

export async function serveConfig(o: ServeConfigOptions): Promise<number> {
  const config = await loadServeConfig(o.file)
  const log = o.quiet ? () => {} : (line: string) => process.stderr.write(`rtspkit serve: ${line}\n`)
  return withSignals(async (signal) => {
    let runner: ConfigServer | undefined
    const server = new RtspServer({
      host: o.host ?? config.host ?? '127.0.0.1',
      port: o.port ?? config.port ?? 8554,
      sessionTimeoutS: o.sessionTimeoutS,
      log,
      ...o.server,
      // The runner is made right below; the hook reads it when a request comes.
      authorize: (ctx) => runner?.authorize(ctx) ?? false,
      // Paths the config opens to everyone (user: any) answer without a login.
      allowAnonymous: (ctx) => runner?.allowAnonymous(ctx) ?? false,
      ...(ConfigServer.needsAuth(config) ? { credentials: [] } : {}),
    })
    runner = new ConfigServer(server, { log, pullTransport: o.pullTransport })
    if (ConfigServer.needsAuth(config)) server.setUsers(runner.credentialsOf(config))
    let web: WebServer | undefined
    let reloading = Promise.resolve()
    const onHup = (): void => {
      reloading = reloading.then(async () => {
        try {
          const next = await loadServeConfig(o.file)
          const r = await runner!.apply(next)
          log(`reloaded ${o.file}: ${describe(r)}`)
          for (const e of r.errors) log(e)
        } catch (err) {
          log(`not reloaded (keeping the running config): ${(err as Error).message}`)
        }
      })
    }
    try {
      await server.listen()
      const r = await runner.apply(config)
      for (const e of r.errors) log(e)
      const base = server.url('').replace(/\/$/, '')
      const lines = [`rtspkit serve: listening on ${base} (config ${o.file})`]
      for (const p of config.paths.values()) {
        const src = p.source === undefined ? 'publish here' : p.source.kind === 'file' ? p.source.file : redactUrl(p.source.url)
        lines.push(`  ${base}/${p.name}  ${src}${p.record !== undefined ? ` (recording to ${p.record.path})` : ''}`)
      }
      lines.push(...extraLines(server, o.server ?? {}))
      if (o.http !== undefined) {
        web = await startWebServer(server, o.http)
        lines.push(`rtspkit serve: watch in a browser at ${web.origin}/`)
      }
      process.stdout.write(lines.join('\n') + '\n')
      process.on('SIGHUP', onHup)
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    } finally {
      process.off('SIGHUP', onHup)
      await reloading
      await web?.close()
      await runner.close()
      await server.close()
    }
    return 0
  })
}
