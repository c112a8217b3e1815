/**
 * Writes RTSP messages (RFC 2326 §4, §6, §7) and `$` interleaved frames (§10.12).
 * Every name, value and URL is checked for CR/LF so no caller can inject a header.
 */
import { InvalidArgumentError } from '../errors.js'
import { redactUrl } from '../util/url.js'
import { Headers } from './message.js'
import type { HeadersInit } from './message.js'

export interface RequestInit {
  method: string
  url: string
  /** Defaults to 'RTSP/1.0'. */
  version?: string
  headers: Headers | Record<string, string>
  body?: Buffer | string
}

export interface ResponseInit {
  status: number
  /** Defaults to the RFC 2326 §7.1.1 phrase for the status, or ''. */
  reason?: string
  version?: string
  headers: Headers | Record<string, string>
  body?: Buffer | string
}

const DEFAULT_VERSION = 'RTSP/1.0'

// RFC 2326 §7.1.1 reason phrases (the ones a server in this project may send).
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Time-out',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  459: 'Aggregate operation not allowed',
  460: 'Only aggregate operation allowed',
  461: 'Unsupported transport',
  462: 'Destination unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version not supported',
  551: 'Option not supported',
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const VERSION = /^RTSP\/\d+\.\d+$/

/** Serialize a request: request line, headers (Content-Length set from the body), blank line, body. */
export function serializeRequest(req: RequestInit): Buffer {
  if (!TOKEN.test(req.method)) throw new InvalidArgumentError(`invalid RTSP method ${JSON.stringify(req.method)}; use a token such as OPTIONS`)
  if (req.url === '' || /[\s]/.test(req.url)) {
    throw new InvalidArgumentError(`invalid request URL ${JSON.stringify(redactUrl(req.url))}: it must be non-empty with no spaces or line breaks; percent-encode them`)
  }
  const version = checkVersion(req.version)
  return build(`${req.method} ${req.url} ${version}\r\n`, req.headers, req.body)
}

/** Serialize a response: status line, headers (Content-Length set from the body), blank line, body. */
export function serializeResponse(res: ResponseInit): Buffer {
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 999) {
    throw new InvalidArgumentError(`invalid RTSP status ${res.status}; use a three-digit code`)
  }
  const reason = res.reason ?? REASONS[res.status] ?? ''
  if (/[\r\n]/.test(reason)) throw new InvalidArgumentError('the reason phrase must not contain line breaks')
  const version = checkVersion(res.version)
  return build(`${version} ${res.status}${reason === '' ? '' : ` ${reason}`}\r\n`, res.headers, res.body)
}

function checkVersion(version: string | undefined): string {
  if (version === undefined) return DEFAULT_VERSION
  if (!VERSION.test(version)) throw new InvalidArgumentError(`invalid RTSP version ${JSON.stringify(version)}; use RTSP/1.0`)
  return version
}

function build(startLine: string, init: HeadersInit, bodyInit: Buffer | string | undefined): Buffer {
  const body = bodyInit === undefined ? undefined : typeof bodyInit === 'string' ? Buffer.from(bodyInit, 'utf8') : bodyInit
  const headers = init instanceof Headers ? init : new Headers(init)
  let head = startLine
  let wroteLength = false
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new InvalidArgumentError(`invalid header name ${JSON.stringify(name)}`)
    if (/[\r\n]/.test(value)) throw new InvalidArgumentError(`the value of header ${name} contains a line break`)
    // §12.14: Content-Length must match the body we actually send, whatever the caller set.
    if (body !== undefined && body.length > 0 && name.toLowerCase() === 'content-length') {
      if (wroteLength) continue
      wroteLength = true
      head += `${name}: ${body.length}\r\n`
      continue
    }
    head += `${name}: ${value}\r\n`
  }
  if (body !== undefined && body.length > 0 && !wroteLength) head += `Content-Length: ${body.length}\r\n`
  head += '\r\n'
  const headLength = Buffer.byteLength(head, 'utf8')
  const out = Buffer.allocUnsafe(headLength + (body?.length ?? 0))
  out.write(head, 0, 'utf8')
  if (body !== undefined) body.copy(out, headLength)
  return out
}

/** The 4-byte header of an interleaved frame at `b[at]`: '$', the channel, the length (BE 16). */
export function writeInterleavedHeader(b: Uint8Array, at: number, channel: number, length: number): void {
  b[at] = 0x24 // '$'
  b[at + 1] = channel
  b[at + 2] = length >>> 8
  b[at + 3] = length & 0xff
}

/**
 * Several packets framed one after another, `$` channel length each (RFC 2326 §10.12), in one
 * buffer: one socket write per access unit. Callers pass RTP packets, which fit a frame.
 */
export function encodeInterleavedPackets(channel: number, packets: readonly Uint8Array[]): Buffer {
  let size = 0
  for (let i = 0; i < packets.length; i++) size += 4 + packets[i]!.length
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (let i = 0; i < packets.length; i++) {
    const p = packets[i]!
    writeInterleavedHeader(out, o, channel, p.length)
    out.set(p, o + 4)
    o += 4 + p.length
  }
  return out
}

/**
 * One interleaved frame (RFC 2326 §10.12):
 *
 *   0        1         2        3
 *   +--------+---------+-----------------+------------------
 *   |  '$'   | channel |  length (BE 16) |  payload ...
 *   +--------+---------+-----------------+------------------
 */
export function encodeInterleaved(channel: number, payload: Uint8Array): Buffer {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new InvalidArgumentError(`interleaved channel ${channel} is out of range 0-255`)
  }
  if (payload.length > 0xffff) {
    throw new InvalidArgumentError(`interleaved payload of ${payload.length} bytes exceeds 65535; split it (RTP packets over TCP must fit one frame)`)
  }
  const out = Buffer.allocUnsafe(4 + payload.length)
  writeInterleavedHeader(out, 0, channel, payload.length)
  out.set(payload, 4)
  return out
}
