/**
 * WHEP (RFC 9725) for one live path: POST an SDP offer on the endpoint → 201 with the
 * answer and `Location: <resourceBase>/<id>`; DELETE on that resource ends the session.
 * No trickle ICE (PATCH → 405) and no STUN/TURN: the answer carries host candidates on
 * the server's addresses, which is what a LAN viewer needs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { RtspError } from '../errors.js'
import { waitForTracks } from '../webrtc/wait-tracks.js'
import type { WhepLimits, WhepRegistry } from '../webrtc/whep-registry.js'
import type { WhepSessionOptions } from '../webrtc/whep-session.js'
import type { LiveMedia } from './live-media.js'

export interface WhepRouteOptions {
  /** Host candidate addresses (the addresses the server listens on; CLI `--webrtc-address`). Default: the address the request came in on. */
  addresses?: string[]
  /** The endpoint's path, e.g. `/cam/whep`; sessions live at `<resourceBase>/<id>`. */
  resourceBase: string
  /** Sessions and limits shared by the server's paths. Default: one registry per process. */
  registry?: WhepRegistry
  /** Timeouts and the per-viewer queue bound. */
  session?: Omit<WhepSessionOptions, 'addresses'>
  /** How long a POST waits for an on-demand path's upstream to say what it carries. Default 5000 ms. */
  tracksTimeoutMs?: number
}

/** Largest offer accepted; Chromium's are ~5 KB. */
const MAX_OFFER_BYTES = 64 * 1024

let defaultRegistry: WhepRegistry | undefined

/** The registry handleWhep uses when none is given (limits: see WhepLimits). */
export async function defaultWhepRegistry(limits?: WhepLimits): Promise<WhepRegistry> {
  if (!defaultRegistry) {
    const { WhepRegistry } = await import('../webrtc/whep-registry.js')
    defaultRegistry = new WhepRegistry(limits)
  }
  return defaultRegistry
}

/**
 * Close the default registry's WHEP sessions of `path` (or all of them): for the HTTP side
 * when a path's source ends or the server closes, so sessions still connecting do not wait
 * for their connect timeout. Loads nothing when no session was ever made.
 */
export function closeWhepSessions(path?: string, reason = 'the server is closing'): void {
  if (!defaultRegistry) return
  if (path === undefined) defaultRegistry.closeAll(reason)
  else defaultRegistry.closePath(path, reason)
}

/** Handle a request on `<resourceBase>` or `<resourceBase>/<id>`. Never throws; always answers. */
export async function handleWhep(req: IncomingMessage, res: ServerResponse, media: LiveMedia, options: WhepRouteOptions): Promise<void> {
  try {
    await route(req, res, media, options)
  } catch (err) {
    if (!res.headersSent) reply(res, 500, `WHEP failed: ${oneLine(err)}`)
    else res.destroy()
  }
}

async function route(req: IncomingMessage, res: ServerResponse, media: LiveMedia, options: WhepRouteOptions): Promise<void> {
  const base = options.resourceBase.replace(/\/+$/, '')
  const path = (req.url ?? '/').split('?')[0]!
  const isEndpoint = path === base || path === `${base}/`
  const id = !isEndpoint && path.startsWith(`${base}/`) ? decodeURIComponent(path.slice(base.length + 1)) : undefined
  if (!isEndpoint && id === undefined) return reply(res, 404, 'no WHEP resource here')

  // RFC 9725 §4.2: the endpoint takes POST; §4.3: the session resource takes DELETE (PATCH is for trickle ICE, unsupported here).
  const allow = isEndpoint ? 'POST, OPTIONS' : 'DELETE, OPTIONS'
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { Allow: allow, 'Accept-Post': 'application/sdp', 'Content-Length': '0' })
    res.end()
    return
  }
  if (isEndpoint && req.method === 'POST') return post(req, res, media, options, base)
  if (!isEndpoint && req.method === 'DELETE') {
    const registry = options.registry ?? (await defaultWhepRegistry())
    const session = registry.get(id!)
    if (!session || session.path !== media.path) return reply(res, 404, 'no such WHEP session (it ended or never existed)')
    session.close('the viewer sent DELETE')
    return reply(res, 200, 'session ended')
  }
  res.setHeader('Allow', allow)
  return reply(res, 405, `${req.method} is not supported here; allowed: ${allow}`)
}

async function post(req: IncomingMessage, res: ServerResponse, media: LiveMedia, options: WhepRouteOptions, base: string): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/sdp') {
    req.resume()
    return reply(res, 415, `the offer must be sent as application/sdp, not ${type || 'no Content-Type'}`)
  }
  const body = await readBody(req, MAX_OFFER_BYTES)
  if (body === undefined) return reply(res, 413, `the offer exceeds ${MAX_OFFER_BYTES} bytes`)
  // A path that opens its upstream on demand has no tracks before its first viewer.
  if (!(await waitForTracks(media, options.tracksTimeoutMs ?? 5000))) return reply(res, 503, 'the path has no source yet; try again when it is live', { 'Retry-After': '2' })

  const registry = options.registry ?? (await defaultWhepRegistry())
  const place = registry.reserve(media.path)
  if ('refused' in place) return reply(res, 503, place.refused, { 'Retry-After': '5' })
  try {
    const { WhepSession } = await import('../webrtc/whep-session.js')
    let created
    try {
      created = await WhepSession.create(body.toString('utf8'), media, { ...options.session, addresses: candidateAddresses(req, options.addresses) })
    } catch (err) {
      if (err instanceof RtspError && err.code === 'RTSP_ERR_SDP') return reply(res, 400, `bad offer: ${err.message}`)
      // The offer is fine but the path's codecs cannot be sent (H.265 only, AAC only): the player falls back to MSE.
      if (err instanceof RtspError && err.code === 'RTSP_ERR_UNSUPPORTED') return reply(res, 422, err.message)
      if (err instanceof RtspError && err.code === 'RTSP_ERR_TIMEOUT') return reply(res, 503, `WebRTC setup failed: ${err.message}`, { 'Retry-After': '2' })
      // werift rejects what it cannot negotiate with a plain Error.
      return reply(res, 400, `bad offer: ${oneLine(err)}`)
    }
    const { session, answer } = created
    registry.add(session)
    if (req.socket.destroyed) {
      session.close('the viewer went away before the answer')
      return
    }
    const headers: Record<string, string> = {
      'Content-Type': 'application/sdp',
      Location: `${base}/${encodeURIComponent(session.id)}`,
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(answer)),
    }
    // What the viewer does not get (AAC, H.265) and why, for the player to show.
    if (session.notes.length) headers['X-Rtspkit-Note'] = session.notes.join(' | ').replace(/[^\x20-\x7e]/g, '?')
    res.writeHead(201, headers)
    res.end(answer)
  } finally {
    place.release()
  }
}

/**
 * Host candidate addresses: the configured ones; when none are configured, or only a
 * wildcard (a server listening on 0.0.0.0), the address the viewer reached us at.
 */
function candidateAddresses(req: IncomingMessage, configured: readonly string[] | undefined): string[] | undefined {
  const usable = configured?.filter((a) => a && a !== '0.0.0.0' && a !== '::')
  if (usable?.length) return usable
  const a = req.socket.localAddress
  if (!a) return undefined
  return [a.startsWith('::ffff:') ? a.slice(7) : a]
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > max) over = true
      else chunks.push(c)
    })
    req.once('end', () => resolve(over ? undefined : Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), ...headers })
  res.end(body)
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300)
}
