/**
 * (Over 400 lines: the byte-level state machine of every message kind on one connection,
 * the hot path of TCP media, in one place.)
 *
 * Incremental reader for one RTSP TCP stream. The stream mixes responses, requests from
 * the server (OPTIONS / GET_PARAMETER / ANNOUNCE keep-alives and notices) and `$`
 * interleaved binary frames (RFC 2326 §10.12). Bytes may be split at any point.
 *
 * Frame starts recognised at a boundary (anything else is garbage, skipped and counted):
 *   '$' channel len16 payload                       interleaved frame
 *   'RTSP/' ...                                      status line (§7.1)
 *   METHOD SP URI SP 'RTSP/' ...                     request line (§6.1)
 *
 * Memory is bounded by ReaderLimits: a partial line lives in one scratch buffer of
 * maxLineLength bytes; a body or interleaved payload that spans chunks is copied into one
 * buffer of its size as it comes (the caller may reuse a chunk once push returns); one
 * that lies inside a chunk is handed out as a view of it. Nothing is buffered past a limit
 * before it throws.
 */
import { LimitError, ProtocolError } from '../errors.js'
import type { RtspError } from '../errors.js'
import { Headers } from './message.js'
import type { RtspRequest, RtspResponse } from './message.js'

export interface ReaderLimits {
  /** Longest start line or header line, terminator excluded. */
  maxLineLength: number
  /** Most header lines (continuations included) in one message. */
  maxHeaderCount: number
  /** Largest Content-Length accepted (SDP, GET_PARAMETER bodies). */
  maxBodySize: number
  /** Most bytes skipped in one run while resynchronising before giving up. */
  maxGarbage: number
}

export interface ReaderHandlers {
  onResponse(res: RtspResponse): void
  onRequest(req: RtspRequest): void
  /**
   * Hot path. `payload` is a view of the pushed chunk when the frame lay inside one (valid as
   * long as the chunk is), else a buffer of its own.
   */
  onInterleaved(channel: number, payload: Buffer): void
  /**
   * Hot path, taken instead of onInterleaved when given: the payload is `buf[start, end)`,
   * handed as a range so that no Buffer view is made per frame (one per packet was ~5 % of a
   * pull's CPU at 84 Mbit/s, bench/ingest.ts profile). `buf` is the pushed chunk, or a buffer
   * of the frame's own when it spanned chunks.
   */
  onInterleavedAt?(channel: number, buf: Buffer, start: number, end: number): void
  /** Bytes skipped while resynchronising (reported when a frame start is found, and at the end of each push). */
  onGarbage?(skippedBytes: number): void
}

export const DEFAULT_READER_LIMITS: Readonly<ReaderLimits> = Object.freeze({
  maxLineLength: 8192,
  maxHeaderCount: 128,
  maxBodySize: 1024 * 1024,
  maxGarbage: 1024 * 1024,
})

type Mode =
  | 'start' // at a frame boundary, or skipping garbage
  | 'candidate' // matching the first bytes of a status or request line
  | 'dollar' // inside the 4-byte interleaved header
  | 'payload' // collecting an interleaved payload
  | 'line' // collecting a line of a message head
  | 'body' // collecting a message body

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const DOLLAR = 0x24
const RTSP_SLASH = [0x52, 0x54, 0x53, 0x50, 0x2f] // 'RTSP/'
const MAX_METHOD = 32

// Matcher verdicts.
const MORE = 0
const IS_RESPONSE = 1
const IS_REQUEST = 2
const FAIL = -1

const EMPTY = Buffer.alloc(0)

const STATUS_LINE = /^RTSP\/(\d{1,3}\.\d{1,3})[ \t]+(\d{3})(?:[ \t]+(.*?))?[ \t]*$/
const REQUEST_LINE = /^([A-Z][A-Z0-9_-]*) (\S+) RTSP\/(\d{1,3}\.\d{1,3})[ \t]*$/

function isMethodChar(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x5f || b === 0x2d
}

export class RtspReader {
  private readonly handlers: ReaderHandlers
  private readonly limits: ReaderLimits
  private mode: Mode = 'start'

  // Partial candidate / line bytes carried between chunks.
  private lineBuf: Buffer | undefined
  private lineLen = 0

  // Start-line matcher: index into 'RTSP/' (-1 dead); request phase 0 method, 1 uri, 2 'RTSP/' (-1 dead).
  private mStatus = 0
  private mPhase = 0
  private mCount = 0

  // Garbage accounting.
  private inGarbage = false
  private garbageRun = 0
  private garbagePending = 0

