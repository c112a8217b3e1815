import type { WhepSession } from './whep-session.js'

export interface WhepLimits {
  /** WHEP sessions on the whole server. Default 64. */
  maxSessions?: number
  /** WHEP sessions on one path. Default 16. */
  maxSessionsPerPath?: number
}

/**
 * The live WHEP sessions of one server, by resource id (RFC 9725 §4.3: the Location of
 * the 201 names the session; DELETE on it ends it), with the limits that turn one more
 * viewer into a 503.
 */
export class WhepRegistry {
  readonly maxSessions: number
  readonly maxSessionsPerPath: number
  private readonly sessions = new Map<string, WhepSession>()
  private readonly pending = new Map<string, number>()
  private pendingTotal = 0

  constructor(limits: WhepLimits = {}) {
    this.maxSessions = limits.maxSessions ?? 64
    this.maxSessionsPerPath = limits.maxSessionsPerPath ?? 16
  }

  get size(): number {
    return this.sessions.size
  }

  get(id: string): WhepSession | undefined {
    return this.sessions.get(id)
  }

  /** Sessions on `path`. */
  count(path: string): number {
    let n = 0
    for (const s of this.sessions.values()) if (s.path === path) n++
    return n
  }

  /**
   * Hold a place for a session on `path` while it negotiates (so concurrent offers cannot
   * pass the limits together). Returns the reason when the limits are reached, else a
   * function that gives the place back (call it once the session is added or failed).
   */
  reserve(path: string): { refused: string } | { release: () => void } {
    const onPath = this.count(path) + (this.pending.get(path) ?? 0)
    if (this.sessions.size + this.pendingTotal >= this.maxSessions) {
      return { refused: `the server already has ${this.maxSessions} WebRTC viewers (its limit); try again later or use the MSE player` }
    }
    if (onPath >= this.maxSessionsPerPath) {
      return { refused: `this path already has ${this.maxSessionsPerPath} WebRTC viewers (its limit); try again later or use the MSE player` }
    }
    this.pending.set(path, (this.pending.get(path) ?? 0) + 1)
    this.pendingTotal++
    let released = false
    return {
      release: () => {
        if (released) return
        released = true
        this.pendingTotal--
        const n = (this.pending.get(path) ?? 1) - 1
        if (n > 0) this.pending.set(path, n)
        else this.pending.delete(path)
      },
    }
  }

  /** Track a session until it closes. */
  add(session: WhepSession): void {
    this.sessions.set(session.id, session)
    const prev = session.onClose
    session.onClose = (s, reason) => {
      this.sessions.delete(s.id)
      prev?.(s, reason)
    }
  }

  list(): WhepSession[] {
    return [...this.sessions.values()]
  }

  /** Close the sessions of one path (its source is gone), including those still connecting. */
  closePath(path: string, reason = 'the path ended'): void {
    for (const s of [...this.sessions.values()]) if (s.path === path) s.close(reason)
  }

  /** Close every session (server shutdown). */
  closeAll(reason = 'the server is closing'): void {
    for (const s of [...this.sessions.values()]) s.close(reason)
  }
}
