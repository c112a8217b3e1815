/**
 * The server's HTTP side, mountable on any Node `http` server (or Express / Fastify):
 *
 *   /                 index of paths          /api/paths      the same as JSON
 *   /<path>/          player page             /player.js      the <rtspkit-player> module
 *   /<path>/ws        MSE stream (WebSocket: JSON `init`, init segment, one fragment per frame)
 *   /<path>.mp4       live fragmented MP4     /<path>.mjpeg   MJPEG as multipart/x-mixed-replace
 *   /<path>/whep      WebRTC (RFC 9725)       /<path>.jpg     snapshot
 *
 * The server's users apply (Basic), WebSocket upgrades must come from the same host or an
 * allowed origin, and nothing served names a camera's URL or credentials.
 */
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import type { AuthResult } from '../server/auth.js'
import { Fmp4Viewer } from './fmp4-viewer.js'
import type { Fmp4ViewerOptions } from './fmp4-viewer.js'
import { LiveHub } from './live-hub.js'
import type { LiveServerLike } from './live-hub.js'
import type { LiveFrame, LiveViewer } from './live-media.js'
import type { LivePath, LivePathOptions } from './live-path.js'
import { indexPage, playerPage, urlPath } from './pages.js'
import type { PathSummary } from './pages.js'

export interface HttpSideOptions extends LivePathOptions, Fmp4ViewerOptions {
  /** The server's users: every request must carry them (Basic). */
  auth?: { realm: string; verify(method: string, authorization: string | undefined): AuthResult }
  /** The server's per-path decision (action 'read'); false answers 403. */
  authorize?: (ctx: { path: string; action: 'read' | 'publish'; user: string | undefined; remoteAddress: string }) => boolean | Promise<boolean>
  /** The server's allowAnonymous: a request without credentials may go on to `authorize` for this path. */
  allowAnonymous?: (ctx: { path: string; action: 'read' | 'publish' }) => boolean
  /** Origins (e.g. `https://app.example.com`) whose pages may embed the player: WebSocket upgrades and CORS. */
  allowedOrigins?: string[]
  /** Addresses to advertise in WebRTC host candidates (default: the one the request came in on). */
  webrtcAddresses?: string[]
}

export interface HttpSide {
  /** `(req, res)` for `http.createServer` or a framework's raw handler. Answers 404 for what it does not serve. */
  handle(req: IncomingMessage, res: ServerResponse): void
  /** `(req, socket, head)` for the http server's 'upgrade' event. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** The registry of live paths (on-demand cameras are the server's: `addPull(path, url, { onDemand: true })`). */
  readonly hub: LiveHub
  /** End every viewer and WebSocket. */
  close(): void
}

const PLAYER_URL = new URL('../player/player.js', import.meta.url)

