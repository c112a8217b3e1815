import { InvalidArgumentError } from '../errors.js'
import type { RtpMap } from './types.js'

/** A media to write: a parsed MediaDescription fits, and so does a hand-built one. */
export interface SdpMediaInput {
  type: string
  /** Default 0 (RTSP leaves ports to SETUP). */
  port?: number
  /** Default 'RTP/AVP'. */
  protocol?: string
  formats: number[]
  control?: string
  rtpmap?: ReadonlyMap<number, RtpMap> | readonly RtpMap[]
  /** Parameters as a record (joined 'k=v;k=v' in key order) or as a ready string. */
  fmtp?: ReadonlyMap<number, Readonly<Record<string, string>> | string>
  direction?: string
  /** b=AS: in kbit/s */
  bandwidth?: number
  /** Other a= lines; rtpmap, fmtp, control and direction entries are skipped (the fields above win). */
  attributes?: ReadonlyArray<readonly [string, string]>
}

/** A session to write: a parsed SessionDescription fits. */
export interface SdpSessionInput {
  version?: number
  /** Default '- 0 0 IN IP4 127.0.0.1' */
  origin?: string
  /** Default 'Stream' (s= must not be empty, RFC 8866 §5.3). */
  sessionName?: string
  /** c= value; default 'IN IP4 0.0.0.0'. */
  connection?: string
  control?: string
  range?: string
  attributes?: ReadonlyArray<readonly [string, string]>
  media: readonly SdpMediaInput[]
}

const MEDIA_OWN = new Set(['rtpmap', 'fmtp', 'control', 'sendrecv', 'sendonly', 'recvonly', 'inactive'])
const SESSION_OWN = new Set(['control', 'range'])

/**
 * Write an SDP body (RFC 8866 §5) for ANNOUNCE: CRLF line ends, v/o/s/c/t, then each media
 * with its b=, rtpmap, fmtp, control and other attributes. Values containing CR or LF are
 * rejected, so no caller data can inject lines.
 */
export function writeSdp(desc: SdpSessionInput): string {
  const lines: string[] = []
  const add = (type: string, value: string) => {
    if (/[\r\n]/.test(value)) throw new InvalidArgumentError(`SDP ${type}= value contains a line break: ${JSON.stringify(value)}`)
    lines.push(`${type}=${value}`)
  }
  add('v', String(desc.version ?? 0))
  add('o', desc.origin ?? '- 0 0 IN IP4 127.0.0.1')
  add('s', desc.sessionName || 'Stream')
  add('c', desc.connection ?? 'IN IP4 0.0.0.0')
  add('t', '0 0')
  if (desc.control !== undefined) add('a', `control:${desc.control}`)
  if (desc.range !== undefined) add('a', `range:${desc.range}`)
  for (const [name, value] of desc.attributes ?? []) {
    if (!SESSION_OWN.has(name.toLowerCase())) add('a', attr(name, value))
  }
  for (const m of desc.media) {
    add('m', `${m.type} ${m.port ?? 0} ${m.protocol ?? 'RTP/AVP'} ${m.formats.join(' ')}`)
    if (m.bandwidth !== undefined) add('b', `AS:${m.bandwidth}`)
    for (const map of rtpMaps(m.rtpmap)) {
      add('a', `rtpmap:${map.payloadType} ${map.encoding}/${map.clockRate}${map.channels !== undefined ? `/${map.channels}` : ''}`)
    }
    for (const [pt, params] of m.fmtp ?? []) {
      const value = typeof params === 'string' ? params : Object.entries(params).map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';')
      if (value) add('a', `fmtp:${pt} ${value}`)
    }
    if (m.control !== undefined) add('a', `control:${m.control}`)
    if (m.direction !== undefined) add('a', m.direction)
    for (const [name, value] of m.attributes ?? []) {
      if (!MEDIA_OWN.has(name.toLowerCase())) add('a', attr(name, value))
    }
  }
  return lines.join('\r\n') + '\r\n'
}

function rtpMaps(maps: SdpMediaInput['rtpmap']): Iterable<RtpMap> {
  if (maps === undefined) return []
  return isMap(maps) ? maps.values() : maps
}

function isMap(x: ReadonlyMap<number, RtpMap> | readonly RtpMap[]): x is ReadonlyMap<number, RtpMap> {
  return !Array.isArray(x)
}

function attr(name: string, value: string): string {
  return value === '' ? name : `${name}:${value}`
}
