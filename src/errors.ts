/**
 * Typed errors with stable codes (the undici model): every failure rtspkit reports is an
 * RtspError subclass whose `code` never changes between releases, whose data is carried
 * as fields, and whose one-line message names the cause and what to try. No message, field
 * or cause ever contains a password: URLs pass through `redactUrl` before they get here.
 */

export type RtspErrorCode =
  | 'RTSP_ERR_CONNECT'
  | 'RTSP_ERR_TIMEOUT'
  | 'RTSP_ERR_STATUS'
  | 'RTSP_ERR_AUTH'
  | 'RTSP_ERR_REDIRECT'
  | 'RTSP_ERR_PROTOCOL'
  | 'RTSP_ERR_LIMIT'
  | 'RTSP_ERR_SDP'
  | 'RTSP_ERR_UNSUPPORTED'
  | 'RTSP_ERR_ABORTED'
  | 'RTSP_ERR_CLOSED'
  | 'RTSP_ERR_STATE'
  | 'RTSP_ERR_INVALID_ARGUMENT'
  | 'RTSP_ERR_MEDIA'
  | 'RTSP_ERR_OUTPUT'
  | 'RTSP_ERR_REJECTED'

export class RtspError extends Error {
  readonly code: RtspErrorCode
  constructor(code: RtspErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** TCP connect failed: refused, unreachable, DNS. */
export class ConnectError extends RtspError {
  readonly host: string
  readonly port: number
  readonly reason: string
  constructor(init: { host: string; port: number; reason: string; cause?: unknown }) {
    super('RTSP_ERR_CONNECT', `cannot connect to ${init.host}:${init.port}: ${init.reason}`, { cause: init.cause })
    this.host = init.host
    this.port = init.port
    this.reason = init.reason
  }
}

/** Something did not happen in time: a reply, the handshake, media once playing. */
export class TimeoutError extends RtspError {
  readonly phase: 'connect' | 'reply' | 'handshake' | 'media' | 'teardown'
  readonly timeoutMs: number
  constructor(init: { phase: TimeoutError['phase']; timeoutMs: number; detail?: string }) {
    const what: Record<TimeoutError['phase'], string> = {
      connect: `no connection within ${init.timeoutMs} ms`,
      reply: `no reply within ${init.timeoutMs} ms`,
      handshake: `handshake did not complete within ${init.timeoutMs} ms`,
      media: `no media received for ${init.timeoutMs} ms`,
      teardown: `no TEARDOWN reply within ${init.timeoutMs} ms`,
    }
    const hint =
      init.phase === 'media'
        ? ' (the stream stalled; with UDP a firewall may be dropping packets, try --transport tcp)'
        : init.phase === 'teardown'
          ? ''
          : ' (is the server up and is this an RTSP port? try a larger --timeout)'
    super('RTSP_ERR_TIMEOUT', `${what[init.phase]}${init.detail ? ` ${init.detail}` : ''}${hint}`)
    this.phase = init.phase
    this.timeoutMs = init.timeoutMs
  }
}

const STATUS_HINTS: Record<number, string> = {
  400: 'the server rejected the request as malformed',
  401: 'wrong user or password',
  403: 'access to this path is forbidden for this user',
  404: 'no stream at this path; check the URL',
  405: 'the server does not allow this method here',
  453: 'the server has no bandwidth left for another stream',
  454: 'the server forgot the session; reconnect',
  455: 'the server does not accept this request in the current state',
  461: 'the server does not support this transport; try --transport tcp or udp',
  500: 'the server failed internally',
  503: 'the server is busy or overloaded; try again later',
  // RFC 2326 §11.3.14: a Require tag it does not know (ONVIF back-channel or replay, for rtspkit).
  551: 'the server does not support what the request requires (Require: ONVIF back-channel or replay); this camera or path lacks it',
}

/** The server answered with a status that is not 2xx. */
export class StatusError extends RtspError {
  readonly status: number
  readonly reason: string
  readonly method: string
  readonly url: string
  constructor(init: { status: number; reason: string; method: string; url: string }) {
    const hint = STATUS_HINTS[init.status]
    super(
      'RTSP_ERR_STATUS',
      `${init.status} ${init.reason || 'Error'}${hint ? `: ${hint}` : ''} (${init.method} ${init.url})`,
    )
    this.status = init.status
    this.reason = init.reason
    this.method = init.method
    this.url = init.url
  }
}

/** A 3xx reply with a Location (RFC 2326 §11.3); the client follows it up to a bound. */
export class RedirectError extends StatusError {
  readonly location: string
  constructor(init: { status: number; reason: string; method: string; url: string; location: string }) {
    super(init)
    ;(this as { code: RtspErrorCode }).code = 'RTSP_ERR_REDIRECT'
    this.location = init.location
    this.message = `${init.status} ${init.reason || 'Redirect'}: the server redirects to ${init.location} (${init.method} ${init.url})`
  }
}

/** 401 after we sent credentials, or a 401 when we had none. */
export class AuthError extends StatusError {
  readonly hadCredentials: boolean
  constructor(init: { reason: string; method: string; url: string; hadCredentials: boolean }) {
    super({ status: 401, reason: init.reason || 'Unauthorized', method: init.method, url: init.url })
    ;(this as { code: RtspErrorCode }).code = 'RTSP_ERR_AUTH'
    this.hadCredentials = init.hadCredentials
    this.message = init.hadCredentials
      ? `401 ${init.reason || 'Unauthorized'}: wrong user or password (${init.method} ${init.url})`
      : `401 ${init.reason || 'Unauthorized'}: the server needs a user and password; put them in the URL (rtsp://user:pass@host/...) (${init.method} ${init.url})`
  }
}

/** The peer sent something that is not valid RTSP/SDP/RTP where we needed it to be. */
export class ProtocolError extends RtspError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTSP_ERR_PROTOCOL', message, options)
  }
}

