/**
 * The commands of the browser live view, from the built CLI: `rtspkit view` on a GStreamer
 * camera with a password (the page plays in Chromium; no password in anything printed or
 * served), `rtspkit serve --http` and `rtspkit demo --web` (their pages answer).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../helpers/chromium.js'
import { killChild, readUntil, spawnCli } from '../helpers/cli.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'

const SAMPLE = new URL('../../assets/sample.mp4', import.meta.url).pathname

describe('browser live view from the CLI', { timeout: 120_000 }, () => {
  let gst: GstServer
  let browser: Browser
  before(async () => {
    ;[gst, browser] = await Promise.all([
      startGstServer({ user: 'admin', password: 'gst-pw-7731' }),
      launchChromium(),
    ])
  })
  after(async () => {
    await Promise.all([gst?.stop(), browser?.close()])
  })

  test('rtspkit view <camera with a password>: prints the page, which plays; the password appears nowhere', async (t) => {
    const child = spawnCli(['view', gst.url('/h264aac'), '--http', '0', '--transport', 'tcp'])
    t.after(() => killChild(child))
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const [page] = await readUntil(child.stdout!, /http:\/\/127\.0\.0\.1:\d+\/cam\//, 20_000)
    const origin = new URL(page!).origin
    for (const path of ['/', '/api/paths', '/cam/']) {
      const body = await (await fetch(origin + path)).text()
      assert.doesNotMatch(body, /gst-pw-7731/, path)
    }
    const p = await browser.newPage()
    try {
      await p.goto(`${page}?transports=mse`)
      await p.waitForFunction(`(() => { const el = document.querySelector('rtspkit-player'); return el.transport === 'mse' && el.video.currentTime > 1 && el.video.videoWidth === 640 })()`, undefined, { timeout: 15_000 })
    } finally {
      await p.close()
    }
    assert.doesNotMatch(stderr + page, /gst-pw-7731/)
    assert.match(stderr, /H264 640x480 \+ AAC/)
  })

  test('rtspkit view --user: the browser logs in (Basic) and plays over the WebSocket; no login, no page', async (t) => {
    const child = spawnCli(['view', gst.url('/h264aac'), '--http', '0', '--transport', 'tcp', '--user', 'viewer', '--password', 'web-pw-5'])
    t.after(() => killChild(child))
    const [page] = await readUntil(child.stdout!, /http:\/\/127\.0\.0\.1:\d+\/cam\//, 20_000)
    assert.equal((await fetch(page!)).status, 401)
    const context = await browser.newContext({ httpCredentials: { username: 'viewer', password: 'web-pw-5' } })
    try {
      const p = await context.newPage()
      await p.goto(`${page}?transports=mse`)
      await p.waitForFunction(`(() => { const el = document.querySelector('rtspkit-player'); return el.transport === 'mse' && el.video.currentTime > 1 })()`, undefined, { timeout: 15_000 })
    } finally {
      await context.close()
    }
  })

  test('rtspkit serve --http and rtspkit demo --web answer with their pages', async (t) => {
    const serve = spawnCli(['serve', '--port', '0', '--http', '0', `cam=${SAMPLE}`])
    const demo = spawnCli(['demo', '--web'])
    t.after(() => Promise.all([killChild(serve), killChild(demo)]))
    const [, serveOrigin] = await readUntil(serve.stdout!, /watch in a browser at (http:\/\/127\.0\.0\.1:\d+)\//, 15_000)
    const [demoPage] = await readUntil(demo.stdout!, /http:\/\/127\.0\.0\.1:\d+\/demo\//, 15_000)
    const index = await (await fetch(`${serveOrigin}/`)).text()
    assert.match(index, /href="\/cam\/"/)
    const r = await fetch(demoPage!)
    assert.equal(r.status, 200)
    assert.match(await r.text(), /<rtspkit-player src="\/demo\/"/)
  })
})