  // Interleaved header and payload / body collection.
  private dHave = 0
  private channel = 0
  private size = 0
  private remaining = 0
  /** The payload or body being collected, when it spans chunks; `collected` bytes of it are in. */
  private pending: Buffer | undefined
  private collected = 0

  // Message head in progress.
  private kind: 'response' | 'request' = 'response'
  private firstDone = false
  private version = ''
  private status = 0
  private reason = ''
  private method = ''
  private url = ''
  private fields: Array<[string, string]> = []
  private headBytes = 0
  private headerLines = 0
  private headers: Headers | undefined

  /** handlers.onInterleavedAt, else a range handler that makes the view onInterleaved takes. */
  private readonly interleavedAt: (channel: number, buf: Buffer, start: number, end: number) => void

  constructor(handlers: ReaderHandlers, limits?: Partial<ReaderLimits>) {
    this.handlers = handlers
    const at = handlers.onInterleavedAt
    this.interleavedAt =
      at !== undefined ? at.bind(handlers) : (channel, buf, start, end) => handlers.onInterleaved(channel, buf.subarray(start, end))
    this.limits = { ...DEFAULT_READER_LIMITS, ...limits }
  }

  /** Bytes held now: a partial line, the head read so far, a partial header or payload/body pieces. */
  get buffered(): number {
    return this.lineLen + this.headBytes + this.dHave + this.collected
  }

  /** Forget everything in progress (after an error, or when the stream is replaced). */
  reset(): void {
    this.mode = 'start'
    this.lineLen = 0
    this.inGarbage = false
    this.garbageRun = 0
    this.garbagePending = 0
    this.dHave = 0
    this.pending = undefined
    this.collected = 0
    this.remaining = 0
    this.clearHead()
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.process(chunk, 0)
    if (this.garbagePending > 0) this.reportGarbage()
  }

  private process(buf: Buffer, start: number): void {
    const end = buf.length
    const interleavedAt = this.interleavedAt
    let i = start
    // Where the current candidate or line begins inside `buf` (earlier bytes are in lineBuf).
    let seg = start
    while (i < end) {
      switch (this.mode) {
        case 'start': {
          const b = buf[i]!
          if (b === DOLLAR) {
            if (this.inGarbage) this.endGarbage()
            if (i + 4 <= end) {
              // Fast path: the whole 4-byte header is here.
              const channel = buf[i + 1]!
              const size = (buf[i + 2]! << 8) | buf[i + 3]!
              i += 4
              if (i + size <= end) {
                const from = i
                i += size
                interleavedAt(channel, buf, from, i)
              } else {
                this.channel = channel
                this.size = size
                this.remaining = size
                this.collected = 0
                this.mode = 'payload'
                if (i < end) this.collect(buf, i, end)
                i = end
              }
            } else {
              this.dHave = 1
              this.mode = 'dollar'
              i++
            }
          } else if (b >= 0x41 && b <= 0x5a) {
            // 'A'..'Z': maybe 'RTSP/' or a method.
            this.mode = 'candidate'
            this.mStatus = 0
            this.mPhase = 0
            this.mCount = 0
            seg = i
          } else if ((b === CR || b === LF) && !this.inGarbage) {
            // Stray line ends between messages (e.g. a body one CRLF longer than its Content-Length).
            i++
          } else {
            this.skip()
            i++
          }
          break
        }

        case 'candidate': {
          let verdict = MORE
          let j = i
          // Never scan past what a start line may hold, however big the chunk.
          const stop = Math.min(end, seg + this.limits.maxLineLength + 1 - this.lineLen)
          while (j < stop) {
            verdict = this.feed(buf[j]!)
            j++
            if (verdict !== MORE) break
          }
          if (verdict === MORE) {
            if (this.lineLen + (j - seg) > this.limits.maxLineLength) {
              this.fail(new LimitError({ limit: 'start line length', max: this.limits.maxLineLength }))
            }
            this.carry(buf, seg, end)
            i = end
          } else if (verdict === FAIL) {
            // The candidate's first byte is garbage; everything after it is scanned again.
            this.mode = 'start'
            this.skip()
            if (this.lineLen === 0) {
              i = seg + 1
            } else {
              const leftover = Buffer.from(this.lineBuf!.subarray(1, this.lineLen))
              this.lineLen = 0
              this.process(leftover, 0)
              i = seg
              seg = i
            }
          } else {
            if (this.inGarbage) this.endGarbage()
            this.kind = verdict === IS_RESPONSE ? 'response' : 'request'
            this.firstDone = false
            this.mode = 'line'
            i = j
            if (j === end) this.carry(buf, seg, end)
          }
          break
        }

        case 'line': {
          const nl = buf.indexOf(LF, i)
          const stop = nl === -1 ? end : nl
          const length = this.lineLen + (stop - seg)
          // +1: room for the CR of a CRLF whose LF has not arrived yet.
          if (length > this.limits.maxLineLength + 1) {
            this.fail(new LimitError({ limit: this.firstDone ? 'header line length' : 'start line length', max: this.limits.maxLineLength }))
          }
          if (nl === -1) {
            this.carry(buf, seg, end)
            i = end
            break
          }
          // LF-only line ends are accepted (seen from embedded servers); a CR before the LF is dropped.
          const hasCr = nl > seg ? buf[nl - 1] === CR : this.lineLen > 0 && this.lineBuf![this.lineLen - 1] === CR
          const content = length - (hasCr ? 1 : 0)
          if (content > this.limits.maxLineLength) {
            this.fail(new LimitError({ limit: this.firstDone ? 'header line length' : 'start line length', max: this.limits.maxLineLength }))
          }
          let line: string
          if (this.lineLen === 0) {
            line = buf.toString('utf8', seg, seg + content)
          } else {
            this.carry(buf, seg, nl)
            line = this.lineBuf!.toString('utf8', 0, content)
            this.lineLen = 0
          }
          this.headBytes += length + 1
          i = nl + 1
          seg = i
          this.onLine(line)
          break
        }

        case 'body':
        case 'payload': {
          if (end - i < this.remaining) {
            this.collect(buf, i, end)
            i = end
            break
          }
          const pending = this.pending
          const from = i
          i += this.remaining
          if (pending !== undefined) {
            buf.copy(pending, this.collected, from, i)
            this.pending = undefined
          }
          this.collected = 0
          this.remaining = 0
          if (this.mode === 'payload') {
            // A payload is handed out as a range of the chunk, or its own buffer when it spanned chunks.
            this.mode = 'start'
            if (pending === undefined) interleavedAt(this.channel, buf, from, i)
            else interleavedAt(this.channel, pending, 0, pending.length)
          } else {
            // A body is kept past this call (the reply to an awaited request): its own copy.
            this.emit(pending ?? Buffer.from(buf.subarray(from, i)))
          }
          break
        }

        case 'dollar': {
          const b = buf[i++]!
          if (this.dHave === 1) {
            this.channel = b
            this.dHave = 2
          } else if (this.dHave === 2) {
            this.size = b << 8
            this.dHave = 3
          } else {
            this.size |= b
            this.dHave = 0
            if (this.size === 0) {
              this.mode = 'start'
              interleavedAt(this.channel, EMPTY, 0, 0)
            } else {
              this.remaining = this.size
              this.mode = 'payload'
            }
          }
          break
        }
      }
    }
  }

