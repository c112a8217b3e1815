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

/**
 * The base URL of a DESCRIBE reply (RFC 2326 §C.1.1: Content-Base, else Content-Location,
 * else the request URL), with its credentials removed. Cameras send values that are not
 * absolute rtsp:// URLs:
 * - `192.168.1.10/stream/` (a host without a scheme): the path, on the server we talk to;
 * - `/stream/` or `stream/` (a bare path): resolved against the request URL, from the root
 *   when the request path starts with it (`live/ch0/` for `rtsp://cam/live/ch0`);
 * - another scheme (`http://…`) or something unparseable: ignored, the request URL is the base.
 */
export function resolveContentBase(raw: string | undefined, requestUrl: string): string {
  const value = raw?.trim() ?? ''
  const request = new URL(requestUrl)
  let base: URL | undefined
  try {
    if (value === '') base = undefined
    else if (/^rtsps?:\/\//i.test(value)) base = new URL(value)
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) base = undefined
    else if (value.startsWith('//')) base = new URL(`${request.protocol}${value}`)
    else if (value.startsWith('/')) base = new URL(value, request)
    else {
      const host = /^(\[[0-9a-f:.]+\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)(:\d+)?(?=\/|$)/i.exec(value)
      const looksLikeHost =
        host !== null && (host[2] !== undefined || host[1]!.includes('.') || host[1]!.startsWith('[') || host[1]!.toLowerCase() === request.hostname.toLowerCase())
      if (looksLikeHost) {
        // The camera left the scheme out: keep its path, on the connection's server.
        base = new URL(value.slice(host[0].length) || '/', request)
      } else {
        const fromRoot = new URL(`/${value}`, request)
        const requestPath = request.pathname.endsWith('/') ? request.pathname : `${request.pathname}/`
        base = requestPath.startsWith(fromRoot.pathname.endsWith('/') ? fromRoot.pathname : `${fromRoot.pathname}/`) ? fromRoot : new URL(value, request)
      }
    }
  } catch {
    base = undefined
  }
  if (base === undefined || base.hostname === '') base = request
  base.username = ''
  base.password = ''
  return base.toString()
}
