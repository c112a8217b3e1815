/**
 * Server side of RTSP authentication (RFC 2326 §12.5 / §12.44, borrowed from HTTP):
 * challenges with Digest (RFC 7616 / RFC 2617, MD5) and Basic (RFC 7617), and checks the
 * Authorization header a client sends back. The password stays in a #private field.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { quote } from '../rtsp/headers/quoted.js'
import { parseWwwAuthenticate } from '../rtsp/headers/www-authenticate.js'

export interface ServerCredentials {
  username: string
  password: string
}

/** The verdict on one request's Authorization header. */
export type AuthResult = { ok: true; user: string } | { ok: false; reason: 'missing' | 'bad-user' | 'bad-password' | 'stale' | 'malformed' }

export class ServerAuth {
  readonly realm: string
  /** username → password; several users (rtspkit serve --config) or one. */
  #users = new Map<string, string>()
  /** The default nonce; the server hands each connection its own (`newNonce()`). */
  readonly #nonce = newNonce()

  constructor(credentials: ServerCredentials | readonly ServerCredentials[], realm = 'rtspkit') {
    this.setUsers(Array.isArray(credentials) ? credentials : [credentials as ServerCredentials])
    this.realm = realm
  }

  /** Replace the users (a config reload); sessions already authenticated stay. */
  setUsers(users: readonly ServerCredentials[]): void {
    this.#users = new Map(users.map((u) => [u.username, u.password]))
  }

  /** The password of `user`, compared in constant time per candidate. */
  #passwordOf(user: string): string | undefined {
    for (const [name, password] of this.#users) if (same(user, name)) return password
    return undefined
  }

  /**
   * WWW-Authenticate values for a 401: Digest first (clients pick the strongest they know),
   * then Basic. `stale`: the client knew the password but used another nonce (RFC 7616 §3.3).
   */
  challenges(nonce: string = this.#nonce, stale = false): string[] {
    return [`Digest realm=${quote(this.realm)}, nonce=${quote(nonce)}, algorithm=MD5${stale ? ', stale=true' : ''}`, `Basic realm=${quote(this.realm)}`]
  }

  /**
   * Check a request's Authorization header, computed with the request's own method (RFC 7616
   * §3.4.3). A Digest answer counts only with `nonce`, the one given to this connection: a
   * header captured on one connection cannot be replayed on another.
   */
  verify(method: string, authorization: string | undefined, nonce: string = this.#nonce): AuthResult {
    if (authorization === undefined) return { ok: false, reason: 'missing' }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/s.exec(authorization)
    if (m === null) return { ok: false, reason: 'malformed' }
    const scheme = m[1]!.toLowerCase()
    if (scheme === 'basic') {
      // RFC 7617 §2: base64(user-id ":" password).
      const decoded = Buffer.from(m[2]!.trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) return { ok: false, reason: 'malformed' }
      const user = decoded.slice(0, colon)
      const password = this.#passwordOf(user)
      if (password === undefined) return { ok: false, reason: 'bad-user' }
      if (!same(decoded.slice(colon + 1), password)) return { ok: false, reason: 'bad-password' }
      return { ok: true, user }
    }
    if (scheme !== 'digest') return { ok: false, reason: 'malformed' }
    const p = parseWwwAuthenticate(authorization)[0]?.params
    if (p === undefined || p.username === undefined || p.response === undefined || p.uri === undefined || p.nonce === undefined) {
      return { ok: false, reason: 'malformed' }
    }
    const password = this.#passwordOf(p.username)
    if (password === undefined) return { ok: false, reason: 'bad-user' }
    const algorithm = (p.algorithm ?? 'MD5').toUpperCase()
    if (algorithm !== 'MD5') return { ok: false, reason: 'malformed' }
    const H = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex')
    const ha1 = H(`${p.username}:${p.realm ?? this.realm}:${password}`)
    // The uri the client hashed is the one it sends in the header (FFmpeg and GStreamer send the request URL).
    const ha2 = H(`${method}:${p.uri}`)
    const expected = p.qop !== undefined
      ? H(`${ha1}:${p.nonce}:${p.nc ?? ''}:${p.cnonce ?? ''}:${p.qop}:${ha2}`)
      : H(`${ha1}:${p.nonce}:${ha2}`)
    if (!same(expected, p.response.toLowerCase())) return { ok: false, reason: 'bad-password' }
    // Right password, another nonce (a reconnect, or a replay): ask again with stale=true.
    if (p.nonce !== nonce) return { ok: false, reason: 'stale' }
    return { ok: true, user: p.username }
  }

  toJSON(): { realm: string; username: string } {
    return { realm: this.realm, username: [...this.#users.keys()].join(', ') }
  }
}

/** A fresh Digest nonce: 128 random bits. */
export function newNonce(): string {
  return randomBytes(16).toString('hex')
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}
