/**
 * Transport header (RFC 2326 §12.39):
 *   Transport      = "Transport" ":" 1#transport-spec
 *   transport-spec = transport-protocol/profile[/lower-transport] *(";" parameter)
 */
import { ProtocolError } from '../../errors.js'
import { parseHex32, splitOutsideQuotes, unquote } from './quoted.js'

export interface TransportSpec {
  /** Protocol and profile without the lower transport, upper-cased: 'RTP/AVP', 'RTP/SAVP'. */
  protocol: string
  lowerTransport: 'UDP' | 'TCP'
  delivery?: 'unicast' | 'multicast'
  /** RTP and RTCP channels of `$` frames (TCP). */
  interleaved?: [number, number]
  clientPort?: [number, number]
  serverPort?: [number, number]
  /** Multicast RTP/RTCP ports. */
  port?: [number, number]
  ssrc?: number
  /** Upper-cased without quotes: 'PLAY' or 'RECORD'. */
  mode?: string
  source?: string
  destination?: string
  ttl?: number
}

const PROTOCOL = /^([A-Za-z][A-Za-z0-9]*\/[A-Za-z][A-Za-z0-9]*)(?:\/([A-Za-z]+))?$/

/**
 * Parse every comma-separated alternative. Alternatives whose protocol we cannot use are
 * skipped; a ProtocolError is thrown when none is left or a known parameter is malformed.
 */
export function parseTransport(value: string): TransportSpec[] {
  const specs: TransportSpec[] = []
  for (const alternative of splitOutsideQuotes(value, ',')) {
    const parts = splitOutsideQuotes(alternative, ';')
      .map((p) => p.trim())
      .filter((p) => p !== '')
    if (parts.length === 0) continue
    // Usually first, but some servers put it elsewhere (gortsplib "unsorted" case).
    const at = parts.findIndex((p) => PROTOCOL.test(p))
    if (at === -1) continue
    const m = PROTOCOL.exec(parts[at]!)!
    const lower = (m[2] ?? 'UDP').toUpperCase()
    if (lower !== 'UDP' && lower !== 'TCP') continue
    const spec: TransportSpec = { protocol: m[1]!.toUpperCase(), lowerTransport: lower }
    parts.forEach((part, index) => {
      if (index !== at) applyParameter(spec, part)
    })
    specs.push(spec)
  }
  if (specs.length === 0) {
    throw new ProtocolError(`no usable transport in Transport header ${JSON.stringify(value)}; expected e.g. RTP/AVP/TCP;unicast;interleaved=0-1`)
  }
  return specs
}

function applyParameter(spec: TransportSpec, part: string): void {
  const eq = part.indexOf('=')
  const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase()
  const value = eq === -1 ? undefined : unquote(part.slice(eq + 1))
  switch (key) {
    case 'unicast':
    case 'multicast':
      spec.delivery = key
      break
    case 'interleaved':
      spec.interleaved = pair(key, value, 255)
      break
    case 'client_port':
      spec.clientPort = pair(key, value, 65535)
      break
    case 'server_port':
      spec.serverPort = pair(key, value, 65535)
      break
    case 'port':
      spec.port = pair(key, value, 65535)
      break
    case 'ssrc': {
      // Hikvision and Dahua pad with spaces and drop leading zeros; a value longer than 32 bits
      // (some servers print it in decimal) is ignored, as the SSRC is only a hint.
      const ssrc = value === undefined ? undefined : parseHex32(value)
      if (ssrc !== undefined) spec.ssrc = ssrc
      break
    }
    case 'mode': {
      if (value === undefined || value === '') break
      const mode = value.toUpperCase()
      // "receive" is the RFC 2326 draft name of RECORD, still sent by some encoders.
      spec.mode = mode === 'RECEIVE' ? 'RECORD' : mode
      break
    }
    case 'source':
    case 'destination':
      // Some servers send an empty `source=`; treat it as absent.
      if (value !== undefined && value !== '') spec[key] = value
      break
    case 'ttl': {
      const s = value?.trim() ?? ''
      if (!/^\d{1,3}$/.test(s) || Number(s) > 255) throw new ProtocolError(`invalid ttl ${JSON.stringify(value ?? '')} in Transport header`)
      spec.ttl = Number(s)
      break
    }
    default:
      // append, layers and unknown extensions carry nothing we use.
      break
  }
}

/** `a-b`, or a single `a` meaning a-(a+1) (RFC 2326 §12.39: "port ["-" port]"). */
function pair(key: string, value: string | undefined, max: number): [number, number] {
  const pieces = (value ?? '').split('-').map((p) => p.trim())
  const nums = pieces.map((p) => (/^\d{1,5}$/.test(p) ? Number(p) : Number.NaN))
  if ((nums.length === 1 || nums.length === 2) && nums.every((n) => n <= max)) {
    const a = nums[0]!
    const b = nums.length === 2 ? nums[1]! : a + 1
    if (b <= max || nums.length === 1) return [a, b]
  }
  throw new ProtocolError(`invalid ${key} ${JSON.stringify(value ?? '')} in Transport header; expected N or N-M`)
}

/**
 * Format one transport-spec. UDP is written as the bare profile (`RTP/AVP`), as most servers
 * expect; mode is written unquoted and lower-case, which every server we know accepts.
 */
export function formatTransport(spec: TransportSpec): string {
  const out: string[] = [spec.lowerTransport === 'TCP' ? `${spec.protocol}/TCP` : spec.protocol]
  if (spec.delivery !== undefined) out.push(spec.delivery)
  if (spec.destination !== undefined) out.push(`destination=${spec.destination}`)
  if (spec.source !== undefined) out.push(`source=${spec.source}`)
  if (spec.interleaved !== undefined) out.push(`interleaved=${spec.interleaved[0]}-${spec.interleaved[1]}`)
  if (spec.ttl !== undefined) out.push(`ttl=${spec.ttl}`)
  if (spec.port !== undefined) out.push(`port=${spec.port[0]}-${spec.port[1]}`)
  if (spec.clientPort !== undefined) out.push(`client_port=${spec.clientPort[0]}-${spec.clientPort[1]}`)
  if (spec.serverPort !== undefined) out.push(`server_port=${spec.serverPort[0]}-${spec.serverPort[1]}`)
  if (spec.ssrc !== undefined) out.push(`ssrc=${(spec.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`)
  if (spec.mode !== undefined) out.push(`mode=${spec.mode.toLowerCase()}`)
  return out.join(';')
}

/** Format several alternatives, most preferred first. */
export function formatTransports(specs: readonly TransportSpec[]): string {
  return specs.map(formatTransport).join(',')
}
