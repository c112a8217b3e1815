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
 * relative to the base. Cameras often send a base without a trailing slash and a control
 * such as `trackID=1`; like live555 and gortsplib we then append with a '/'.
 */
export function resolveControl(base: string, control: string | undefined): string {
  if (control === undefined || control === '' || control === '*') return base
  if (/^rtsps?:\/\//i.test(control)) return control
  const u = new URL(base)
  const query = u.search
  u.search = ''
  let s = u.toString()
  if (control.startsWith('/')) {
    u.pathname = control
    return u.toString()
  }
  if (!s.endsWith('/')) s += '/'
  return s + control + (control.includes('?') ? '' : query)
}