/** A bound was exceeded: line length, header count, body size, frame size, queue depth. */
export class LimitError extends RtspError {
  readonly limit: string
  readonly max: number
  constructor(init: { limit: string; max: number; detail?: string }) {
    super('RTSP_ERR_LIMIT', `${init.limit} exceeds the limit of ${init.max}${init.detail ? ` (${init.detail})` : ''}; the peer is broken or hostile`)
    this.limit = init.limit
    this.max = init.max
  }
}

export class SdpError extends RtspError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTSP_ERR_SDP', message, options)
  }
}

/** Nothing we can consume, or an option we do not support. */
export class UnsupportedError extends RtspError {
  constructor(message: string) {
    super('RTSP_ERR_UNSUPPORTED', message)
  }
}

export class AbortError extends RtspError {
  constructor(reason?: unknown) {
    super('RTSP_ERR_ABORTED', 'the operation was aborted', { cause: reason })
  }
}

/** The connection ended (peer closed, reset) while we still needed it. */
export class ClosedError extends RtspError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('RTSP_ERR_CLOSED', `connection closed: ${detail}`, options)
  }
}

/** A verb called in a state that does not allow it. */
export class StateError extends RtspError {
  readonly state: string
  constructor(init: { action: string; state: string; allowed: readonly string[] }) {
    super('RTSP_ERR_STATE', `cannot ${init.action} while ${init.state} (allowed: ${init.allowed.join(', ')})`)
    this.state = init.state
  }
}

export class InvalidArgumentError extends RtspError {
  constructor(message: string) {
    super('RTSP_ERR_INVALID_ARGUMENT', message)
  }
}

/** Media that cannot be depacketized or parsed (bad NAL, bad AU header, oversize unit). */
export class MediaError extends RtspError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTSP_ERR_MEDIA', message, options)
  }
}

/** Writing a recording failed. */
export class OutputError extends RtspError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTSP_ERR_OUTPUT', message, options)
  }
}

/**
 * A local port could not be bound: the server's RTSP listener (TCP) or an RTP/RTCP port
 * pair (UDP). Keeps the code RTSP_ERR_CONNECT it has always had: no connection can be made.
 */
export class BindError extends RtspError {
  readonly protocol: 'tcp' | 'udp'
  readonly host: string
  /** The port that failed; undefined when every pair of a range was tried (see `range`). */
  readonly port: number | undefined
  readonly range: readonly [number, number] | undefined
  /** The OS error code (EADDRINUSE, EACCES, ...). */
  readonly reason: string
  constructor(init: { protocol: 'tcp' | 'udp'; host: string; port?: number; range?: [number, number]; attempts?: number; reason: string; hint: string; cause?: unknown }) {
    const what =
      init.port !== undefined
        ? init.protocol === 'tcp'
          ? `cannot listen on ${init.host}:${init.port}: ${init.reason}`
          : `cannot bind UDP port ${init.port} on ${init.host}: ${init.reason}`
        : `no free UDP port pair on ${init.host} in ${init.range?.join('-') ?? 'the range'} after ${init.attempts ?? 0} attempts (last: ${init.reason})`
    super('RTSP_ERR_CONNECT', `${what}; ${init.hint}`, { cause: init.cause })
    this.protocol = init.protocol
    this.host = init.host
    this.port = init.port
    this.range = init.range
    this.reason = init.reason
  }
}

/**
 * The embedded server refuses a client's request: the status (RFC 2326 §7.1.1) and headers
 * its reply carries. `reason`, when set, replaces the standard reason phrase so the client
 * learns why (ffmpeg prints the phrase; rtspkit's StatusError carries it).
 */
export class RequestRejectedError extends RtspError {
  readonly status: number
  readonly reason: string | undefined
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  constructor(init: { status: number; message: string; reason?: string; headers?: Record<string, string | readonly string[]> }) {
    super('RTSP_ERR_REJECTED', `${init.status} ${init.message}`)
    this.status = init.status
    this.reason = init.reason
    this.headers = init.headers ?? {}
  }
}
