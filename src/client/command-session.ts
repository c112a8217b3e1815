// The control skeleton that pull and push share (RFC 2326 §A.1 client state machine): one
// connection, the handshake within one timeout, state assertions, SETUP replies, keep-alive,
// TEARDOWN and the one release(). The role (pull-session.ts, push-session.ts) says what
// happens between OPTIONS and the established session, and owns the media plane.
import type { EventEmitter } from 'node:events'
import { RtspConnection } from './connection.js'
import type { ConnectionOptions } from './connection.js'
import { AbortError, ProtocolError, RtspError, StateError, TimeoutError } from '../errors.js'
import { parsePublic } from '../rtsp/headers/public.js'
import { formatTransport } from '../rtsp/headers/transport.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { publishSessionState } from '../diagnostics.js'
import type { ParsedRtspUrl } from '../util/url.js'
import type { SessionOptions } from './options.js'

export const USER_AGENT = 'rtspkit/0.1'

/** The states every role goes through; a role adds its own (describing, playing, recording, ...). */
export type CommandState = 'connecting' | 'setting-up' | 'starting' | 'closing' | 'closed'

export interface CommandSessionInit<S extends string> {
  /** The public session: emits 'error' and 'close', and names the session in diagnostics. */
  owner: EventEmitter
  kind: 'pull' | 'push'
  /** The URL without credentials (diagnostics, messages). */
  url: string
  target: ParsedRtspUrl
  /** The role's options: credentials (else the URL's) and TLS settings. */
  options: Pick<SessionOptions, 'credentials' | 'tls'>
  /** Handshake timeout (connect → PLAY / RECORD reply), also each request's. */
  timeoutMs: number
  /** Upper bound on waiting for the TEARDOWN reply. */
  teardownTimeoutMs: number
  userAgent: string
  /** Connection settings only one role uses (pull: reader limits, the HTTP tunnel). */
  connection?: Pick<ConnectionOptions, 'limits' | 'httpTunnel'>
  /** States in which the session is established: close() sends TEARDOWN, a failure ends it. */
  established: readonly S[]
  /** Per-track counters for rtspkit:client:session:state (called only when someone subscribes). */
  stats: () => readonly object[]
}

/** What the role does at the lifecycle's turns; each is called once. */
export interface CommandHooks {
  /** Stop the media plane's timers (RTCP, read/stall watchdogs). May be called again. */
  stopMedia(): void
  /** close() has begun, before TEARDOWN; `err` is the abort that caused it, if any. */
  closing(err: RtspError | undefined, established: boolean): void
  /** Free the media plane (sockets, iterators, waiters) as the session ends. */
  released(err: RtspError | undefined): void
}

/**
 * One client command session: `state` moves only through moveTo() (each change published on
 * rtspkit:client:session:state) and is a plain field, cheap to read on the packet path.
 */
export class CommandSession<S extends string> {
  readonly conn: RtspConnection
  /** Where the session is; assign through moveTo() only. */
  state: S | CommandState = 'connecting'
  /** Resolves when the session has ended: undefined after close(), the error otherwise. */
  readonly closed: Promise<RtspError | undefined>
  /** The error that ended (or is ending) the session. */
  endError: RtspError | undefined
  /** Aggregate control URL (RFC 2326 §C.1.1): PLAY, PAUSE, RECORD, TEARDOWN go there. */
  controlUrl = ''
  /** Methods the OPTIONS reply listed in Public (RFC 2326 §12.28). */
  publicMethods = new Set<string>()
  /** Session timeout from the SETUP replies (RFC 2326 §12.37); 60 s when none gave one. */
  sessionTimeoutS = 60

  private readonly init: CommandSessionInit<S>
  private readonly hooks: CommandHooks
  private resolveClosed!: (err: RtspError | undefined) => void
  private keepAliveTimer: NodeJS.Timeout | undefined
  private keepAlivePending = false
  /** The caller's signal, listened to while the session lives (it covers the whole session). */
  private signal: AbortSignal | undefined
  private readonly onSignalAbort = (): void => void this.close(new AbortError(this.signal?.reason))

