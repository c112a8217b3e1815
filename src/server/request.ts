/**
 * What the server reads from a request before any method runs: its path, its Session id,
 * and the refusal that becomes the reply's status.
 */
import { RequestRejectedError } from '../errors.js'
import type { RtspRequest } from '../rtsp/message.js'
import { parseSession } from '../rtsp/headers/session.js'
import { redactUrl } from '../util/url.js'

/** A refusal: the status of the reply and why (the message goes to the log, `reason` to the client). */
export function refuse(status: number, message: string, extra: { reason?: string; headers?: Record<string, string | string[]> } = {}): RequestRejectedError {
  return new RequestRejectedError({ status, message, ...extra })
}

/** The id of the request's Session header (RFC 2326 §12.37), without `;timeout=`. */
export function sessionIdOf(req: RtspRequest): string | undefined {
  const v = req.headers.get('Session')
  if (v === undefined) return undefined
  try {
    return parseSession(v).id
  } catch {
    return undefined
  }
}

/** Path without leading/trailing slashes, percent-decoded. */
export function normalizePath(path: string): string {
  let p = path
  try {
    p = decodeURIComponent(p)
  } catch {
    // keep it as sent
  }
  return p.replace(/^\/+/, '').replace(/\/+$/, '')
}

/** The request's stream path and its URL without credentials or query. */
export function parseRequestPath(raw: string): { path: string; url: string } {
  if (raw === '*') return { path: '', url: raw }
  let pathname: string
  try {
    const u = new URL(raw)
    pathname = u.pathname
  } catch {
    // The message reaches the log: no user:password@ in it.
    if (!raw.startsWith('/')) throw refuse(400, `bad request URL ${JSON.stringify(redactUrl(raw).slice(0, 200))}`)
    pathname = raw.split('?')[0]!
  }
  // Credentials never go back out in headers.
  const url = raw.replace(/^(rtsps?:\/\/)[^@/]*@/i, '$1').split('?')[0]!
  return { path: normalizePath(pathname), url }
}

/** The request URL cut back to the stream's own URL, for RTP-Info. */
export function streamUrl(raw: string, path: string): string {
  const { url } = parseRequestPath(raw)
  const trimmed = url.replace(/\/+$/, '')
  const at = trimmed.lastIndexOf(`/${path}`)
  return at >= 0 && path !== '' ? trimmed.slice(0, at + 1 + path.length) : trimmed
}
