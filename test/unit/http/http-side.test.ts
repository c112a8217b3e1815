/**
 * The HTTP side's rules, over real sockets: the server's users (Basic) on pages, API, .mp4 and
 * WebSocket upgrades; Origin checked on upgrades; no camera credentials in any page or answer;
 * the MSE stream starts with its JSON `init`, the init segment, then one fragment per frame.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { WebSocket } from 'ws'
import { RtspServer } from '../../../src/server/index.js'

const SAMPLE = new URL('../../../assets/sample.mp4', import.meta.url).pathname
const AUTH = `Basic ${Buffer.from('viewer:pw-http').toString('base64')}`

describe('HTTP side', { timeout: 60_000 }, () => {
  let camera: RtspServer
  let server: RtspServer
  let http: Server
  let origin: string
  let host: string

  before(async () => {
    // A "camera" with its own password, relayed by the server under test.
    camera = new RtspServer({ port: 0, credentials: { username: 'admin', password: 'cam-secret-42' } })
    await camera.addFile('cam', SAMPLE)
    await camera.listen()
    server = new RtspServer({ port: 0, credentials: { username: 'viewer', password: 'pw-http' } })
    await server.addFile('file', SAMPLE)
    await server.listen()
    await server.addPull('relay', `rtsp://admin:cam-secret-42@127.0.0.1:${camera.port}/cam`, { transport: 'tcp' })
    http = createServer(server.httpHandler({ allowedOrigins: ['https://app.example'] }))
    http.on('upgrade', server.upgradeHandler())
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(http.address() as AddressInfo).port}`
    origin = `http://${host}`
  })
  after(async () => {
    http.closeAllConnections()
    await new Promise((r) => http.close(r))
    await server.close()
    await camera.close()
  })

  const get = (path: string, headers: Record<string, string> = { Authorization: AUTH }, method = 'GET') => fetch(`${origin}${path}`, { headers, method, redirect: 'manual' })

  test('every page needs the server user (Basic), and says so', async () => {
    for (const path of ['/', '/api/paths', '/file/', '/file.mp4', '/file/whep']) {
      const r = await get(path, {}, path === '/file.mp4' ? 'HEAD' : 'GET')
      assert.equal(r.status, 401, path)
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm="rtspkit"/)
      await r.arrayBuffer()
    }
    const wrong = await get('/', { Authorization: `Basic ${Buffer.from('viewer:nope').toString('base64')}` })
    assert.equal(wrong.status, 401)
    await wrong.arrayBuffer()
    const ok = await get('/')
    assert.equal(ok.status, 200)
    assert.match(await ok.text(), /\/relay/)
  })

  test('CORS: /player.js for any page; preflights and answers for an allowed origin only', async () => {
    const js = await get('/player.js', {})
    assert.equal(js.status, 200)
    assert.equal(js.headers.get('access-control-allow-origin'), '*')
    assert.match(await js.text(), /customElements\.define\('rtspkit-player'/)
    const preflight = (o: string) => get('/file/whep', { Origin: o, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' }, 'OPTIONS')
    const ok = await preflight('https://app.example')
    assert.equal(ok.status, 204)
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/)
    const other = await preflight('https://evil.example')
    assert.equal(other.headers.get('access-control-allow-origin'), null)
    await other.arrayBuffer()
    const api = await get('/api/paths', { Authorization: AUTH, Origin: 'https://app.example' })
    assert.equal(api.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.match(api.headers.get('access-control-expose-headers') ?? '', /Location/)
    await api.arrayBuffer()
  })

  test('no camera credentials in the index, the API, the player page', async () => {
    for (const path of ['/', '/api/paths', '/relay/', '/file/']) {
      const body = await (await get(path)).text()
      assert.doesNotMatch(body, /cam-secret-42|admin/, path)
      assert.doesNotMatch(body, new RegExp(`:${camera.port}\\b`), `${path} names the camera's address`)
    }
    const api = (await (await get('/api/paths')).json()) as { paths: Array<{ path: string; tracks: Array<{ codec: string; width?: number }>; links: Record<string, string> }> }
    const relay = api.paths.find((p) => p.path === 'relay')!
    assert.deepEqual(relay.tracks.map((t) => t.codec), ['H264', 'AAC'])
    assert.equal(relay.tracks[0]!.width, 320)
    assert.equal(relay.links.ws, '/relay/ws')
  })

  test('routes: redirect to the page, 404 for unknown or traversing paths, 405 for POST on a page', async () => {
    const r = await get('/file')
    assert.equal(r.status, 301)
    assert.equal(r.headers.get('location'), '/file/')
    for (const path of ['/nope/', '/nope.mp4', '/%2e%2e/etc/passwd', '/file%2F..%2Ffile/']) {
      const x = await get(path)
      assert.equal(x.status, 404, path)
      await x.arrayBuffer()
    }
    const post = await get('/file/', { Authorization: AUTH }, 'POST')
    assert.equal(post.status, 405)
    await post.arrayBuffer()
  })

  function openWs(headers: Record<string, string>): Promise<{ status?: number; ws?: WebSocket }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://${host}/relay/ws`, { headers })
      ws.on('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode })
        res.resume()
      })
      ws.on('open', () => resolve({ ws }))
      ws.on('error', () => {})
    })
  }

  test('WebSocket upgrades: 401 without the user, 403 from another origin, allowed from the same host', async () => {
    assert.equal((await openWs({ Origin: origin })).status, 401)
    assert.equal((await openWs({ Origin: 'https://evil.example', Authorization: AUTH })).status, 403)
    const { ws } = await openWs({ Origin: origin, Authorization: AUTH })
    assert.ok(ws)
    const messages: Array<string | Buffer> = []
    await new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        messages.push(isBinary ? (data as Buffer) : data.toString())
        if (messages.length >= 12) resolve()
      })
    })
    ws.close()
    const init = JSON.parse(messages[0] as string) as { type: string; mime: string }
    assert.equal(init.type, 'init')
    assert.match(init.mime, /^video\/mp4; codecs="avc1\.42c016,mp4a\.40\.2"$/)
    assert.equal((messages[1] as Buffer).toString('latin1', 4, 8), 'ftyp')
    for (const m of messages.slice(2)) assert.equal((m as Buffer).toString('latin1', 4, 8), 'moof')
    // The first fragment is the GOP cache's key frame (sample_depends_on 2).
    assert.equal((messages[2] as Buffer).readUInt32BE(100 - 4), 0x02000000)
  })
})
