/**
 * A WebSocket viewer that reads nothing: the server holds at most a small bound of bytes for
 * it (then skips to key frames), cuts it after a stall, and another viewer's frame rate does
 * not change meanwhile. A ~3 MB/s stream fills the kernel's socket buffers in seconds.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { WebSocket } from 'ws'
import { openFileSource } from '../../../src/input/file-source.js'
import { RtspServer } from '../../../src/server/index.js'
import type { StreamPublisher } from '../../../src/server/stream.js'

const SAMPLE = new URL('../../../assets/sample.mp4', import.meta.url).pathname
const FPS = 30
/** Filler data NAL (H.264 type 12, §7.3.2.7): bulk that decoders skip. */
const FILLER = Buffer.concat([Buffer.from([0x0c]), Buffer.alloc(100_000, 0xff), Buffer.from([0x80])])

let server: RtspServer
let http: Server
let host: string
let timer: NodeJS.Timeout
/** The server's side of each WebSocket, to read what it holds for a viewer. */
const upgraded: Socket[] = []
const BOUND = 256 * 1024
/** Frames published so far. */
let n = 0

before(async () => {
  const src = await openFileSource(SAMPLE)
  const video = src.tracks.findIndex((t) => t.type === 'video')
  const frames = [...src.cachedFrames!()!].filter((f) => f.trackIndex === video)
  server = new RtspServer({ port: 0 })
  const pub: StreamPublisher = server.publish('fast', [{ type: 'video', codec: 'H264', details: src.tracks[video]!.details }])
  await src.close()
  await server.listen()
  timer = setInterval(() => {
    const f = frames[n % frames.length]!
    pub.write(0, { pts: n / FPS, keyFrame: f.keyFrame, data: [...f.data, FILLER] })
    n++
  }, 1000 / FPS)
  http = createServer(server.httpHandler({ maxBufferedBytes: BOUND, stallCutMs: 2000 }))
  const upgrade = server.upgradeHandler()
  http.on('upgrade', (req, socket, head) => {
    upgraded.push(socket as Socket)
    upgrade(req, socket, head)
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  host = `127.0.0.1:${(http.address() as AddressInfo).port}`
})

after(async () => {
  clearInterval(timer)
  http.closeAllConnections()
  await new Promise((r) => http.close(r))
  await server.close()
})

async function viewers(): Promise<number> {
  const api = (await (await fetch(`http://${host}/api/paths`)).json()) as { paths: Array<{ path: string; viewers: number }> }
  return api.paths.find((p) => p.path === 'fast')!.viewers
}

/** A WebSocket handshake, then never a read: the socket is paused at once. */
function stuckViewer(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: Number(host.split(':')[1]) }, () => {
      s.write(`GET /fast/ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      s.once('data', (d) => {
        if (!d.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error(d.toString('latin1')))
        s.pause()
        resolve(s)
      })
    })
    s.on('error', () => {})
  })
}

test('a viewer that reads nothing is bounded, then cut; another viewer keeps its frame rate', { timeout: 60_000 }, async (t) => {
  // The good viewer counts its fragments per second.
  const good = new WebSocket(`ws://${host}/fast/ws`)
  const stamps: number[] = []
  good.on('message', (data, isBinary) => {
    if (isBinary && (data as Buffer).toString('latin1', 4, 8) === 'moof') stamps.push(performance.now())
  })
  await new Promise((r) => good.once('open', r))
  const rate = (from: number, to: number) => stamps.filter((t) => t >= from && t < to).length / ((to - from) / 1000)

  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, 2000))
  const before = rate(t0, performance.now())

  const rss0 = process.memoryUsage().rss
  const stuck = await stuckViewer()
  assert.equal(await viewers(), 2)
  const serverSide = upgraded[upgraded.length - 1]!
  const t1 = performance.now()
  const published1 = n
  const received1 = stamps.length
  let peakRss = rss0
  let peakHeld = 0
  // Cut once the kernel's buffers are full, the server's bound is hit and the stall lasts 2 s.
  while ((await viewers()) !== 1) {
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    peakHeld = Math.max(peakHeld, serverSide.writableLength)
    assert.ok(performance.now() - t1 < 30_000, 'the stuck viewer was never cut')
    await new Promise((r) => setTimeout(r, 200))
  }
  const during = rate(t1, performance.now())
  await new Promise((r) => setTimeout(r, 200)) // what was written last is read
  const published = n - published1
  const received = stamps.length - received1
  good.close()
  stuck.destroy()

  t.diagnostic(`good viewer ${before.toFixed(1)} fps before, ${during.toFixed(1)} fps while the other was stuck (${received} of ${published} frames; cut after ${((performance.now() - t1) / 1000).toFixed(1)} s); held for it at most ${(peakHeld / 1024).toFixed(0)} KiB; RSS +${((peakRss - rss0) / 1048576).toFixed(1)} MiB`)
  // Every frame published while the other viewer was stuck reached the good one (none skipped).
  assert.ok(received >= published - 2, `good viewer got ${received} of ${published} frames while the other was stuck`)
  // ~3 MB/s went on for seconds; what the server held for the stuck viewer stayed at the bound
  // plus the one fragment that crossed it.
  assert.ok(peakHeld > 0, 'the stuck viewer never filled its socket')
  assert.ok(peakHeld <= BOUND + 2 * FILLER.length, `held ${peakHeld} bytes for the stuck viewer`)
})
