import type { TlsOptions } from './connection.js'
import type { Credentials } from '../util/url.js'
import type { ReaderLimits } from '../rtsp/reader.js'
import type { ReorderOptions } from '../rtp/reorder-buffer.js'
import { InvalidArgumentError } from '../errors.js'
import { isProxyUrl } from '../transport/http-proxy.js'

// The options of every client entry point, below the modules that use them (client.ts,
// pull-session.ts, push-session.ts, supervisor.ts import from here, never from each other
// for types), and the one validator that checks them before any connection is made.

/** 'multicast' (pull only): join the group the server answers with (RFC 2326 §12.39); 'auto' never picks it. */
export type TransportProtocol = 'tcp' | 'udp' | 'multicast'

/** 'auto' tries UDP and falls back to TCP (461, a TCP answer, or no UDP packet in time). */
/** 'http': RTSP over HTTP (the QuickTime tunnel, for cameras behind firewalls that let only HTTP through), media interleaved in it. */
export type TransportChoice = TransportProtocol | 'auto' | 'http'

/** What every client session (pull or push) is configured with. */
export interface SessionOptions {
  /** How media travels: interleaved in the RTSP connection ('tcp', default) or over UDP port pairs. */
  transport?: TransportProtocol
  /** Handshake timeout (connect → PLAY / RECORD reply) and per-request reply timeout. Default 10 000 ms. */
  timeoutMs?: number
  /**
   * Once media flows, a stall this long ends the session with a TimeoutError: no media
   * received (pull), or no data taken by the server and no keep-alive answered (push).
   * Default 10 000 ms.
   */
  readTimeoutMs?: number
  /** Upper bound on waiting for the TEARDOWN reply in close(). Default 2 000 ms. */
  teardownTimeoutMs?: number
  /** Credentials when the URL has none. */
  credentials?: Credentials
  /** rtsps:// only: CA to trust, or rejectUnauthorized: false to skip verification. */
  tls?: TlsOptions
  userAgent?: string
  /** Covers the whole session: the handshake, and the playing (recording) session after it. */
  signal?: AbortSignal
}

export interface PullOptions extends SessionOptions {
  /** Frames buffered for a slow `frames()` consumer before it skips to the next key frame. Default 1024. */
  frameQueueSize?: number
  /** Limits of the wire reader (line length, header count, SDP size). */
  limits?: Partial<ReaderLimits>
  /** Interval of RTCP receiver reports. Default 5 000 ms (RFC 3550 §6.2 minimum). */
  rtcpIntervalMs?: number
  /** With transport 'udp': on 461 to the first SETUP, continue over TCP (RtspClient's 'auto'). */
  udpFallback?: boolean
  /** UDP only: hold out-of-order packets this long / this many before giving a gap up; false turns it off. Default 64 packets, 100 ms. */
  reorder?: ReorderOptions | false
  /** An RTP timestamp jump larger than this (seconds) that wall-clock time does not match is a discontinuity. Default 5. */
  maxTimestampJumpS?: number
  /** UDP receive buffer asked for each RTP socket. Default 4 MiB. */
  udpReceiveBufferSize?: number
  /** Tunnel the connection through HTTP (GET + POST with x-sessioncookie); media interleaved. Set by transport 'http' (and proxy). */
  httpTunnel?: boolean | { proxy?: string | URL }
  /** Where PLAY starts (RFC 2326 §12.29): seconds from the start (`npt=`), or a Date (`clock=`, recorders). Default `npt=0.000-`. */
  range?: PlayRange
  /**
   * Ask for the camera's ONVIF back-channel (Streaming §5.3: `Require:
   * www.onvif.org/ver20/backchannel`): its a=sendonly audio media is set up with the tracks
   * (and not received), for `session.talk()`.
   */
  backchannel?: boolean
  /**
   * ONVIF replay from a recorder (Streaming §6): `Require: onvif-replay` on DESCRIBE, SETUP and
   * PLAY, with `range: { start: Date }` for where; each frame gets `replay` (the recording's
   * time and flags from the RTP header extension). An object sets Rate-Control and Immediate.
   */
  onvifReplay?: boolean | OnvifReplayOptions
}

