// pull --reconnect: the server goes away mid-recording and comes back; the recording keeps
// growing in the same file and decodes cleanly.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { killChild, spawnCli, waitForExit } from '../helpers/cli.js'
import { until } from '../helpers/until.js'
import { RtspClient } from '../../src/index.js'
import type { ReconnectEvent } from '../../src/index.js'

/** A TCP proxy on a fixed port that can drop every connection and refuse new ones for a while. */
async function startOutageProxy(targetPort: number) {
  const sockets = new Set<net.Socket>()
  let server: net.Server
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1')
        for (const s of [client, upstream]) {
          sockets.add(s)
          s.on('close', () => sockets.delete(s))
          s.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
        client.on('close', () => upstream.destroy())
        upstream.on('close', () => client.destroy())
      })
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
    })
  const port = await listen(0)
  return {
    port,
    /** Reset every connection and refuse new ones for `ms`, like a server restarting. */
    async outage(ms: number) {
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      await closed
      await new Promise((r) => setTimeout(r, ms))
      await listen(port)
    },
    async stop() {
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
}

/** Video packets in a recording so far (fragmented MP4 and MPEG-TS are readable while written). */
async function videoPackets(file: string): Promise<number> {
  const probe = await ffprobeFile(file).catch(() => undefined)
  return Number(probe?.streams.find((s) => s.codec_type === 'video')?.nb_read_packets ?? 0)
}

describe('reconnect', () => {
  it('CLI: GStreamer killed and restarted during pull --reconnect; the recording resumes in the same file and decodes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-restart-'))
    let gst = await startGstServer()
    const port = gst.port
    const file = path.join(dir, 'rec.ts')
    const child = spawnCli(['pull', `rtsp://127.0.0.1:${port}/h264aac`, '-o', file, '--transport', 'tcp', '--reconnect', '--timeout', '2000'])
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      await until(async () => (await videoPackets(file)) >= 30, 'the recording has started')
      const before = await videoPackets(file)
      await gst.stop()
      await until(() => /reconnecting in \d+ ms/.test(stderr), 'the drop is noticed')
      gst = await startGstServer({ port })
      // A fragment written before the drop may still land: 60 more is media from after it.
      await until(async () => (await videoPackets(file)) >= before + 60, 'the recording grows after the restart')
      child.kill('SIGTERM')
      const { code } = await waitForExit(child, 10_000)
      assert.equal(code, 0, stderr)
      assert.match(stderr, /reconnecting in \d+ ms/)
      const video = await videoPackets(file)
      assert.ok(video >= before + 60, `video packets: ${before} before the restart, ${video} at the end`)
      assert.equal(await decodeErrors(file), '')
    } finally {
      await killChild(child)
      await gst.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('library: supervise() reconnects with backoff and keeps pts continuous', async () => {
    const gst = await startGstServer()
    const proxy = await startOutageProxy(gst.port)
    try {
      const sup = await new RtspClient({ transport: 'tcp' }).supervise(`rtsp://127.0.0.1:${proxy.port}/h264`, {
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      })
      const events: ReconnectEvent[] = []
      sup.on('reconnecting', (e) => events.push(e))
      let last = -1
      let video = 0
      let outage: Promise<void> | undefined
      for await (const f of sup.frames()) {
        assert.ok(f.pts >= last || f.track.type !== 'video', `pts went back: ${last} → ${f.pts}`)
        if (f.track.type === 'video') {
          last = f.pts
          video++
        }
        if (video === 20) outage = proxy.outage(700)
        if (sup.reconnects >= 1 && video > 60) break
      }
      await outage
      await sup.close()
      assert.ok(events.length >= 1)
      assert.equal(events[0]!.attempt, 1)
      assert.ok(events[0]!.delayMs >= 100 && events[0]!.delayMs <= 200)
      assert.ok(sup.reconnects >= 1)
    } finally {
      await proxy.stop()
      await gst.stop()
    }
  })

  it('CLI: pull --reconnect survives an outage; the file grows and decodes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-reconnect-'))
    const gst = await startGstServer()
    const proxy = await startOutageProxy(gst.port)
    const file = path.join(dir, 'rec.mp4')
    const child = spawnCli(['pull', `rtsp://127.0.0.1:${proxy.port}/h264aac`, '-o', file, '--transport', 'tcp', '--reconnect', '--timeout', '2000'])
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      await until(async () => (await videoPackets(file)) >= 30, 'the recording has started')
      const before = await videoPackets(file)
      await proxy.outage(1500)
      await until(async () => /reconnecting in \d+ ms/.test(stderr) && (await videoPackets(file)) >= before + 60, 'the recording grows after the outage')
      child.kill('SIGTERM')
      const { code } = await waitForExit(child, 10_000)
      assert.equal(code, 0, stderr)
      assert.match(stderr, /reconnecting in \d+ ms \(attempt 1\)/)
      const video = await videoPackets(file)
      assert.ok(video >= before + 60, `video packets: ${before} before the outage, ${video} at the end`)
      assert.equal(await decodeErrors(file), '')
    } finally {
      await killChild(child)
      await proxy.stop()
      await gst.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
