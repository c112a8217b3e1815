/** The embedded server's public option and event types, and its options with defaults filled in. */
import * as net from 'node:net'
import { InvalidArgumentError } from '../errors.js'
import type { ServerCredentials } from './auth.js'
import type { MulticastOptions } from './multicast.js'

export interface AuthorizeContext {
  /** Stream path without the leading slash, e.g. 'cam1'. */
  path: string
  action: 'read' | 'publish'
  /** The authenticated user when credentials are set. */
  user: string | undefined
  remoteAddress: string
}

export interface RtspServerOptions {
  /** Address to listen on. Default '127.0.0.1'. */
  host?: string
  /** TCP port; 0 picks a free one. Default 8554. */
  port?: number
  /** Require Basic or Digest authentication (every method but OPTIONS). */
  credentials?: ServerCredentials | readonly ServerCredentials[]
  /** Realm in challenges. Default 'rtspkit'. */
  realm?: string
  /** Decide per path and action (after authentication); false answers 403. */
  authorize?: (ctx: AuthorizeContext) => boolean | Promise<boolean>
  /**
   * With credentials: may a request without an Authorization header go on (as user
   * undefined, then `authorize`) instead of 401? For paths open to everyone (a config's
   * `user: any`). Default: never.
   */
  allowAnonymous?: (ctx: { path: string; action: 'read' | 'publish' }) => boolean
  /** Session timeout advertised in `Session: id;timeout=N`; silent sessions expire after it. Default 60 s. */
  sessionTimeoutS?: number
  /** Bytes queued for one TCP reader before it skips ahead to the next key frame. Default 4 MiB. */
  maxReaderQueueBytes?: number
  /** A reader that stays behind this long is disconnected. Default 10 000 ms. */
  lagCutMs?: number
  /** Most client connections at once. Default 1024. */
  maxConnections?: number
  /** UDP RTP port of the server (RTCP is the next one); default a free even pair. */
  rtpPort?: number
  /** Largest RTP payload for served files and API streams. Default 1400. */
  mtu?: number
  /** One line per session start and end, and per problem. Default: silent. */
  log?: (line: string) => void
  /**
   * Serve readers that SETUP with `RTP/AVP;multicast`: one copy of each stream sent to a group
   * of this range (`'239.0.0.0/24'`, or the options) that any number of readers join.
   */
  multicast?: string | MulticastOptions
  /** Also accept RTSP-over-HTTP tunnels on this TCP port (0: a free one); they are sniffed on the RTSP port too. */
  httpTunnelPort?: number
}

export interface ServerSessionInfo {
  id: string
  role: 'reader' | 'publisher'
  path: string
  remoteAddress: string
  /** multicast: the reader joined its stream's group (RFC 2326 §12.39). */
  protocol: 'tcp' | 'udp' | 'multicast' | undefined
}

export interface RtspServerEvents {
  'session-start': [info: ServerSessionInfo]
  'session-end': [info: ServerSessionInfo, reason: string]
}

export type ResolvedServerOptions = Required<Omit<RtspServerOptions, 'credentials' | 'realm' | 'authorize' | 'allowAnonymous' | 'rtpPort' | 'log' | 'multicast' | 'httpTunnelPort'>> &
  Pick<RtspServerOptions, 'authorize' | 'allowAnonymous' | 'rtpPort' | 'log' | 'httpTunnelPort'> & { multicast: MulticastOptions | undefined }

/** The options with their defaults, checked (InvalidArgumentError names the bad one). */
export function resolveServerOptions(options: RtspServerOptions): ResolvedServerOptions {
  const opts: ResolvedServerOptions = {
    host: options.host === 'localhost' || options.host === undefined ? '127.0.0.1' : options.host,
    port: options.port ?? 8554,
    sessionTimeoutS: options.sessionTimeoutS ?? 60,
    maxReaderQueueBytes: options.maxReaderQueueBytes ?? 4 * 1024 * 1024,
    lagCutMs: options.lagCutMs ?? 10_000,
    maxConnections: options.maxConnections ?? 1024,
    mtu: options.mtu ?? 1400,
    authorize: options.authorize,
    allowAnonymous: options.allowAnonymous,
    rtpPort: options.rtpPort,
    log: options.log,
    multicast: typeof options.multicast === 'string' ? { range: options.multicast } : options.multicast,
    httpTunnelPort: options.httpTunnelPort,
  }
  if (!net.isIP(opts.host)) throw new InvalidArgumentError(`server host must be an IP address, got ${JSON.stringify(opts.host)}`)
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new InvalidArgumentError(`server port must be 0-65535, got ${opts.port}`)
  }
  const tunnel = opts.httpTunnelPort
  if (tunnel !== undefined && (!Number.isInteger(tunnel) || tunnel < 0 || tunnel > 65535)) {
    throw new InvalidArgumentError(`httpTunnelPort must be 0-65535, got ${tunnel}`)
  }
  if (!(opts.sessionTimeoutS >= 1)) throw new InvalidArgumentError(`sessionTimeoutS must be at least 1, got ${opts.sessionTimeoutS}`)
  return opts
}