/** ONVIF replay options (Streaming §6.4, §6.5). */
export interface OnvifReplayOptions {
  /**
   * Rate-Control (§6.4): false sends `Rate-Control: no`, the recorder sends as fast as it
   * can (a download; frames keep their media timing). Default true: real time (no header).
   */
  rateControl?: boolean
  /** `Immediate: yes` (§6.5): the server drops what it queued for an earlier PLAY and starts at once. Default false. */
  immediate?: boolean
}

/** A PLAY Range: `start`/`end` in seconds of NPT, or Dates for absolute (UTC `clock=`) time; both of one kind. */
export interface PlayRange {
  start?: number | Date
  end?: number | Date
}

export interface ClientPullOptions extends Omit<PullOptions, 'transport'> {
  /** Default 'auto'. */
  transport?: TransportChoice
  /** Redirects (3xx before PLAY) to follow; default 5. */
  maxRedirects?: number
  /** With 'auto': how long to wait for the first UDP packet after PLAY before going TCP. Default 3000 ms. */
  udpTimeoutMs?: number
  /**
   * An HTTP proxy, `http://[user:pass@]host:port`, for the HTTP tunnel (transport 'http', the
   * default when a proxy is given): CONNECT for rtsps://, absolute-URI GET/POST for rtsp://.
   */
  proxy?: string | URL
}

export type ClientOptions = Omit<ClientPullOptions, 'signal'>

export interface ReconnectOptions {
  /** First wait after a drop. Default 500 ms. */
  initialDelayMs?: number
  /** Longest wait between attempts (the delay doubles up to this). Default 30 000 ms. */
  maxDelayMs?: number
  /** Give up after this many failed attempts in a row. Default: never. */
  maxAttempts?: number
}

export interface SuperviseOptions extends ClientPullOptions {
  reconnect?: ReconnectOptions
}

// ---- validation ----

/** How one option is checked; `what` is the text after "must be" in the message. */
interface Rule {
  what: string
  ok(v: unknown): boolean
  /** Nested options (reorder, reconnect, limits), checked the same way. */
  nested?: Rules
  /** Never quote the value (a password): say only what type it was. */
  secret?: boolean
}
type Rules = Readonly<Record<string, Rule>>

const oneOf = (...values: readonly string[]): Rule => ({
  what: `one of ${values.map((v) => `'${v}'`).join(', ')}`,
  ok: (v) => typeof v === 'string' && values.includes(v),
})
const number = (what: string, ok: (n: number) => boolean): Rule => ({ what, ok: (v) => typeof v === 'number' && ok(v) })
const positiveMs = number('a positive number of milliseconds', (n) => Number.isFinite(n) && n > 0)
const nonNegativeMs = number('a number of milliseconds, 0 or more', (n) => Number.isFinite(n) && n >= 0)
const positiveInt = number('a positive integer', (n) => Number.isSafeInteger(n) && n > 0)
const nonNegativeInt = number('an integer, 0 or more', (n) => Number.isSafeInteger(n) && n >= 0)
const object = (nested?: Rules): Rule => ({ what: 'an object', ok: (v) => typeof v === 'object' && v !== null, nested })
const text: Rule = { what: 'a string', ok: (v) => typeof v === 'string' }
// A header value: no CR or LF (they would end the header and start another).
const headerText: Rule = { what: 'a string without line breaks', ok: (v) => typeof v === 'string' && !/[\r\n]/.test(v) }
const playTime: Rule = {
  what: 'a number of seconds (0 or more) or a valid Date',
  ok: (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0) || (v instanceof Date && Number.isFinite(v.getTime())),
}
const signal: Rule = { what: 'an AbortSignal', ok: (v) => v instanceof AbortSignal }

const SESSION_RULES: Rules = {
  timeoutMs: positiveMs,
  readTimeoutMs: positiveMs,
  teardownTimeoutMs: nonNegativeMs,
  credentials: object({ username: headerText, password: { ...text, secret: true } }),
  tls: object(),
  userAgent: headerText,
  signal,
}

