import { SdpError } from '../errors.js'
import type { MediaDescription, RtpMap, SessionDescription } from './types.js'

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive'])

/**
 * Parse an SDP body (RFC 8866 §5) leniently: CRLF, LF or CR line ends, trailing spaces,
 * missing v=/o=/s=/t= lines and unknown lines are accepted, because cameras send all of
 * them. Throws SdpError only when there is nothing usable: not text, or no m= line.
 */
export function parseSdp(text: string | Uint8Array): SessionDescription {
  let s: string
  if (typeof text === 'string') s = text
  else if (text instanceof Uint8Array) s = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8')
  else throw new SdpError(`SDP must be a string or a Buffer, got ${typeof text}`)
  if (s.includes('\0')) throw new SdpError('the SDP body is binary, not text; the server sent something else than application/sdp')
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1)

  const session: SessionDescription = { version: 0, attributes: [], media: [] }
  let media: MediaDescription | undefined
  for (const raw of s.split(/\r\n|\n|\r/)) {
    const line = raw.trim()
    if (line.length < 2) continue
    // "<type>=<value>" (§5); some encoders put spaces around '='.
    const eq = line.indexOf('=')
    if (eq < 1) continue
    const type = line.slice(0, eq).trim()
    if (type.length !== 1) continue
    const value = line.slice(eq + 1).trim()
    switch (type) {
      case 'v':
        if (!media) session.version = Number.parseInt(value, 10) || 0
        break
      case 'o':
        if (!media) session.origin = value
        break
      case 's':
        if (!media) session.sessionName = value
        break
      case 'm':
        media = parseMediaLine(value)
        session.media.push(media)
        break
      case 'b':
        if (media) {
          // b=<bwtype>:<bandwidth> (§5.8); only AS is a plain kbit/s figure.
          const m = /^AS\s*:\s*(\d+)/i.exec(value)
          if (m) media.bandwidth = Number(m[1])
        }
        break
      case 'a':
        if (media) mediaAttribute(media, value)
        else sessionAttribute(session, value)
        break
      default:
        // c=, t=, i=, u=, e=, p=, z=, k=, r= carry nothing RTSP playback needs.
        break
    }
  }
  if (session.media.length === 0) {
    throw new SdpError('the SDP has no media (m=) line; the server describes no stream at this URL')
  }
  for (const m of session.media) adoptStrayFormatLines(m)
  return session
}

/**
 * A media with one format whose a=fmtp (or a=rtpmap) names a payload type that is not on
 * its m= line: HIK Media Server V5 writes `m=audio 0 RTP/AVP 104` with `a=fmtp:97 ...config=1408`
 * (gortsplib #658), and FFmpeg and live555 play it. The stray line can only mean the one
 * format, so it is taken for it when that format has none of its own.
 */
function adoptStrayFormatLines(media: MediaDescription): void {
  if (media.formats.length !== 1) return
  const pt = media.formats[0]!
  if (!media.fmtp.has(pt) && media.fmtp.size === 1) {
    const [stray, params] = media.fmtp.entries().next().value!
    media.fmtp.delete(stray)
    media.fmtp.set(pt, params)
  }
  if (!media.rtpmap.has(pt) && media.rtpmap.size === 1 && pt >= 96) {
    const [stray, map] = media.rtpmap.entries().next().value!
    media.rtpmap.delete(stray)
    media.rtpmap.set(pt, { ...map, payloadType: pt })
  }
}

/** m=<media> <port>[/<number of ports>] <proto> <fmt> ... (§5.14) */
function parseMediaLine(value: string): MediaDescription {
  const parts = value.split(/\s+/)
  const formats: number[] = []
  for (const f of parts.slice(3)) {
    // Non-RTP protocols may list non-numeric formats; a media without a usable one still keeps its attributes.
    if (/^\d+$/.test(f)) formats.push(Number(f))
  }
  return {
    type: (parts[0] ?? '').toLowerCase(),
    port: Number.parseInt(parts[1] ?? '', 10) || 0,
    protocol: parts[2] ?? '',
    formats,
    rtpmap: new Map(),
    fmtp: new Map(),
    attributes: [],
  }
}

