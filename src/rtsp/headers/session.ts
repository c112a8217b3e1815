/**
 * Session header (RFC 2326 §12.37):
 *   Session = "Session" ":" session-id [ ";" "timeout" "=" delta-seconds ]
 */
import { ProtocolError } from '../../errors.js'

export interface SessionHeader {
  id: string
  /** Seconds of inactivity after which the server drops the session (RFC default: 60). */
  timeout?: number
}

/** Tolerates spaces around `;` and `=` (`12345678 ; timeout = 5`) and any case of `timeout`. */
export function parseSession(value: string): SessionHeader {
  const [first = '', ...params] = value.split(';')
  const id = first.trim()
  if (id === '') throw new ProtocolError(`empty session id in Session header ${JSON.stringify(value)}`)
  const out: SessionHeader = { id }
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== 'timeout') continue
    const raw = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    // A malformed timeout is ignored: the session still works with the default keep-alive.
    if (/^\d{1,9}$/.test(raw)) out.timeout = Number(raw)
  }
  return out
}

export function formatSession(session: SessionHeader): string {
  return session.timeout === undefined ? session.id : `${session.id};timeout=${session.timeout}`
}