export function createHttpSide(server: LiveServerLike, options: HttpSideOptions = {}): HttpSide {
  const hub = new LiveHub(server, options)
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false })
  const sockets = new Set<WebSocket>()
  let playerJs: Promise<Buffer> | undefined

  async function authorized(req: IncomingMessage, path: string | undefined): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
    let user: string | undefined
    if (options.auth !== undefined) {
      const header = req.headers.authorization
      // Basic only (RFC 7617): browsers cache it per origin and send it on WebSocket upgrades too.
      const r = header !== undefined && /^\s*basic\s/i.test(header) ? options.auth.verify(req.method ?? 'GET', header) : ({ ok: false, reason: 'missing' } as const)
      if (r.ok) user = r.user
      else if (!(header === undefined && path !== undefined && options.allowAnonymous?.({ path, action: 'read' }) === true)) {
        return { ok: false, status: 401, message: 'this server needs a user name and password' }
      }
    }
    if (path !== undefined && options.authorize !== undefined) {
      const ok = await options.authorize({ path, action: 'read', user, remoteAddress: req.socket.remoteAddress ?? '' })
      if (!ok) return { ok: false, status: 403, message: `reading /${path} is not allowed for this user` }
    }
    return { ok: true }
  }

  function summary(path: string): PathSummary {
    const lp = hub.media(path)
    const base = urlPath(path)
    const tracks = (lp?.tracks() ?? []).map((t) => {
      const d = t.details
      const o: PathSummary['tracks'][number] = { type: t.type, codec: t.codec }
      if (d.width !== undefined) o.width = d.width
      if (d.height !== undefined) o.height = d.height
      if (t.type === 'audio') o.sampleRate = d.sampleRate ?? t.clockRate
      const ch = d.channels ?? t.channels
      if (ch !== undefined) o.channels = ch
      if (d.codecString !== undefined) o.codecString = d.codecString
      return o
    })
    const s: PathSummary = {
      path,
      state: lp?.live === true ? 'live' : 'idle',
      kind: lp?.stream?.kind ?? 'on-demand',
      viewers: lp?.viewerCount ?? 0,
      rtspReaders: hub.rtspReaders(path),
      tracks,
      links: { page: `${base}/`, ws: `${base}/ws`, mp4: `${base}.mp4`, jpg: `${base}.jpg`, whep: `${base}/whep` },
    }
    if (tracks.some((t) => t.codec === 'JPEG')) s.links.mjpeg = `${base}.mjpeg`
    return s
  }

  /** `/cam.mp4` → ['cam', 'mp4'], `/a/b/ws` → ['a/b', 'ws'], `/cam/` → ['cam', 'page']. */
  function route(pathname: string): { path: string; what: string } | undefined {
    let p: string
    try {
      p = decodeURIComponent(pathname)
    } catch {
      return undefined
    }
    if (p.includes('\0') || p.split('/').some((s) => s === '..')) return undefined
    const known = (x: string) => hub.pathNames().includes(x)
    const ext = /^\/(.+)\.(mp4|jpg|mjpeg)$/.exec(p)
    if (ext !== null && known(ext[1]!)) return { path: ext[1]!, what: ext[2]! }
    const whep = /^\/(.+?)\/whep(\/.*)?$/.exec(p)
    if (whep !== null && known(whep[1]!)) return { path: whep[1]!, what: 'whep' }
    const ws = /^\/(.+)\/ws$/.exec(p)
    if (ws !== null && known(ws[1]!)) return { path: ws[1]!, what: 'ws' }
    const page = /^\/(.+?)(\/?)$/.exec(p)
    if (page !== null && known(page[1]!)) return { path: page[1]!, what: page[2] === '/' ? 'page' : 'redirect' }
    return undefined
  }

  async function handleAsync(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const get = req.method === 'GET' || req.method === 'HEAD'
    // The player module is public code (no secret in it), loadable as a module script from any page.
    if (url.pathname === '/player.js' && get) {
      playerJs ??= readFile(fileURLToPath(PLAYER_URL))
      const body = await playerJs.catch(() => undefined)
      if (body === undefined) return text(res, 500, 'player.js is missing from this install; rebuild rtspkit (npm run build)')
      res.setHeader('Access-Control-Allow-Origin', '*')
      return send(res, 200, 'text/javascript; charset=utf-8', body, req.method === 'HEAD')
    }
    // A page on an allowed origin embeds the player: CORS for WHEP, the API and snapshots (Fetch
    // standard; a preflight carries no credentials, so it is answered before authentication).
    const origin = req.headers.origin
    if (origin !== undefined && options.allowedOrigins?.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
      res.setHeader('Access-Control-Expose-Headers', 'Location, X-Rtspkit-Note')
      res.setHeader('Vary', 'Origin')
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        res.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type, Authorization', 'Access-Control-Max-Age': '600' })
        res.end()
        return
      }
    }
    const r = url.pathname === '/' || url.pathname === '/api/paths' ? undefined : route(url.pathname)
    const auth = await authorized(req, r?.path)
    if (!auth.ok) {
      if (auth.status === 401) res.setHeader('WWW-Authenticate', `Basic realm="${options.auth!.realm}", charset="UTF-8"`)
      return text(res, auth.status, auth.message)
    }
    if (url.pathname === '/' && get) return send(res, 200, 'text/html; charset=utf-8', indexPage(hub.pathNames().map(summary)), req.method === 'HEAD')
    if (url.pathname === '/api/paths' && get) return send(res, 200, 'application/json', JSON.stringify({ paths: hub.pathNames().map(summary) }, null, 1), req.method === 'HEAD')
    if (r === undefined) return text(res, 404, `nothing is served at ${url.pathname}; see / for the paths`)
    if (r.what === 'whep') return whep(req, res, r.path)
    if (!get) {
      res.setHeader('Allow', 'GET, HEAD')
      return text(res, 405, `${req.method} is not supported here; use GET`)
    }
    const media = hub.media(r.path)
    if (media === undefined) return text(res, 404, `nothing is served at /${r.path} now`)
    switch (r.what) {
      case 'redirect':
        res.writeHead(301, { Location: `${urlPath(r.path)}/` })
        res.end()
        return
      case 'page':
        return send(res, 200, 'text/html; charset=utf-8', playerPage(r.path, summary(r.path).links, url.searchParams.get('transports') ?? undefined), req.method === 'HEAD')
      case 'mp4':
        return mp4(req, res, media)
      case 'mjpeg':
        return mjpeg(req, res, media)
      case 'jpg':
        return snapshot(req, res, media)
      case 'ws':
        return text(res, 426, 'this is a WebSocket endpoint (the player opens it)')
    }
    return text(res, 404, 'not found')
  }

  function mp4(req: IncomingMessage, res: ServerResponse, media: LivePath): void {
    if (req.method === 'HEAD') return send(res, 200, 'video/mp4', Buffer.alloc(0), true)
    const viewer = new Fmp4Viewer(
      media,
      {
        reinit: false,
        init(ctx) {
          res.writeHead(200, { 'Content-Type': ctx.muxer.mimeType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
          res.write(ctx.init)
        },
        fragment: (data) => void res.write(data),
        buffered: () => res.writableLength,
        close(reason) {
          if (!res.headersSent) return text(res, 503, reason)
          if (/fell behind/.test(reason)) res.destroy()
          else res.end()
        },
      },
      options,
    )
    res.on('close', () => viewer.stop())
    viewer.start()
  }

  function mjpeg(req: IncomingMessage, res: ServerResponse, media: LivePath): void {
    const track = media.tracks().find((t) => t.codec === 'JPEG')
    if (track === undefined) return text(res, 404, `/${media.path} has no MJPEG track`)
    const boundary = 'rtspkitframe'
    res.writeHead(200, { 'Content-Type': `multipart/x-mixed-replace; boundary=${boundary}`, 'Cache-Control': 'no-store' })
    if (req.method === 'HEAD') return void res.end()
    const max = options.maxBufferedBytes ?? 2 * 1024 * 1024
    const viewer: LiveViewer = {
      frame(f: LiveFrame) {
        // Every JPEG is a whole picture: a slow viewer just misses some.
        if (f.track !== track.index || res.writableLength > max) return
        let size = 0
        for (const d of f.data) size += d.length
        res.write(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${size}\r\n\r\n`)
        for (const d of f.data) res.write(d)
        res.write('\r\n')
      },
      end: () => res.end(),
    }
    const stop = media.subscribe(viewer)
    res.on('close', stop)
  }

  async function snapshot(req: IncomingMessage, res: ServerResponse, media: LivePath): Promise<void> {
    // Loaded on first use: it spawns ffmpeg for H.264/H.265 key frames.
    const { handleSnapshot } = await import('./snapshot.js')
    await handleSnapshot(req, res, media)
  }

  // WHEP sessions still negotiating are not viewers yet: close() ends them by path.
  let whepRoute: typeof import('./whep-route.js') | undefined
  const whepPaths = new Set<string>()

  async function whep(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const media = hub.media(path)
    if (media === undefined) return text(res, 404, `nothing is served at /${path} now`)
    // Loaded on first use: werift is only needed once a browser asks for WebRTC.
    const route = await import('./whep-route.js')
    whepRoute = route
    whepPaths.add(path)
    await route.handleWhep(req, res, media, { resourceBase: `${urlPath(path)}/whep`, ...(options.webrtcAddresses !== undefined ? { addresses: options.webrtcAddresses } : {}) })
  }

  function originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin
    // Not a browser (no Origin): nothing to protect against cross-site here; auth still applies.
    if (origin === undefined) return true
    if (options.allowedOrigins?.includes(origin)) return true
    try {
      return new URL(origin).host === req.headers.host
    } catch {
      return false
    }
  }

  async function upgradeAsync(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const r = route(url.pathname)
    if (r === undefined || r.what !== 'ws') return refuse(socket, 404, 'no WebSocket here')
    // A page on another site must not open a viewer with this browser's credentials (CSWSH).
    if (!originAllowed(req)) return refuse(socket, 403, 'this origin may not open the stream; add it to the allowed origins')
    const auth = await authorized(req, r.path)
    if (!auth.ok) return refuse(socket, auth.status, auth.message, auth.status === 401 ? `WWW-Authenticate: Basic realm="${options.auth!.realm}"\r\n` : '')
    const media = hub.media(r.path)
    if (media === undefined) return refuse(socket, 404, `nothing is served at /${r.path} now`)
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      const tracks = media.tracks()
      if (tracks.some((t) => t.codec === 'JPEG') && !tracks.some((t) => t.type === 'video' && t.codec !== 'JPEG')) {
        // MJPEG does not go in MP4: the player shows the multipart JPEG stream instead.
        ws.send(JSON.stringify({ type: 'mjpeg', url: `${urlPath(media.path)}.mjpeg` }))
        ws.close(1000)
        sockets.delete(ws)
        return
      }
      const viewer = new Fmp4Viewer(
        media,
        {
          reinit: true,
          init(ctx) {
            const m = ctx.muxer
            ws.send(JSON.stringify({ type: 'init', path: media.path, mime: m.mimeType, codecs: m.codecs, skipped: m.skipped, tracks: summary(media.path).tracks }))
            ws.send(ctx.init)
          },
          fragment: (data) => ws.send(data),
          buffered: () => ws.bufferedAmount,
          close(reason) {
            if (/fell behind/.test(reason)) return ws.terminate()
            if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'end', reason }))
            ws.close(1000, reason.slice(0, 120))
          },
        },
        options,
      )
      ws.on('message', () => {}) // the player sends nothing we act on
      ws.on('close', () => {
        sockets.delete(ws)
        viewer.stop()
      })
      ws.on('error', () => {})
      viewer.start()
    })
  }

  return {
    hub,
    handle(req, res) {
      handleAsync(req, res).catch((err: unknown) => {
        if (!res.headersSent) text(res, 500, `internal error: ${(err as Error).message}`)
        else res.destroy()
      })
    },
    upgrade(req, socket, head) {
      socket.on('error', () => {})
      upgradeAsync(req, socket, head).catch(() => socket.destroy())
    },
    close() {
      if (whepRoute !== undefined) for (const p of whepPaths) whepRoute.closeWhepSessions(p, 'the server is closing')
      whepPaths.clear()
      hub.close()
      for (const ws of sockets) ws.terminate()
      sockets.clear()
      wss.close()
    },
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headOnly = false): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(buf.length), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
  res.end(headOnly ? undefined : buf)
}

function text(res: ServerResponse, status: number, message: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${message}\n`)
}

function refuse(socket: Duplex, status: number, message: string, extra = ''): void {
  const reason = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' }[status] ?? 'Error'
  const body = `${message}\n`
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}
