/**
 * On-demand pulled paths (issue 12, "one upstream per path"): GStreamer's RTSP server behind a
 * TCP proxy that counts the connections the rtspkit server opens to it. Nothing connects before
 * the first viewer; an RTSP reader and a live `.mp4` viewer together share one upstream; it
 * closes `closeAfterMs` after the last one leaves, and the next viewer opens a new one.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, get } from 'node:http'
import type { IncomingMessage } from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGstServer } from '../helpers/gst-server.js'
import { RtspClient, RtspServer } from '../../src/index.js'
import { killChild, readUntil, spawnCli, waitForExit } from '../helpers/cli.js'

/** A TCP proxy to `port` that counts the connections made through it and those still open. */
async function countingProxy(port: number): Promise<{ port: number; opened: () => number; open: () => number; close: () => Promise<void> }> {
  let opened = 0
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((down) => {
    opened++
    const up = net.connect(port, '127.0.0.1')
    sockets.add(down)
    down.on('close', () => sockets.delete(down))
    down.pipe(up).pipe(down)
    down.on('error', () => up.destroy())
    up.on('error', () => down.destroy())
    up.on('close', () => down.destroy())
    down.on('close', () => up.destroy())
  })
  proxy.listen(0, '127.0.0.1')
  await once(proxy, 'listening')
  return {
    port: (proxy.address() as AddressInfo).port,
    opened: () => opened,
    open: () => sockets.size,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => proxy.close(() => resolve()))
    },
  }
}

