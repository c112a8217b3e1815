/**
 * WWW-Authenticate header (RFC 7235 §4.1, §2.1; RFC 2326 §12.44 takes it from HTTP):
 *   WWW-Authenticate = 1#challenge
 *   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param       = token BWS "=" BWS ( token / quoted-string )
 * One header may hold several challenges, and commas also separate the parameters, so a
 * bare token not followed by '=' after a comma starts the next challenge.
 */

export interface Challenge {
  /** As written ('Digest', 'basic'); compare case-insensitively. */
  scheme: string
  /** Keys lower-cased, quotes removed, backslash escapes resolved. */
  params: Record<string, string>
}

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a
}

/** Parse every challenge in one header value. Never throws; unreadable bytes are skipped. */
export function parseWwwAuthenticate(value: string): Challenge[] {
  const s = value
  const n = s.length
  const out: Challenge[] = []
  let i = 0

  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++
  }
  const readToken = (): string => {
    const from = i
    while (i < n && isTchar(s.charCodeAt(i))) i++
    return s.slice(from, i)
  }
  const readValue = (): string => {
    if (s[i] === '"') {
      // quoted-string with quoted-pair (RFC 7230 §3.2.6); an unterminated one runs to the end.
      let out = ''
      i++
      while (i < n) {
        const c = s[i++]!
        if (c === '"') break
        if (c === '\\' && i < n) out += s[i++]
        else out += c
      }
      return out
    }
    // Lenient token: some cameras leave '/' or ':' unquoted (realm=/, algorithm=MD5-sess).
    const from = i
    while (i < n && !isWs(s.charCodeAt(i)) && s[i] !== ',') i++
    return s.slice(from, i)
  }

  while (i < n) {
    while (i < n && (isWs(s.charCodeAt(i)) || s[i] === ',')) i++
    if (i >= n) break
    const scheme = readToken()
    if (scheme === '') {
      i++ // not a token: skip it
      continue
    }
    const challenge: Challenge = { scheme, params: {} }
    out.push(challenge)
    let first = true
    for (;;) {
      let sawComma = false
      while (i < n && (isWs(s.charCodeAt(i)) || s[i] === ',')) {
        if (s[i] === ',') sawComma = true
        i++
      }
      if (i >= n) break
      const nameAt = i
      const name = readToken()
      if (name === '') {
        i++ // stray character between parameters
        continue
      }
      skipWs()
      if (s[i] === '=' && s[i + 1] !== '=') {
        i++
        skipWs()
        const v = readValue()
        const key = name.toLowerCase()
        if (key !== '__proto__' && !Object.hasOwn(challenge.params, key)) challenge.params[key] = v
        first = false
        continue
      }
      if (first && !sawComma) {
        // token68 (e.g. Negotiate data): not used by Basic or Digest; consume it.
        while (i < n && s[i] === '=') i++
        first = false
        continue
      }
      // A bare token after a comma: the next challenge's scheme.
      i = nameAt
      break
    }
  }
  return out
}
