// Transport negotiation, redirects and TLS (issue: field-hardening), against GStreamer and
// scripted servers on 127.0.0.1.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { startFakeCamera } from '../helpers/fake-camera.js'
import { startFakeServer } from '../helpers/fake-rtsp-server.js'
import { runCli } from '../helpers/cli.js'
import { ConnectError, ProtocolError, RtspClient } from '../../src/index.js'
import type { PullSession } from '../../src/index.js'

async function frames(session: PullSession, n: number): Promise<number> {
  let got = 0
  for await (const _ of session.frames()) if (++got >= n) break
  return got
}

describe('transport auto', () => {
  it('GStreamer refusing UDP (461): falls back to TCP and says why', async () => {
    const server = await startGstServer({ protocols: 'tcp' })
    try {
      const session = await new RtspClient().pull(server.url('/h264'))
      assert.equal(session.transport?.protocol, 'tcp')
      assert.match(session.transport?.reason ?? '', /461/)
      assert.equal(await frames(session, 5), 5)
      await session.close()
    } finally {
      await server.stop()
    }
  })

  it('GStreamer with UDP: auto stays on UDP', async () => {
    const server = await startGstServer()
    try {
      const session = await new RtspClient().pull(server.url('/h264'))
      assert.equal(session.transport?.protocol, 'udp')
      assert.equal(session.tracks[0]!.transport.protocol, 'udp')
      assert.equal(await frames(session, 5), 5)
      await session.close()
    } finally {
      await server.stop()
    }
  })

  it('UDP blocked (no packet after PLAY): tears down, DESCRIBEs again and plays over TCP', async () => {
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        const t = req.headers['transport'] ?? ''
        if (req.method === 'SETUP' && t.includes('client_port')) {
          // Accept UDP, then never send a datagram: a firewall in the way.
          ctx.reply(200, { Transport: `${t};server_port=40000-40001`, Session: '77;timeout=60' })
          return true
        }
        if (req.method === 'PLAY' && req.headers['session'] === '77') {
          ctx.reply(200, { Session: '77' })
          return true
        }
        return false
      },
    })
    try {
      const session = await new RtspClient({ udpTimeoutMs: 400 }).pull(camera.url())
      assert.equal(session.transport?.protocol, 'tcp')
      assert.match(session.transport?.reason ?? '', /no UDP packet within 400 ms/)
      assert.equal(await frames(session, 3), 3)
      await session.close()
      const methods = camera.requests.map((r) => r.method)
      assert.equal(methods.filter((m) => m === 'DESCRIBE').length, 2)
      assert.ok(methods.indexOf('TEARDOWN') < methods.lastIndexOf('DESCRIBE'), 'the UDP session was torn down first')
    } finally {
      await camera.stop()
    }
  })
})

describe('redirects', () => {
  it('302 on DESCRIBE to another server is followed; credentials are not sent to another host', async () => {
    const camera = await startFakeCamera()
    const front = await startFakeServer((req, ctx) => {
      if (req.method === 'OPTIONS') ctx.reply(200, { Public: 'OPTIONS, DESCRIBE' })
      else ctx.reply(302, { Location: camera.url('/moved').replace('127.0.0.1', 'localhost') })
    })
    try {
      const session = await new RtspClient({ transport: 'tcp' }).pull(front.url('/old').replace('rtsp://', 'rtsp://u:p@'))
      assert.match(session.url, /localhost:\d+\/moved/)
      await frames(session, 2)
      await session.close()
      assert.ok(camera.requests.every((r) => r.headers['authorization'] === undefined))
    } finally {
      await front.stop()
      await camera.stop()
    }
  })

  it('a redirect loop ends after the bound with a clear error', async () => {
    const loop = await startFakeServer((req, ctx) => {
      if (req.method === 'OPTIONS') ctx.reply(200)
      else ctx.reply(301, { Location: req.url.endsWith('/a') ? req.url.replace(/\/a$/, '/b') : req.url.replace(/\/b$/, '/a') })
    })
    try {
      await assert.rejects(new RtspClient({ transport: 'tcp', maxRedirects: 3 }).pull(loop.url('/a')), (e: unknown) => {
        return e instanceof ProtocolError && /more than 3 redirects/.test(e.message)
      })
    } finally {
      await loop.stop()
    }
  })
})

describe('rtsps:// (TLS)', () => {
  let dir: string
  let key: Buffer
  let cert: Buffer
  let tlsServer: tls.Server
  let camera: Awaited<ReturnType<typeof startFakeCamera>>
  let port: number

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rtspkit-tls-'))
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'ignore' })
    key = readFileSync(path.join(dir, 'key.pem'))
    cert = readFileSync(path.join(dir, 'cert.pem'))
    camera = await startFakeCamera()
    // TLS in front of the scripted camera, as a camera with RTSP over TLS would be.
    tlsServer = tls.createServer({ key, cert }, (clear) => {
      const upstream = net.connect(camera.port, '127.0.0.1')
      clear.pipe(upstream).pipe(clear)
      clear.on('error', () => upstream.destroy())
      upstream.on('error', () => clear.destroy())
      clear.on('close', () => upstream.destroy())
    })
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r))
    port = (tlsServer.address() as net.AddressInfo).port
  })
  after(async () => {
    await new Promise<void>((r) => tlsServer.close(() => r()))
    await camera.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a self-signed certificate is refused by default, with what to do', async () => {
    await assert.rejects(new RtspClient().pull(`rtsps://127.0.0.1:${port}/stream`), (e: unknown) => {
      return e instanceof ConnectError && /TLS certificate not trusted.*--ca/.test(e.message)
    })
  })

  it('plays with the CA given (library) and with --insecure (CLI)', async () => {
    const session = await new RtspClient({ tls: { ca: cert } }).pull(`rtsps://127.0.0.1:${port}/stream`)
    assert.equal(session.transport?.protocol, 'tcp')
    assert.equal(await frames(session, 3), 3)
    await session.close()
    const r = await runCli(['probe', `rtsps://127.0.0.1:${port}/stream`, '--insecure', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).tracks[0].codec, 'H264')
  })
})