  /** Part of a payload or body that goes on in the next chunk: copied, since the chunk may be reused. */
  private collect(buf: Buffer, from: number, to: number): void {
    const into = (this.pending ??= Buffer.allocUnsafe(this.collected + this.remaining))
    buf.copy(into, this.collected, from, to)
    this.collected += to - from
    this.remaining -= to - from
  }

  /** Feed one byte to the start-line matcher. */
  private feed(b: number): number {
    let alive = false
    if (this.mStatus >= 0) {
      if (b === RTSP_SLASH[this.mStatus]) {
        if (++this.mStatus === 5) return IS_RESPONSE
        alive = true
      } else {
        this.mStatus = -1
      }
    }
    switch (this.mPhase) {
      case 0: // Method = token (§6.1); upper-case in practice
        if (isMethodChar(b) && this.mCount < MAX_METHOD) {
          this.mCount++
          alive = true
        } else if (b === SP && this.mCount > 0) {
          this.mPhase = 1
          this.mCount = 0
          alive = true
        } else {
          this.mPhase = -1
        }
        break
      case 1: // Request-URI: no spaces or controls ('*' allowed for OPTIONS)
        if (b > SP && b !== 0x7f) {
          this.mCount++
          alive = true
        } else if (b === SP && this.mCount > 0) {
          this.mPhase = 2
          this.mCount = 0
          alive = true
        } else {
          this.mPhase = -1
        }
        break
      case 2:
        if (b === RTSP_SLASH[this.mCount]) {
          if (++this.mCount === 5) return IS_REQUEST
          alive = true
        } else {
          this.mPhase = -1
        }
        break
    }
    return alive ? MORE : FAIL
  }

