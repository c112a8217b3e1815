/**
 * The RTSP message model (RFC 2326 §4, §6, §7): requests, responses and their headers.
 * Knows nothing of sessions or sockets; `reader.ts` builds these, `serialize.ts` writes them.
 */

export type HeadersInit =
  | Headers
  | Iterable<readonly [string, string]>
  | Record<string, string | number | readonly string[] | undefined>

/**
 * An ordered list of header fields. Names compare case-insensitively (RFC 2326 §4.2, as in
 * HTTP/1.1) but keep the spelling they were given, so a message round-trips byte for byte.
 */
export class Headers implements Iterable<[string, string]> {
  // [name as written, value, name lower-cased]
  private readonly list: Array<[string, string, string]> = []

  constructor(init?: HeadersInit) {
    if (init === undefined) return
    if (init instanceof Headers) {
      for (const [name, value] of init) this.append(name, value)
    } else if (Symbol.iterator in init) {
      for (const [name, value] of init as Iterable<readonly [string, string]>) this.append(name, value)
    } else {
      for (const [name, value] of Object.entries(init)) {
        if (value === undefined) continue
        if (typeof value === 'object') for (const v of value) this.append(name, v)
        else this.append(name, String(value))
      }
    }
  }

  /** Number of fields (repeated names count once each). */
  get size(): number {
    return this.list.length
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const lower = name.toLowerCase()
    for (const entry of this.list) if (entry[2] === lower) return entry[1]
    return undefined
  }

  /** Every value of `name`, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase()
    const out: string[] = []
    for (const entry of this.list) if (entry[2] === lower) out.push(entry[1])
    return out
  }

  has(name: string): boolean {
    const lower = name.toLowerCase()
    return this.list.some((entry) => entry[2] === lower)
  }

  /** Replace the first field named `name` in place (dropping any others), or append one. */
  set(name: string, value: string | number): this {
    const lower = name.toLowerCase()
    const v = String(value)
    let found = false
    for (let i = 0; i < this.list.length; ) {
      const entry = this.list[i]!
      if (entry[2] !== lower) {
        i++
      } else if (!found) {
        this.list[i] = [name, v, lower]
        found = true
        i++
      } else {
        this.list.splice(i, 1)
      }
    }
    if (!found) this.list.push([name, v, lower])
    return this
  }

  append(name: string, value: string | number): this {
    this.list.push([name, String(value), name.toLowerCase()])
    return this
  }

  /** Remove every field named `name`; true when there was one. */
  delete(name: string): boolean {
    const lower = name.toLowerCase()
    const before = this.list.length
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]![2] === lower) this.list.splice(i, 1)
    return this.list.length !== before
  }

  *entries(): IterableIterator<[string, string]> {
    for (const entry of this.list) yield [entry[0], entry[1]]
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries()
  }

  /** Plain object for logs and JSON: the first spelling of each name; repeated names give arrays. */
  toJSON(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {}
    const spelling = new Map<string, string>()
    for (const [name, value, lower] of this.list) {
      const key = spelling.get(lower)
      if (key === undefined) {
        spelling.set(lower, name)
        out[name] = value
      } else {
        const prev = out[key]!
        out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value]
      }
    }
    return out
  }
}

/** RFC 2326 §6: Request-Line = Method SP Request-URI SP RTSP-Version CRLF, headers, body. */
export interface RtspRequest {
  method: string
  url: string
  /** 'RTSP/1.0' */
  version: string
  headers: Headers
  body: Buffer
}

/** RFC 2326 §7: Status-Line = RTSP-Version SP Status-Code SP Reason-Phrase CRLF, headers, body. */
export interface RtspResponse {
  version: string
  status: number
  /** May be empty: some servers send `RTSP/1.0 200` with no phrase. */
  reason: string
  headers: Headers
  body: Buffer
}

/**
 * The CSeq of a message (RFC 2326 §12.17), or undefined when missing or not a number.
 * Tolerates padding such as `CSeq:  3 ` and any capitalisation of the name.
 */
export function cseqOf(msg: { headers: Headers }): number | undefined {
  const raw = msg.headers.get('cseq')
  if (raw === undefined) return undefined
  const s = raw.trim()
  if (!/^\d{1,15}$/.test(s)) return undefined
  return Number(s)
}
