/** Small helpers shared by the header parsers: quoted-string aware splitting (RFC 2616 §2.2). */

/** Split `value` at every `sep` that is not inside a quoted string. Pieces are not trimmed. */
export function splitOutsideQuotes(value: string, sep: string): string[] {
  const out: string[] = []
  let from = 0
  let quoted = false
  for (let i = 0; i < value.length; i++) {
    const c = value[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
    } else if (c === sep) {
      out.push(value.slice(from, i))
      from = i + 1
    }
  }
  out.push(value.slice(from))
  return out
}

/** Remove surrounding double quotes and resolve backslash escapes; other values come back trimmed. */
export function unquote(value: string): string {
  const s = value.trim()
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return s
  let out = ''
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i]!
    if (c === '\\' && i + 1 < s.length - 1) out += s[++i]
    else out += c
  }
  return out
}

/** Escape a string for use inside a quoted-string. */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`
}

/** A 32-bit hex identifier as cameras write it: short (`4317f`), padded with spaces or leading zeros. */
export function parseHex32(value: string): number | undefined {
  const s = value.trim().replace(/^0+(?=.)/, '')
  if (!/^[0-9A-Fa-f]{1,8}$/.test(s)) return undefined
  return Number.parseInt(s, 16)
}
