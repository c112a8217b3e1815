/**
 * Client side of HTTP authentication as RTSP uses it (RFC 2326 §12.5, §12.44):
 * Basic (RFC 7617) and Digest (RFC 2617, RFC 7616) with MD5, SHA-256 and their -sess forms.
 * The password lives in a #private field, so it never shows in logs, inspect() or JSON.
 */
import { createHash, randomBytes } from 'node:crypto'
import { quote } from './headers/quoted.js'
import { parseWwwAuthenticate } from './headers/www-authenticate.js'
import type { Challenge } from './headers/www-authenticate.js'

export interface AuthenticatorOptions {
  /** Client nonce generator (tests pass a fixed one). Default: 16 random bytes in hex. */
  cnonce?: () => string
}

interface DigestState {
  realm: string
  nonce: string
  opaque: string | undefined
  /** The algorithm token as the challenge wrote it; echoed only when present (RFC 7616 §3.4). */
  algorithm: string | undefined
  hash: 'md5' | 'sha256'
  sess: boolean
  qop: 'auth' | undefined
  userhash: boolean
  nc: number
  /** -sess: the cnonce that went into HA1, fixed for this nonce (RFC 2617 §3.2.2.2). */
  sessCnonce: string | undefined
}

type Choice = { kind: 'basic' } | { kind: 'digest'; rank: number; challenge: Challenge; hash: 'md5' | 'sha256'; sess: boolean; qop: 'auth' | undefined }

export class Authenticator {
  readonly #username: string
  readonly #password: string
  readonly #cnonce: () => string
  #scheme: 'basic' | 'digest' | undefined
  #digest: DigestState | undefined

  constructor(credentials: { username: string; password: string }, options?: AuthenticatorOptions) {
    this.#username = credentials.username
    this.#password = credentials.password
    this.#cnonce = options?.cnonce ?? (() => randomBytes(16).toString('hex'))
  }

  /** The scheme in use after a successful accept(). */
  get scheme(): 'basic' | 'digest' | undefined {
    return this.#scheme
  }

  /**
   * Feed the WWW-Authenticate values of a 401. Chooses Digest SHA-256 > Digest MD5 > Basic.
   * Returns false when none is usable (the previous state is kept). A new nonce resets nc.
   */
  accept(challengeHeaderValues: string[]): boolean {
    let best: Choice | undefined
    for (const value of challengeHeaderValues) {
      for (const challenge of parseWwwAuthenticate(value)) {
        const choice = classify(challenge)
        if (choice === undefined) continue
        if (best === undefined || rank(choice) > rank(best)) best = choice
      }
    }
    if (best === undefined) return false
    if (best.kind === 'basic') {
      this.#scheme = 'basic'
      this.#digest = undefined
      return true
    }
    const p = best.challenge.params
    const realm = p.realm ?? ''
    const nonce = p.nonce ?? ''
    const prev = this.#digest
    const sameNonce = prev !== undefined && prev.nonce === nonce && prev.realm === realm && prev.hash === best.hash && prev.sess === best.sess
    this.#scheme = 'digest'
    this.#digest = {
      realm,
      nonce,
      opaque: p.opaque,
      algorithm: p.algorithm,
      hash: best.hash,
      sess: best.sess,
      qop: best.qop,
      userhash: (p.userhash ?? '').toLowerCase() === 'true',
      nc: sameNonce ? prev.nc : 0,
      sessCnonce: sameNonce ? prev.sessCnonce : undefined,
    }
    return true
  }

  /** The Authorization header value for this request, computed with THIS request's method and uri; undefined before any challenge. */
  authorize(method: string, uri: string): string | undefined {
    if (this.#scheme === 'basic') {
      // RFC 7617 §2: base64(user-id ":" password), UTF-8.
      return `Basic ${Buffer.from(`${this.#username}:${this.#password}`, 'utf8').toString('base64')}`
    }
    const d = this.#digest
    if (this.#scheme !== 'digest' || d === undefined) return undefined
    const H = (s: string): string => createHash(d.hash).update(s, 'utf8').digest('hex')

    d.nc = (d.nc + 1) >>> 0
    const nc = d.nc.toString(16).padStart(8, '0')
    let cnonce: string | undefined
    if (d.sess) cnonce = d.sessCnonce ??= this.#cnonce()
    else if (d.qop !== undefined) cnonce = this.#cnonce()

    // RFC 7616 §3.4.2: HA1 = H(user:realm:pass), -sess: H(H(user:realm:pass):nonce:cnonce)
    let ha1 = H(`${this.#username}:${d.realm}:${this.#password}`)
    if (d.sess) ha1 = H(`${ha1}:${d.nonce}:${cnonce!}`)
    // §3.4.3: HA2 = H(method:uri) for qop=auth or no qop
    const ha2 = H(`${method}:${uri}`)
    // §3.4.1 with qop; RFC 2069 form (no nc/cnonce) without.
    const response = d.qop === 'auth' ? H(`${ha1}:${d.nonce}:${nc}:${cnonce!}:auth:${ha2}`) : H(`${ha1}:${d.nonce}:${ha2}`)

    // §3.4.4: userhash hides the user name behind H(user:realm).
    const username = d.userhash ? H(`${this.#username}:${d.realm}`) : this.#username
    const fields = [`username=${quote(username)}`, `realm=${quote(d.realm)}`, `nonce=${quote(d.nonce)}`, `uri=${quote(uri)}`, `response=${quote(response)}`]
    if (d.algorithm !== undefined) fields.push(`algorithm=${d.algorithm}`)
    if (d.qop !== undefined) fields.push(`qop=${d.qop}`, `nc=${nc}`)
    if (cnonce !== undefined) fields.push(`cnonce=${quote(cnonce)}`)
    if (d.opaque !== undefined) fields.push(`opaque=${quote(d.opaque)}`)
    if (d.userhash) fields.push('userhash=true')
    return `Digest ${fields.join(', ')}`
  }

  /** Keep the password out of util.inspect and JSON.stringify. */
  toJSON(): { scheme: 'basic' | 'digest' | undefined; username: string } {
    return { scheme: this.#scheme, username: this.#username }
  }
}

function rank(choice: Choice): number {
  return choice.kind === 'basic' ? 0 : choice.rank
}

function classify(challenge: Challenge): Choice | undefined {
  const scheme = challenge.scheme.toLowerCase()
  if (scheme === 'basic') return { kind: 'basic' }
  if (scheme !== 'digest') return undefined
  const p = challenge.params
  if (p.nonce === undefined || p.realm === undefined) return undefined
  const algorithm = (p.algorithm ?? 'MD5').toUpperCase()
  let hash: 'md5' | 'sha256'
  let sess = false
  switch (algorithm) {
    case 'MD5':
      hash = 'md5'
      break
    case 'MD5-SESS':
      hash = 'md5'
      sess = true
      break
    case 'SHA-256':
      hash = 'sha256'
      break
    case 'SHA-256-SESS':
      hash = 'sha256'
      sess = true
      break
    default:
      return undefined // SHA-512-256 and unknown algorithms
  }
  let qop: 'auth' | undefined
  if (p.qop !== undefined) {
    const offered = p.qop.split(',').map((q) => q.trim().toLowerCase())
    // qop=auth-int alone would need the body hash of every request; not supported.
    if (!offered.includes('auth')) return undefined
    qop = 'auth'
  }
  return { kind: 'digest', rank: hash === 'sha256' ? 2 : 1, challenge, hash, sess, qop }
}