function splitAttribute(value: string): [string, string] {
  const colon = value.indexOf(':')
  if (colon === -1) return [value.trim(), '']
  return [value.slice(0, colon).trim(), value.slice(colon + 1).trim()]
}

function sessionAttribute(session: SessionDescription, value: string): void {
  const [name, val] = splitAttribute(value)
  session.attributes.push([name, val])
  const key = name.toLowerCase()
  if (key === 'control') session.control = val
  else if (key === 'range') session.range = val
}

function mediaAttribute(media: MediaDescription, value: string): void {
  const [name, val] = splitAttribute(value)
  media.attributes.push([name, val])
  const key = name.toLowerCase()
  if (key === 'control') {
    media.control = val
  } else if (key === 'rtpmap') {
    const map = parseRtpMap(val)
    if (map) media.rtpmap.set(map.payloadType, map)
  } else if (key === 'fmtp') {
    const m = /^(\d+)\s*(.*)$/s.exec(val)
    if (m) {
      const pt = Number(m[1])
      // Several fmtp lines for one payload type are merged, later keys winning.
      const params = media.fmtp.get(pt) ?? {}
      parseFmtpParams(m[2] ?? '', params)
      media.fmtp.set(pt, params)
    }
  } else if (DIRECTIONS.has(key)) {
    media.direction = key
  }
}

/** a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (§6.6) */
export function parseRtpMap(value: string): RtpMap | undefined {
  const m = /^(\d+)\s+([^\s/]+)\s*(?:\/\s*(\d+))?\s*(?:\/\s*(\d+))?/.exec(value)
  if (!m) return undefined
  const map: RtpMap = { payloadType: Number(m[1]), encoding: m[2]!, clockRate: m[3] ? Number(m[3]) : 0 }
  if (m[4]) map.channels = Number(m[4])
  return map
}

/**
 * fmtp parameters "k=v; k=v" (RFC 6184 §8.1 and RFC 3640 §4.1 style): keys lower-cased,
 * values trimmed strings; only the first '=' splits, so base64 padding survives.
 */
export function parseFmtpParams(value: string, into: Record<string, string> = {}): Record<string, string> {
  for (const part of value.split(';')) {
    const p = part.trim()
    if (!p) continue
    const eq = p.indexOf('=')
    if (eq === -1) into[p.toLowerCase()] = ''
    else into[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim()
  }
  return into
}

/** Static payload types of RFC 3551 §6 that RTSP servers use without an rtpmap. */
const STATIC_PAYLOAD_TYPES: Record<number, Omit<RtpMap, 'payloadType'>> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  3: { encoding: 'GSM', clockRate: 8000, channels: 1 },
  4: { encoding: 'G723', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
  9: { encoding: 'G722', clockRate: 8000, channels: 1 },
  10: { encoding: 'L16', clockRate: 44100, channels: 2 },
  11: { encoding: 'L16', clockRate: 44100, channels: 1 },
  14: { encoding: 'MPA', clockRate: 90000 },
  18: { encoding: 'G729', clockRate: 8000, channels: 1 },
  26: { encoding: 'JPEG', clockRate: 90000 },
  32: { encoding: 'MPV', clockRate: 90000 },
  33: { encoding: 'MP2T', clockRate: 90000 },
}

/**
 * The rtpmap of a payload type: the a=rtpmap line when there is one, else the static
 * assignment of RFC 3551 for payload types below 96.
 */
export function rtpMapFor(media: MediaDescription, payloadType: number): RtpMap | undefined {
  const map = media.rtpmap.get(payloadType)
  if (map) return map
  const st = STATIC_PAYLOAD_TYPES[payloadType]
  return st ? { payloadType, ...st } : undefined
}
