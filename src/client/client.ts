// Types only: each session's module is loaded when first called, so a pull or a probe does
// not load the send side and a push not the receive side (issue #14: start-up).
import type { PullSession } from './pull-session.js'
import type { PushOptions, PushSession, PushTrackInit } from './push-session.js'
import type { PullSupervisor } from './supervisor.js'
import { validateOptions } from './options.js'
import type { ClientOptions, ClientPullOptions, SuperviseOptions, TransportProtocol } from './options.js'
import { parseRtspUrl, redactUrl } from '../util/url.js'
import type { ParsedRtspUrl } from '../util/url.js'
import { AbortError, InvalidArgumentError, ProtocolError, RedirectError } from '../errors.js'

export type { ClientOptions, ClientPullOptions, SuperviseOptions, TransportChoice } from './options.js'

/** Why the session uses the transport it uses (`session.transport`). */
export interface TransportDecision {
  protocol: TransportProtocol
  reason: string
}

/**
 * Entry point of the library. Options given here are defaults for every session; each
 * call may override them.
 *
 * ```ts
 * const client = new RtspClient({ transport: 'tcp', timeoutMs: 10_000 })
 * const session = await client.pull('rtsp://user:pass@cam/stream', { signal })
 * for await (const frame of session.frames()) { ... }
 * await session.close()
 * ```
 */
export class RtspClient {
  readonly options: ClientOptions
  constructor(options: ClientOptions = {}) {
    validateOptions('pull', options, 'new RtspClient()')
    if ((options as ClientPullOptions).signal !== undefined) {
      throw new InvalidArgumentError('new RtspClient(): option signal belongs to each call (pull, push, supervise), not to the client')
    }
    this.options = options
  }

  /**
   * Connect, run OPTIONS → DESCRIBE → SETUP (each track) → PLAY, and return the playing
   * session. Follows redirects before PLAY and, with transport 'auto', falls back from UDP
   * to TCP. `session.transport` says which transport is in use and why.
   */
  async pull(url: string, options: ClientPullOptions = {}): Promise<PullSession> {
    validateOptions('pull', options, 'pull()')
    const opts: ClientPullOptions = { ...this.options, ...options }
    let target = parseUrlArgument('pull()', url)
    const maxRedirects = opts.maxRedirects ?? 5
    for (let redirects = 0; ; redirects++) {
      try {
        return await this.pullWithTransport(target, opts)
      } catch (err) {
        if (!(err instanceof RedirectError) || redirects >= maxRedirects) {
          if (err instanceof RedirectError) {
            throw new ProtocolError(`more than ${maxRedirects} redirects (last to ${err.location}); the server loops`)
          }
          throw err
        }
        target = followRedirect(target, err.location)
      }
    }
  }

  /**
   * A pull that survives drops: reconnects with exponential backoff and jitter and keeps
   * one continuous frame timeline (`supervisor.frames()`). Resolves once the first
   * session plays; a first connection that fails rejects, as pull() does.
   */
  async supervise(url: string, options: SuperviseOptions = {}): Promise<PullSupervisor> {
    validateOptions('supervise', options, 'supervise()')
    parseUrlArgument('supervise()', url)
    const { PullSupervisor } = await import('./supervisor.js')
    const supervisor = new PullSupervisor((u, o) => this.pull(u, o), url, { ...this.options, ...options })
    await supervisor.start()
    return supervisor
  }

  /**
   * Connect, run OPTIONS → ANNOUNCE → SETUP (each track, mode=record) → RECORD, and return
   * the recording session; `session.write(track, frame)` sends access units.
   */
  async push(url: string, tracks: readonly PushTrackInit[], options: PushOptions = {}): Promise<PushSession> {
    validateOptions('push', options, 'push()')
    if (!Array.isArray(tracks) || tracks.length === 0) {
      throw new InvalidArgumentError('push(): tracks must be a non-empty array of { type, codec, details }')
    }
    const target = parseUrlArgument('push()', url)
    const { transport, timeoutMs, readTimeoutMs, teardownTimeoutMs, credentials, tls, userAgent } = this.options
    const defaults: PushOptions = { timeoutMs, readTimeoutMs, teardownTimeoutMs, credentials, tls, userAgent }
    if (transport === 'tcp' || transport === 'udp') defaults.transport = transport
    for (const k of Object.keys(defaults) as Array<keyof PushOptions>) if (defaults[k] === undefined) delete defaults[k]
    const { PushSession } = await import('./push-session.js')
    const session = new PushSession(target, tracks, { ...defaults, ...options })
    await session.start(options.signal)
    return session
  }