  private onLine(line: string): void {
    if (!this.firstDone) {
      this.firstDone = true
      if (this.kind === 'response') {
        const m = STATUS_LINE.exec(line)
        if (m === null) this.fail(new ProtocolError(`malformed RTSP status line ${quote(line)}; expected "RTSP/1.0 200 OK"`))
        this.version = `RTSP/${m[1]!}`
        this.status = Number(m[2])
        this.reason = m[3] ?? ''
      } else {
        const m = REQUEST_LINE.exec(line)
        if (m === null) this.fail(new ProtocolError(`malformed RTSP request line ${quote(stripUserInfo(line))}; expected "METHOD rtsp://host/path RTSP/1.0"`))
        this.method = m[1]!
        this.url = m[2]!
        this.version = `RTSP/${m[3]!}`
      }
      return
    }
    if (line === '') {
      this.endOfHead()
      return
    }
    if (++this.headerLines > this.limits.maxHeaderCount) {
      this.fail(new LimitError({ limit: 'header count', max: this.limits.maxHeaderCount }))
    }
    const c0 = line.charCodeAt(0)
    if (c0 === SP || c0 === 0x09) {
      // Obsolete line folding (RFC 2616 §2.2 LWS, which RFC 2326 inherits): join with one space.
      const last = this.fields[this.fields.length - 1]
      const more = line.trim()
      if (last !== undefined && more !== '') last[1] = last[1] === '' ? more : `${last[1]} ${more}`
      return
    }
    const colon = line.indexOf(':')
    // A line with no colon carries nothing we can use; some cameras send them, so skip it.
    if (colon <= 0) return
    const name = line.slice(0, colon).trim()
    if (name === '') return
    this.fields.push([name, line.slice(colon + 1).trim()])
  }

  private endOfHead(): void {
    const headers = new Headers(this.fields)
    // RFC 2326 §12.14: no Content-Length means no body.
    let length = 0
    let seen = false
    for (const raw of headers.getAll('content-length')) {
      const v = raw.trim()
      if (!/^\d+$/.test(v)) this.fail(new ProtocolError(`invalid Content-Length ${quote(raw)}; expected a decimal byte count`))
      const n = Number(v)
      if (seen && n !== length) this.fail(new ProtocolError(`conflicting Content-Length values ${length} and ${n}`))
      seen = true
      length = n
    }
    if (length > this.limits.maxBodySize) {
      this.fail(new LimitError({ limit: 'body size', max: this.limits.maxBodySize, detail: `Content-Length ${formatCount(length)}` }))
    }
    this.headers = headers
    this.fields = []
    if (length === 0) {
      this.emit(EMPTY)
    } else {
      this.remaining = length
      this.mode = 'body'
    }
  }

  private emit(body: Buffer): void {
    const headers = this.headers ?? new Headers()
    this.mode = 'start'
    if (this.kind === 'response') {
      const res: RtspResponse = { version: this.version, status: this.status, reason: this.reason, headers, body }
      this.clearHead()
      this.handlers.onResponse(res)
    } else {
      const req: RtspRequest = { method: this.method, url: this.url, version: this.version, headers, body }
      this.clearHead()
      this.handlers.onRequest(req)
    }
  }

  private clearHead(): void {
    this.firstDone = false
    this.fields = []
    this.headers = undefined
    this.headBytes = 0
    this.headerLines = 0
    this.version = ''
    this.reason = ''
    this.method = ''
    this.url = ''
  }

  /** Append buf[from, to) to the scratch line buffer, which holds at most maxLineLength + 1 (CR) bytes. */
  private carry(buf: Buffer, from: number, to: number): void {
    if (this.lineLen + (to - from) > this.limits.maxLineLength + 1) {
      this.fail(new LimitError({ limit: this.firstDone ? 'header line length' : 'start line length', max: this.limits.maxLineLength }))
    }
    if (this.lineBuf === undefined) this.lineBuf = Buffer.allocUnsafe(this.limits.maxLineLength + 1)
    buf.copy(this.lineBuf, this.lineLen, from, to)
    this.lineLen += to - from
  }

  private skip(): void {
    this.inGarbage = true
    this.garbagePending++
    if (++this.garbageRun > this.limits.maxGarbage) {
      this.fail(new LimitError({ limit: 'garbage between frames', max: this.limits.maxGarbage, detail: 'no RTSP message or $ frame found' }))
    }
  }

  private endGarbage(): void {
    this.inGarbage = false
    this.garbageRun = 0
    if (this.garbagePending > 0) this.reportGarbage()
  }

  private reportGarbage(): void {
    const n = this.garbagePending
    this.garbagePending = 0
    this.handlers.onGarbage?.(n)
  }

  private fail(err: RtspError): never {
    this.reset()
    throw err
  }
}

/** Drop `user:pass@` from every URL in a line before it reaches an error message. */
function stripUserInfo(line: string): string {
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1')
}

function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s)
}

function formatCount(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : n.toExponential(3)
}
