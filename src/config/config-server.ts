/**
 * Runs a ServeConfig on an RtspServer through its public API: each path's source (addFile,
 * addPull), its recording (a segmented recorder reading the server's own stream of that path
 * over loopback, so files, pulled cameras and publishers are recorded alike), and its users
 * (the server's `authorize` hook). `apply()` again with a new config (SIGHUP) touches only
 * the paths whose source or recording changed; users apply at once.
 *
 * Logins (the rule in serve-config.ts): no users, no logins. Once a user is named every path
 * asks for one (one realm, server-wide): a path's own users may use that path, top-level
 * users every path, each for its actions. `user: any` opens a path (top level: every path)
 * to everyone for its actions, without a login; nothing else does. A path that no one may
 * read is reported when the config is applied.
 */
import { randomBytes } from 'node:crypto'
import { RtspClient } from '../client/client.js'
import type { TransportChoice } from '../client/client.js'
import type { RtspServer, AuthorizeContext } from '../server/server.js'
import type { StreamPublisher } from '../server/stream.js'
import { createSegmentedRecorder } from '../record/segmented-recorder.js'
import type { SegmentedRecorder } from '../record/segmented-recorder.js'
import { redactUrl } from '../util/url.js'
import { ANY_USER } from './serve-config.js'
import type { ConfigUser, PathConfig, ServeConfig } from './serve-config.js'

export interface ConfigServerOptions {
  log?: (line: string) => void
  /** How pulled sources are fetched. Default auto. */
  pullTransport?: TransportChoice
  /** How long a recording waits before trying again when its path has no stream yet (ms). Default 2000. */
  recordRetryMs?: number
}

interface RunningPath {
  config: PathConfig
  /** What decides a restart: source and record settings (users apply without one). */
  key: string
  publisher: StreamPublisher | undefined
  recording: { stop(): Promise<void> } | undefined
  /** Frees an on-demand path (it has no publisher while no one watches). */
  remove?: () => void
}

export interface ApplyResult {
  added: string[]
  removed: string[]
  restarted: string[]
  unchanged: string[]
  /** Problems that did not stop the rest (a source that cannot be opened...). */
  errors: string[]
}

export class ConfigServer {
  private config: ServeConfig | undefined
  private readonly running = new Map<string, RunningPath>()
  private readonly log: (line: string) => void
  /** The server's own reader for recordings, when the server asks for a login. */
  private readonly recorderUser = { username: `rtspkit-recorder-${randomBytes(4).toString('hex')}`, password: randomBytes(18).toString('base64url') }
  private closed = false

  constructor(
    private readonly server: RtspServer,
    private readonly options: ConfigServerOptions = {},
  ) {
    this.log = options.log ?? (() => {})
  }

  /**
   * Whether a config has users (`any` included), so asks for logins (then the server must be
   * created with `credentialsOf(config)`; `any` goes through allowAnonymous).
   */
  static needsAuth(config: ServeConfig): boolean {
    return allUsers(config).length > 0
  }

  /** Every user the server must know (not `any`), the recorder's own reader included. */
  credentialsOf(config: ServeConfig): Array<{ username: string; password: string }> {
    const all = new Map<string, string>()
    for (const u of allUsers(config)) if (u.user !== ANY_USER) all.set(u.user, u.password)
    all.set(this.recorderUser.username, this.recorderUser.password)
    return [...all].map(([username, password]) => ({ username, password }))
  }

  /** The server's `authorize` hook: `user` undefined is a request without a login. */
  readonly authorize = (ctx: Pick<AuthorizeContext, 'path' | 'action' | 'user'>): boolean => {
    const config = this.config
    if (config === undefined) return false
    if (!ConfigServer.needsAuth(config)) return true
    if (ctx.user !== undefined && ctx.user === this.recorderUser.username) return ctx.action === 'read'
    const may = (users: readonly ConfigUser[]): boolean => users.some((u) => (u.user === ANY_USER || (ctx.user !== undefined && u.user === ctx.user)) && u.actions.includes(ctx.action))
    if (may(config.users)) return true
    const path = config.paths.get(ctx.path)
    return path !== undefined && may(path.users)
  }

  /** The server's `allowAnonymous` hook: may a request without a login go on to `authorize`? Only where `any` may. */
  readonly allowAnonymous = (ctx: Pick<AuthorizeContext, 'path' | 'action'>): boolean => this.authorize({ ...ctx, user: undefined })

  /** Paths no one may read (a login is asked for, and neither a top-level nor a path user may read them). */
  static unreadablePaths(config: ServeConfig): string[] {
    if (!ConfigServer.needsAuth(config)) return []
    if (config.users.some((u) => u.actions.includes('read'))) return []
    return [...config.paths.values()].filter((p) => !p.users.some((u) => u.actions.includes('read'))).map((p) => p.name)
  }