  private async pullWithTransport(target: ParsedRtspUrl, opts: ClientPullOptions): Promise<PullSession> {
    const choice = opts.transport ?? (opts.proxy !== undefined ? 'http' : 'auto')
    if (opts.proxy !== undefined) {
      // What goes through the proxy is the HTTP tunnel.
      if (choice !== 'http' && choice !== 'auto') throw new InvalidArgumentError(`pull(): option proxy goes with transport 'http' (RTSP tunnelled in HTTP), not '${choice}'`)
      return this.open(target, { ...opts, httpTunnel: { proxy: opts.proxy } }, 'tcp', 'through an HTTP proxy: RTSP tunnelled in HTTP, media interleaved')
    }
    if (choice === 'http') return this.open(target, { ...opts, httpTunnel: true }, 'tcp', 'asked for http: RTSP tunnelled in HTTP, media interleaved')
    // Media inside the TLS connection: rtsps:// never uses plain UDP.
    if (choice !== 'auto' || target.secure) {
      const protocol = target.secure ? 'tcp' : (choice as TransportProtocol)
      return this.open(target, opts, protocol, choice === 'auto' ? 'rtsps:// carries media in the TLS connection' : `asked for ${protocol}`)
    }
    // A 461 to the UDP SETUP is handled inside the session: it goes on over TCP.
    const udp = await this.open(target, { ...opts, udpFallback: true }, 'udp', 'auto: UDP first')
    if (udp.tracks.every((t) => t.transport.protocol === 'tcp')) {
      if (udp.transport?.protocol !== 'tcp') udp.transport = { protocol: 'tcp', reason: 'the server answered the UDP SETUP with TCP' }
      return udp
    }
    // Firewalls and NATs often drop UDP silently: no packet soon after PLAY means TCP.
    const waitMs = opts.udpTimeoutMs ?? 3000
    if (await firstPacket(udp, waitMs, opts.signal)) return udp
    await udp.close()
    if (opts.signal?.aborted) throw new AbortError(opts.signal.reason)
    return this.open(target, opts, 'tcp', `no UDP packet within ${waitMs} ms of PLAY`)
  }

  private async open(
    target: ParsedRtspUrl,
    opts: ClientPullOptions & { udpFallback?: boolean },
    protocol: TransportProtocol,
    reason: string,
  ): Promise<PullSession> {
    const { PullSession } = await import('./pull-session.js')
    const session = new PullSession(target, { ...opts, transport: protocol })
    session.transport = { protocol, reason }
    await session.start(opts.signal)
    return session
  }
}

/** The URL argument of an entry point: a string with an rtsp:// or rtsps:// URL. */
function parseUrlArgument(where: string, url: unknown): ParsedRtspUrl {
  if (typeof url !== 'string') throw new InvalidArgumentError(`${where}: url must be a string rtsp://[user:pass@]host[:port]/path, not a ${typeof url}`)
  try {
    return parseRtspUrl(url)
  } catch (err) {
    throw new InvalidArgumentError(`${where}: url must be rtsp:// or rtsps:// (${(err as Error).message})`)
  }
}

/** Resolve a Location against the current URL; never downgrade rtsps to rtsp; keep credentials only on the same host. */
function followRedirect(from: ParsedRtspUrl, location: string): ParsedRtspUrl {
  let next: ParsedRtspUrl
  try {
    next = parseRtspUrl(new URL(location, from.url).toString())
  } catch (err) {
    throw new ProtocolError(`the server redirects to an unusable URL (${redactUrl(location)})`, { cause: err })
  }
  if (from.secure && !next.secure) {
    throw new ProtocolError(`refusing a redirect from rtsps:// to ${redactUrl(next.url)}: it would drop TLS`)
  }
  if (next.credentials === undefined && from.credentials !== undefined && next.host === from.host) {
    next.credentials = from.credentials
  }
  return next
}

/** Resolve true at the first RTP packet, false after `ms` (or when the session ends or the signal fires). */
function firstPacket(session: PullSession, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (session.stats().some((s) => s.packetsReceived > 0)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer)
      session.off('rtp', onRtp)
      session.off('close', onClose)
      signal?.removeEventListener('abort', onAbort)
      resolve(ok)
    }
    const onRtp = () => done(true)
    const onClose = () => done(false)
    const onAbort = () => done(false)
    const timer = setTimeout(() => done(false), ms)
    session.on('rtp', onRtp)
    session.on('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

