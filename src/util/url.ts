import { InvalidArgumentError } from '../errors.js'

export interface Credentials {
  username: string
  password: string
}

export interface ParsedRtspUrl {
  /** The URL without user info, as sent on the wire. */
  url: URL
  /** Percent-decoded user info, when the URL had any. */
  credentials?: Credentials
  host: string
  port: number
  secure: boolean
}

/** Parse an rtsp:// (or rtsps://) URL, split off the credentials and percent-decode them. */
export function parseRtspUrl(input: string): ParsedRtspUrl {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new InvalidArgumentError(`not a valid URL: ${redactUrl(input)}; expected rtsp://[user:pass@]host[:port]/path`)
  }
  if (url.protocol !== 'rtsp:' && url.protocol !== 'rtsps:') {
    throw new InvalidArgumentError(`unsupported scheme ${url.protocol} in ${redactUrl(input)}; expected rtsp://`)
  }
  if (!url.hostname) throw new InvalidArgumentError(`no host in ${redactUrl(input)}`)
  let credentials: Credentials | undefined
  if (url.username || url.password) {
    credentials = { username: safeDecode(url.username), password: safeDecode(url.password) }
  }
  url.username = ''
  url.password = ''
  const secure = url.protocol === 'rtsps:'
  const port = url.port ? Number(url.port) : secure ? 322 : 554
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { url, credentials, host, port, secure }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Remove user info from anything URL-shaped; used on every URL that reaches a message, log or event. */
export function redactUrl(input: string | URL): string {
  const s = String(input)
  try {
    const u = new URL(s)
    if (u.username || u.password) {
      u.username = ''
      u.password = ''
    }
    return u.toString()
  } catch {
    // Not parseable: strip "scheme://userinfo@" by hand.
    return s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1')
  }
}

/**
 * Resolve a media or session `a=control` value against the base URL (RFC 2326 C.1.1):
 * absolute URLs are used as they are, `*` means the base itself, anything else is
 * appended to the base as text, with a '/' between them when the base has none. Plain text
 * rather than URL resolution, as FFmpeg and gortsplib do, because cameras rely on it:
 * Hikvision sends a base without a trailing slash and `trackID=1`
 * (→ `.../101/trackID=1`), Dahua a base whose query ends in '/' and `trackID=0`
 * (→ `.../realmonitor?channel=1&subtype=0/trackID=0`, which it expects verbatim).
 */
export function resolveControl(base: string, control: string | undefined): string {
  if (control === undefined || control === '' || control === '*') return base
  if (/^rtsps?:\/\//i.test(control)) return control
  if (control.startsWith('/')) {
    // Absolute path on the same server.
    const u = new URL(base)
    return `${u.protocol}//${u.host}${control}`
  }
  return base.endsWith('/') ? base + control : `${base}/${control}`
}
