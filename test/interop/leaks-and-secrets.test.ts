// No leaks after failures, and no password anywhere we report things.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import v8 from 'node:v8'
import vm from 'node:vm'
import { startFakeServer } from '../helpers/fake-rtsp-server.js'
import { startFakeCamera } from '../helpers/fake-camera.js'
import { runCli } from '../helpers/cli.js'
import { freePort } from '../helpers/net.js'
import { RtspClient, RtspError } from '../../src/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function liveHandles(): number {
  return process.getActiveResourcesInfo().filter((t) => /TCP|UDP|Timeout|Pipe/.test(t)).length
}

describe('no leaks', () => {
  it('1 000 failed pulls (refused, 404, reset mid-handshake, silent) leave handles and memory flat', async () => {
    const notFound = await startFakeServer((req, ctx) => ctx.reply(req.method === 'OPTIONS' ? 200 : 404))
    const reset = await startFakeServer((req, ctx) => (req.method === 'OPTIONS' ? ctx.reply(200) : ctx.destroy()))
    const silent = await startFakeServer(() => {})
    const refused = `rtsp://127.0.0.1:${await freePort()}/x`
    const client = new RtspClient({ transport: 'tcp', timeoutMs: 40 })
    const urls = [refused, notFound.url('/x'), reset.url('/x'), refused, notFound.url('/y'), reset.url('/y'), refused, notFound.url('/z'), reset.url('/z'), silent.url('/x')]
    try {
      const run = async (n: number) => {
        for (let i = 0; i < n; i++) {
          await assert.rejects(client.pull(urls[i % urls.length]!), (e: unknown) => e instanceof RtspError)
        }
      }
      await run(100) // warm up
      await new Promise((r) => setTimeout(r, 100))
      gc()
      const handles0 = liveHandles()
      const heap0 = process.memoryUsage().heapUsed
      await run(900)
      await new Promise((r) => setTimeout(r, 200))
      gc()
      const heap1 = process.memoryUsage().heapUsed
      console.log(`# 1000 failed pulls: heap ${(heap0 / 1e6).toFixed(1)} → ${(heap1 / 1e6).toFixed(1)} MB, handles ${handles0} → ${liveHandles()}`)
      assert.ok(liveHandles() <= handles0, `handles ${handles0} → ${liveHandles()}`)
      assert.ok(heap1 - heap0 < 8 * 1024 * 1024, `heap grew by ${((heap1 - heap0) / 1e6).toFixed(1)} MB`)
    } finally {
      await Promise.all([notFound.stop(), reset.stop(), silent.stop()])
    }
  })
})

describe('no password anywhere', () => {
  const password = 'Sup3r-S3cret'
  const withPassword = (url: string) => url.replace('rtsp://', `rtsp://admin:${password}@`)
  const clean = (what: string, text: string) => assert.ok(!text.includes(password) && !text.includes('S3cret'), `${what} leaks the password: ${text}`)

  it('errors (message, fields, inspect with causes) for 401, 404, refused, timeout, redirect', async () => {
    const servers = [
      await startFakeServer((req, ctx) => ctx.reply(req.method === 'OPTIONS' ? 200 : 401, { 'WWW-Authenticate': 'Digest realm="x", nonce="n"' })),
      await startFakeServer((req, ctx) => ctx.reply(req.method === 'OPTIONS' ? 200 : 404)),
      await startFakeServer(() => {}),
      await startFakeServer((req, ctx) =>
        ctx.reply(req.method === 'OPTIONS' ? 200 : 302, { Location: `rtsp://admin:${password}@127.0.0.1:1/elsewhere` }),
      ),
    ]
    const urls = [...servers.map((s) => withPassword(s.url('/x'))), withPassword(`rtsp://127.0.0.1:${await freePort()}/x`)]
    try {
      for (const url of urls) {
        const err = await new RtspClient({ transport: 'tcp', timeoutMs: 500, maxRedirects: 0 }).pull(url).then(
          () => assert.fail('should fail'),
          (e: unknown) => e,
        )
        assert.ok(err instanceof RtspError)
        clean('message', err.message)
        clean('inspect', inspect(err, { depth: 5 }))
        clean('JSON', JSON.stringify(err))
      }
    } finally {
      await Promise.all(servers.map((s) => s.stop()))
    }
  })

  it('a playing session (url, tracks, stats, warnings) and probe output', async () => {
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        if (req.method === 'GET_PARAMETER') {
          ctx.reply(500)
          return true
        }
        if (req.method !== 'OPTIONS' && req.headers['authorization'] === undefined) {
          ctx.reply(401, { 'WWW-Authenticate': 'Basic realm="cam"' })
          return true
        }
        return false
      },
      session: '5;timeout=1',
    })
    try {
      const session = await new RtspClient({ transport: 'tcp' }).pull(withPassword(camera.url()))
      const warnings: string[] = []
      session.on('warning', (w) => warnings.push(w))
      let n = 0
      for await (const _ of session.frames()) if (++n >= 40) break
      await session.close()
      clean('session', inspect({ url: session.url, tracks: session.tracks, stats: session.stats(), transport: session.transport }, { depth: 4 }))
      assert.ok(warnings.length > 0)
      for (const w of warnings) clean('warning', w)
      const r = await runCli(['probe', withPassword(camera.url()), '--json', '--transport', 'tcp'])
      assert.equal(r.code, 0, r.stderr)
      clean('probe stdout', r.stdout)
      clean('probe stderr', r.stderr)
    } finally {
      await camera.stop()
    }
  })
})