  /** Start `config`, or move to it from the one running: only changed paths restart. */
  async apply(config: ServeConfig): Promise<ApplyResult> {
    const result: ApplyResult = { added: [], removed: [], restarted: [], unchanged: [], errors: [] }
    const previous = this.config
    this.config = config
    const closed = ConfigServer.unreadablePaths(config)
    if (closed.length > 0) {
      result.errors.push(`no user may read ${closed.join(', ')}: a path without users of its own is open only to top-level users (add users to it, or "- user: any" to open it to everyone)`)
    }
    if (previous !== undefined && ConfigServer.needsAuth(config)) {
      try {
        this.server.setUsers(this.credentialsOf(config))
      } catch {
        result.errors.push('users were added to a server started without any: restart rtspkit serve for logins to apply')
      }
    }
    for (const [name, run] of this.running) {
      const next = config.paths.get(name)
      if (next === undefined || pathKey(next) !== run.key) {
        await this.stopPath(run)
        this.running.delete(name)
        if (next === undefined) result.removed.push(name)
      } else {
        run.config = next
        result.unchanged.push(name)
      }
    }
    for (const [name, p] of config.paths) {
      if (this.running.has(name)) continue
      try {
        await this.startPath(p)
        ;(previous?.paths.has(name) ? result.restarted : result.added).push(name)
      } catch (err) {
        result.errors.push(`path ${name}: ${(err as Error).message}`)
      }
    }
    return result
  }

  private async startPath(p: PathConfig): Promise<void> {
    const run: RunningPath = { config: p, key: pathKey(p), publisher: undefined, recording: undefined }
    if (p.source?.kind === 'file') {
      run.publisher = await this.server.addFile(p.name, p.source.file)
    } else if (p.source?.kind === 'rtsp' && p.onDemand !== undefined) {
      const pull = { transport: this.options.pullTransport ?? 'auto', timeoutMs: 10_000, readTimeoutMs: 10_000 } as const
      run.remove = (await this.server.addPull(p.name, p.source.url, { ...pull, onDemand: true, closeAfterMs: p.onDemand.closeAfterS * 1000 })).remove
    } else if (p.source?.kind === 'rtsp') {
      const { publisher, skipped } = await this.server.addPull(p.name, p.source.url, { transport: this.options.pullTransport ?? 'auto', timeoutMs: 10_000, readTimeoutMs: 10_000 })
      run.publisher = publisher
      if (skipped.length > 0) this.log(`path ${p.name}: not forwarded from ${redactUrl(p.source.url)}: ${skipped.join(', ')}`)
    }
    this.running.set(p.name, run)
    if (p.record !== undefined) run.recording = this.record(p)
  }

  private async stopPath(run: RunningPath): Promise<void> {
    await run.recording?.stop()
    run.publisher?.close('the path was removed from the config')
    run.remove?.()
  }

  /** Record the server's own stream of `p` (reconnecting); until it exists, try every recordRetryMs. */
  private record(p: PathConfig): { stop(): Promise<void> } {
    const rec = p.record!
    const ac = new AbortController()
    let current: SegmentedRecorder | undefined
    const retryMs = this.options.recordRetryMs ?? 2000
    const url = this.loopbackUrl(p.name)
    let lastProblem = ''
    const task = (async () => {
      while (!ac.signal.aborted && !this.closed) {
        try {
          const client = new RtspClient({ transport: 'tcp', timeoutMs: 10_000, readTimeoutMs: 5_000 })
          const sup = await client.supervise(url, { signal: ac.signal, reconnect: { initialDelayMs: 250, maxDelayMs: 2000 } })
          current = await createSegmentedRecorder(sup, {
            path: rec.path,
            segment: rec.segment,
            ...(rec.keep !== undefined ? { keep: rec.keep } : {}),
            ...(rec.maxSize !== undefined ? { maxSize: rec.maxSize } : {}),
          })
          current.on('segment', (s) => this.log(`path ${p.name}: segment ${s.file} (${(s.endPts - s.startPts).toFixed(1)} s, ${s.frames} frames, ${s.reason})`))
          current.on('gap', (g) => this.log(`path ${p.name}: gap of ${((g.end - g.start) / 1000).toFixed(1)} s (${g.cause})`))
          current.on('write-error', (e) => this.log(`path ${p.name}: ${e.message}`))
          current.on('deleted', (d) => this.log(`path ${p.name}: deleted ${d.file} (${d.reason})`))
          lastProblem = ''
          await current.done
          current = undefined
        } catch (err) {
          if (ac.signal.aborted) break
          // Once per cause: a path waiting for its publisher would otherwise log every retry.
          const problem = (err as Error).message
          if (problem !== lastProblem) this.log(`path ${p.name}: not recording yet (${problem}); trying every ${retryMs} ms`)
          lastProblem = problem
        }
        if (ac.signal.aborted) break
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, retryMs)
          ac.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true })
        })
      }
    })()
    return {
      stop: async () => {
        ac.abort()
        await current?.stop()
        await task
      },
    }
  }

  private loopbackUrl(path: string): string {
    const u = new URL(this.server.url(path))
    // 0.0.0.0 / :: listen everywhere; the recorder reads over loopback.
    if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1'
    if (u.hostname === '[::]') u.hostname = '[::1]'
    if (this.config !== undefined && ConfigServer.needsAuth(this.config)) {
      u.username = encodeURIComponent(this.recorderUser.username)
      u.password = encodeURIComponent(this.recorderUser.password)
    }
    return u.toString()
  }

  /** Stop every recording and source (the server itself is the caller's to close). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all([...this.running.values()].map((r) => this.stopPath(r)))
    this.running.clear()
  }
}

function pathKey(p: PathConfig): string {
  return JSON.stringify({ source: p.source, record: p.record, onDemand: p.onDemand })
}

function allUsers(config: ServeConfig): ConfigUser[] {
  return [...config.users, ...[...config.paths.values()].flatMap((p) => p.users)]
}