const PULL_RULES: Rules = {
  ...SESSION_RULES,
  transport: oneOf('auto', 'tcp', 'udp', 'http', 'multicast'),
  frameQueueSize: positiveInt,
  limits: object({ maxLineLength: positiveInt, maxHeaderCount: positiveInt, maxBodySize: positiveInt, maxGarbage: positiveInt }),
  rtcpIntervalMs: positiveMs,
  udpFallback: { what: 'a boolean', ok: (v) => typeof v === 'boolean' },
  reorder: {
    what: 'false or an object',
    ok: (v) => v === false || (typeof v === 'object' && v !== null),
    nested: { maxPackets: number('an integer from 1 to 32766', (n) => Number.isSafeInteger(n) && n >= 1 && n <= 32766), maxDelayMs: nonNegativeMs },
  },
  maxTimestampJumpS: number('a positive number of seconds', (n) => Number.isFinite(n) && n > 0),
  udpReceiveBufferSize: positiveInt,
  range: object({ start: playTime, end: playTime }),
  backchannel: { what: 'a boolean', ok: (v) => typeof v === 'boolean' },
  onvifReplay: {
    what: 'a boolean or an object',
    ok: (v) => typeof v === 'boolean' || (typeof v === 'object' && v !== null),
    nested: { rateControl: { what: 'a boolean', ok: (v) => typeof v === 'boolean' }, immediate: { what: 'a boolean', ok: (v) => typeof v === 'boolean' } },
  },
  maxRedirects: nonNegativeInt,
  udpTimeoutMs: positiveMs,
  // May hold a password: never quoted back.
  proxy: { what: 'an http:// URL (http://[user:pass@]host:port)', ok: isProxyUrl, secret: true },
}

const SUPERVISE_RULES: Rules = {
  ...PULL_RULES,
  reconnect: object({
    initialDelayMs: positiveMs,
    maxDelayMs: positiveMs,
    maxAttempts: number('an integer, 0 or more, or Infinity', (n) => n === Number.POSITIVE_INFINITY || (Number.isSafeInteger(n) && n >= 0)),
  }),
}

const PUSH_RULES: Rules = {
  ...SESSION_RULES,
  transport: oneOf('tcp', 'udp'),
  rtcpIntervalMs: positiveMs,
  keepAliveMs: positiveMs,
  mtu: number('an integer from 100 to 65507', (n) => Number.isSafeInteger(n) && n >= 100 && n <= 65507),
  highWaterMark: positiveInt,
  maxQueueBytes: positiveInt,
  overflow: oneOf('drop', 'error'),
}

/** Which entry point's options: the rules differ (push takes no 'auto', pull no 'mtu'). */
export type OptionsKind = 'pull' | 'supervise' | 'push'
const RULES: Record<OptionsKind, Rules> = { pull: PULL_RULES, supervise: SUPERVISE_RULES, push: PUSH_RULES }

/**
 * Check the options of a public entry point before anything connects; the first bad one
 * throws InvalidArgumentError naming the option, what it must be and what it got. Unknown
 * keys are left alone (options objects are shared between calls); undefined means default.
 */
export function validateOptions(kind: OptionsKind, options: unknown, where: string = kind): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`${where}: options must be an object, not ${describe(options)}`)
  }
  check(RULES[kind], options as Record<string, unknown>, where, '')
}

function check(rules: Rules, options: Record<string, unknown>, where: string, prefix: string): void {
  for (const key of Object.keys(rules)) {
    const v = options[key]
    if (v === undefined) continue
    const rule = rules[key]!
    if (!rule.ok(v)) {
      const got = rule.secret === true ? `a ${typeof v}` : describe(v)
      throw new InvalidArgumentError(`${where}: option ${prefix}${key} must be ${rule.what}, not ${got}`)
    }
    if (rule.nested !== undefined && typeof v === 'object' && v !== null) check(rule.nested, v as Record<string, unknown>, where, `${prefix}${key}.`)
  }
}

/** The offending value, short, never a secret (a password is only said to be there). */
function describe(v: unknown): string {
  // Escaped (JSON): a CR or LF in the value must not break the one-line message.
  if (typeof v === 'string') return `'${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v).slice(1, -1)}'`
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null || v === undefined) return String(v)
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}