  constructor(init: CommandSessionInit<S>, hooks: CommandHooks) {
    this.init = init
    this.hooks = hooks
    const { target, options } = init
    this.conn = new RtspConnection({
      host: target.host,
      port: target.port,
      secure: target.secure,
      tls: options.tls,
      credentials: options.credentials ?? target.credentials,
      timeoutMs: init.timeoutMs,
      userAgent: init.userAgent,
      ...init.connection,
    })
    this.conn.onClose = (err) => {
      if (err !== undefined) this.fail(err)
    }
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  moveTo(to: S | CommandState): void {
    const { owner, kind, url, stats } = this.init
    publishSessionState(owner, kind, url, this.state, to, undefined, stats)
    this.state = to
  }

  get established(): boolean {
    return (this.init.established as readonly string[]).includes(this.state)
  }

  /** Run `handshake` within one timeout; on any failure everything is released and the error thrown. */
  async start(handshake: (signal?: AbortSignal) => Promise<void>, signal?: AbortSignal): Promise<void> {
    const { timeoutMs } = this.init
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Name the request the server left unanswered, when there is one.
        const method = this.conn.pendingMethod
        reject(
          method !== undefined
            ? new TimeoutError({ phase: 'reply', timeoutMs, detail: `to ${method}` })
            : new TimeoutError({ phase: 'handshake', timeoutMs }),
        )
      }, timeoutMs)
      if (signal !== undefined) {
        onAbort = () => reject(new AbortError(signal.reason))
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      }
    })
    const run = handshake(signal)
    run.catch(() => {}) // its failure is reported through the race below
    try {
      await Promise.race([run, guard])
    } catch (err) {
      const prefix = this.init.kind === 'push' ? 'push ' : ''
      const e = err instanceof RtspError ? err : new ProtocolError(`${prefix}handshake failed: ${String(err)}`, { cause: err })
      this.release(e)
      throw e
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
    if (signal !== undefined) {
      // The signal covers the established session too: an abort tears it down (removed in release()).
      this.signal = signal
      signal.addEventListener('abort', this.onSignalAbort, { once: true })
    }
  }

  /**
   * Connect, then OPTIONS (RFC 2326 §10.1) to learn Public (GET_PARAMETER as keep-alive).
   * Some cameras answer OPTIONS with an error; that is not fatal.
   */
  async open(url: string, signal?: AbortSignal): Promise<void> {
    await this.conn.connect(signal)
    this.assertNotEnded()
    const options = await this.conn.request('OPTIONS', url, {}, undefined, (status) => status < 300 || status >= 400)
    this.publicMethods = parsePublic(options.headers.get('Public') ?? '')
    this.assertNotEnded()
  }

  /** SETUP one track (RFC 2326 §10.4); returns the Transport the server chose, when it said. */
  async setup(control: string, redactedControl: string, request: TransportSpec, headers: Record<string, string> = {}): Promise<TransportSpec | undefined> {
    const res = await this.conn.request('SETUP', control, { Transport: formatTransport(request), ...headers })
    const { timeoutS, transport } = this.conn.adoptSetupReply(res, redactedControl)
    if (timeoutS !== undefined) this.sessionTimeoutS = timeoutS
    return transport
  }

  /** Between handshake steps: the session was closed or failed meanwhile. */
  assertNotEnded(): void {
    if (this.endError !== undefined) throw this.endError
    if (this.state === 'closing' || this.state === 'closed') throw new AbortError('session closed')
  }

  /** A public verb is allowed only in some states (RFC 2326 §A.1). */
  assertState(action: string, allowed: ReadonlyArray<S | CommandState>): void {
    if (!allowed.includes(this.state)) throw new StateError({ action, state: this.state, allowed: [...allowed] })
  }

  /**
   * Keep the session alive (RFC 2326 §12.37): `send` every `everyMs`, never two at once.
   * `onFailure` decides whether a refused or unanswered keep-alive matters.
   */
  startKeepAlive(everyMs: number, send: () => Promise<unknown>, onFailure: (err: unknown) => void): void {
    this.keepAliveTimer = setInterval(() => {
      if (this.keepAlivePending) return
      this.keepAlivePending = true
      send().then(
        () => {
          this.keepAlivePending = false
        },
        (err: unknown) => {
          this.keepAlivePending = false
          onFailure(err)
        },
      )
    }, everyMs)
    this.keepAliveTimer.unref()
  }

  private stopTimers(): void {
    clearInterval(this.keepAliveTimer)
    this.keepAliveTimer = undefined
    this.hooks.stopMedia()
  }

  /**
   * TEARDOWN (bounded wait) when established, then release. Idempotent. With `err` (the
   * caller's signal fired) the session ends with it.
   */
  async close(err?: RtspError): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') {
      await this.closed
      return
    }
    const wasEstablished = this.established
    this.moveTo('closing')
    if (err !== undefined) this.endError ??= err
    this.stopTimers()
    this.hooks.closing(err, wasEstablished)
    if (wasEstablished) await this.conn.teardown(this.controlUrl, this.init.teardownTimeoutMs)
    this.release(err)
  }

  /** A fatal error: ends an established session; during the handshake the race in start() reports it. */
  fail(err: RtspError): void {
    if (this.state === 'closed') return
    if (this.state === 'closing') {
      // close() is waiting for the TEARDOWN reply and the server hung up instead, as many
      // cameras do: the session ends as asked, without an error (or with the abort's).
      this.release(this.endError instanceof AbortError ? this.endError : undefined)
      return
    }
    if (!this.established) {
      this.endError ??= err
      return
    }
    // Best effort: tell the server we are gone, without waiting.
    if (this.conn.state === 'open' && this.controlUrl !== '') this.conn.request('TEARDOWN', this.controlUrl).catch(() => {})
    this.release(err)
  }

  /** Free everything; the single place a session ends. */
  release(err: RtspError | undefined): void {
    if (this.state === 'closed') return
    this.moveTo('closed')
    this.endError ??= err
    this.stopTimers()
    this.signal?.removeEventListener('abort', this.onSignalAbort)
    this.signal = undefined
    const conn = this.conn
    conn.onClose = undefined
    conn.onReply = undefined
    conn.onDrain = undefined
    conn.close()
    this.hooks.released(err)
    const owner = this.init.owner
    if (err !== undefined && owner.listenerCount('error') > 0) owner.emit('error', err)
    owner.emit('close', err)
    this.resolveClosed(err)
  }
}
