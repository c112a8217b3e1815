import type { TlsOptions } from './connection.js'
import type { Credentials } from '../util/url.js'

export type TransportProtocol = 'tcp' | 'udp'

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
  signal?: AbortSignal
}
