import { PullSession } from './pull-session.js'
import type { PullOptions } from './pull-session.js'
import { parseRtspUrl } from '../util/url.js'
import { UnsupportedError } from '../errors.js'

export type ClientOptions = Omit<PullOptions, 'signal'>

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
    this.options = options
  }

  /** Connect, run OPTIONS → DESCRIBE → SETUP (each track) → PLAY, and return the playing session. */
  async pull(url: string, options: PullOptions = {}): Promise<PullSession> {
    const target = parseRtspUrl(url)
    if (target.secure) throw new UnsupportedError('rtsps:// (RTSP over TLS) is not supported yet; use rtsp://')
    const opts: PullOptions = { ...this.options, ...options }
    const session = new PullSession(target, opts)
    await session.start(opts.signal)
    return session
  }
}