/** Resolves once `check` holds, sampling every 20 ms; rejects after `ms` saying what was awaited. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms
  while (!check()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

test('addPull onDemand: no upstream before a viewer, one for an RTSP reader and a .mp4 viewer, closed after the last', { timeout: 90_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const proxy = await countingProxy(cam.port)
  t.after(() => proxy.close())
  const server = new RtspServer({ port: 0 })
  t.after(() => server.close())
  const closeAfterMs = 300
  const r = await server.addPull('cam', `rtsp://127.0.0.1:${proxy.port}/h264aac`, { onDemand: true, closeAfterMs, transport: 'tcp', timeoutMs: 10_000 })
  assert.equal(r.publisher, undefined)
  await server.listen()
  const http = createServer(server.httpHandler({ lingerMs: 100 }))
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.after(() => {
    http.closeAllConnections()
    http.close()
  })
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`

  // Nothing connects until someone watches (the HTTP index lists the path meanwhile).
  await sleep(500)
  assert.equal(proxy.opened(), 0, 'no upstream connection before the first viewer')
  assert.deepEqual(server.paths(), [])
  const api = await (await fetch(`${origin}/api/paths`)).text()
  assert.match(api, /"cam"/)
  assert.equal(proxy.opened(), 0, 'listing the path does not open it')

  // An RTSP reader: DESCRIBE waits for the camera's tracks.
  const session = await new RtspClient({ transport: 'tcp' }).pull(server.url('cam'))
  assert.deepEqual(session.tracks.map((tr) => tr.codec.toUpperCase()), ['H264', 'AAC'])
  let rtspFrames = 0
  const reading = (async () => {
    for await (const _ of session.frames()) rtspFrames++
  })()

  // A live .mp4 viewer at the same time: its bytes must reach a moof (media, not just the init).
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${origin}/cam.mp4`, resolve).on('error', reject))
  assert.equal(res.statusCode, 200)
  let mp4 = Buffer.alloc(0)
  await new Promise<void>((resolve, reject) => {
    res.on('data', (b: Buffer) => {
      mp4 = Buffer.concat([mp4, b])
      if (mp4.includes('moof') && mp4.length > 20_000) resolve()
    })
    res.on('error', reject)
    res.on('end', () => reject(new Error('the .mp4 ended early')))
  })
  await until(() => rtspFrames >= 30, 10_000, '30 frames over RTSP')
  assert.equal(proxy.opened(), 1, 'one upstream shared by the RTSP reader and the .mp4 viewer')

  // The RTSP reader leaves: the .mp4 viewer keeps the upstream open past closeAfterMs.
  await session.close()
  await reading
  await sleep(closeAfterMs * 3)
  assert.equal(proxy.open(), 1, 'the upstream stays while a viewer is left')
  assert.equal(server.paths().length, 1)

  // The last viewer leaves: the upstream closes a while after.
  res.destroy()
  const left = performance.now()
  await until(() => proxy.open() === 0 && server.paths().length === 0, 10_000, 'the upstream to close')
  assert.ok(performance.now() - left >= closeAfterMs, 'not before closeAfterMs')
  assert.equal(proxy.opened(), 1)

  // The next viewer opens a new upstream.
  const again = await new RtspClient({ transport: 'tcp' }).pull(server.url('cam'))
  for await (const f of again.frames()) if (f.track.type === 'video') break
  await again.close()
  assert.equal(proxy.opened(), 2)
})

test('addPull onDemand: a source that cannot be opened answers DESCRIBE 503; another source cannot take the path', { timeout: 30_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const server = new RtspServer({ port: 0 })
  t.after(() => server.close())
  await server.addPull('gone', cam.url('/no-such-mount'), { onDemand: true, transport: 'tcp', timeoutMs: 5_000 })
  await assert.rejects(server.addPull('gone', cam.url('/h264'), { onDemand: true }), /served from a source pulled on demand/)
  await server.listen()
  await assert.rejects(new RtspClient({ transport: 'tcp' }).pull(server.url('gone')), (err: Error & { status?: number }) => {
    assert.equal(err.status, 503)
    return true
  })
  assert.deepEqual(server.paths(), [])
})

test('rtspkit serve --on-demand: the camera is connected by the first reader and closed --close-after later', { timeout: 60_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const proxy = await countingProxy(cam.port)
  t.after(() => proxy.close())
  const child = spawnCli(['serve', '--port', '0', '--on-demand', '--close-after', '0.3', `cam=rtsp://127.0.0.1:${proxy.port}/h264`])
  t.after(() => killChild(child))
  const m = await readUntil(child.stdout!, /(rtsp:\/\/127\.0\.0\.1:\d+\/cam)\s.*on demand/, 20_000)
  await sleep(300)
  assert.equal(proxy.opened(), 0, 'no upstream before a reader')
  const session = await new RtspClient({ transport: 'tcp' }).pull(m[1]!)
  for await (const f of session.frames()) if (f.keyFrame) break
  assert.equal(proxy.opened(), 1)
  await session.close()
  await until(() => proxy.open() === 0, 10_000, 'the upstream to close')
  child.kill('SIGTERM')
  assert.equal((await waitForExit(child, 15_000)).code, 0)
})

test('rtspkit view: an RTSP reader alone opens the camera again after --linger (no browser needed)', { timeout: 60_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const proxy = await countingProxy(cam.port)
  t.after(() => proxy.close())
  const child = spawnCli(['view', `rtsp://127.0.0.1:${proxy.port}/h264`, '--http', '0', '--port', '0', '--linger', '0.3', '--transport', 'tcp'])
  t.after(() => killChild(child))
  let log = ''
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  await readUntil(child.stdout!, /^http:\/\/\S+\/cam\/$/m, 20_000)
  // view opens the camera once to check it, then lets it go after --linger.
  await until(() => /also on RTSP at rtsp:\/\/\S+/.test(log), 5_000, 'the RTSP URL line')
  const rtspUrl = /also on RTSP at (rtsp:\/\/\S+)/.exec(log)![1]!
  await until(() => proxy.open() === 0, 10_000, 'the check connection to close')
  assert.equal(proxy.opened(), 1)
  const session = await new RtspClient({ transport: 'tcp' }).pull(rtspUrl)
  for await (const f of session.frames()) if (f.keyFrame) break
  await session.close()
  assert.equal(proxy.opened(), 2, 'the RTSP reader opened the camera')
  child.kill('SIGTERM')
  assert.equal((await waitForExit(child, 15_000)).code, 0)
})

test('serve --config: sourceOnDemand pulls on the first reader and closes sourceOnDemandCloseAfter later; a reload removing it frees the path', { timeout: 60_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const proxy = await countingProxy(cam.port)
  t.after(() => proxy.close())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-on-demand-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const cfg = join(dir, 'rtspkit.yml')
  await writeFile(cfg, `paths:\n  door:\n    source: rtsp://127.0.0.1:${proxy.port}/h264\n    sourceOnDemand: true\n    sourceOnDemandCloseAfter: 0.3\n  live:\n`)
  const child = spawnCli(['serve', '--config', cfg, '--port', '0'])
  t.after(() => killChild(child))
  const m = await readUntil(child.stdout!, /listening on (rtsp:\/\/127\.0\.0\.1:\d+)/, 20_000)
  await sleep(300)
  assert.equal(proxy.opened(), 0, 'no upstream before a reader')
  const session = await new RtspClient({ transport: 'tcp' }).pull(`${m[1]}/door`)
  for await (const f of session.frames()) if (f.keyFrame) break
  await session.close()
  assert.equal(proxy.opened(), 1)
  await until(() => proxy.open() === 0, 10_000, 'the upstream to close')

  // Reloaded without the path: it is no longer served (and opens nothing).
  let log = ''
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  await writeFile(cfg, 'paths:\n  live:\n')
  child.kill('SIGHUP')
  await until(() => /reloaded .*removed door/.test(log), 10_000, 'the reload')
  await assert.rejects(new RtspClient({ transport: 'tcp' }).pull(`${m[1]}/door`), (err: Error & { status?: number }) => err.status === 404)
  assert.equal(proxy.opened(), 1)
  child.kill('SIGTERM')
  assert.equal((await waitForExit(child, 15_000)).code, 0)
})
