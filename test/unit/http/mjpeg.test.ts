/**
 * MJPEG paths in the browser view: ffmpeg publishes RTP/JPEG (RFC 2435) to the server, the
 * HTTP side serves it as multipart/x-mixed-replace JPEG frames, and the MSE WebSocket tells
 * the player to show that instead.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { WebSocket } from 'ws'
import { RtspServer } from '../../../src/server/index.js'

let server: RtspServer
let http: Server
let base: string
let ffmpeg: ChildProcess

before(async () => {
  server = new RtspServer({ port: 0 })
  await server.listen()
  http = createServer(server.httpHandler())
  http.on('upgrade', server.upgradeHandler())
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  base = `127.0.0.1:${(http.address() as AddressInfo).port}`
  // RFC 2435 wants baseline JPEG with the standard Huffman tables (-huffman 0) in 4:2:0.
  ffmpeg = spawn('ffmpeg', ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10', '-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-huffman', '0', '-t', '30', '-f', 'rtsp', '-rtsp_transport', 'tcp', server.url('mj')], { stdio: 'ignore' })
  const deadline = Date.now() + 15_000
  while (server.liveStream('mj') === undefined) {
    if (Date.now() > deadline) throw new Error('ffmpeg never published')
    await new Promise((r) => setTimeout(r, 100))
  }
})

after(async () => {
  ffmpeg.kill('SIGKILL')
  http.closeAllConnections()
  await new Promise((r) => http.close(r))
  await server.close()
})

test('an MJPEG path as multipart JPEG frames, and the MSE socket points the player there', { timeout: 30_000 }, async () => {
  const res = await fetch(`http://${base}/mj.mjpeg`)
  assert.equal(res.headers.get('content-type'), 'multipart/x-mixed-replace; boundary=rtspkitframe')
  const reader = res.body!.getReader()
  let text = ''
  while ((text.match(/--rtspkitframe/g) ?? []).length < 4) {
    const { value, done } = await reader.read()
    assert.ok(!done)
    text += Buffer.from(value).toString('latin1')
  }
  await reader.cancel()
  const part = /--rtspkitframe\r\nContent-Type: image\/jpeg\r\nContent-Length: (\d+)\r\n\r\n/.exec(text)!
  const jpeg = text.slice(part.index + part[0].length, part.index + part[0].length + Number(part[1]))
  assert.equal(jpeg.charCodeAt(0), 0xff) // SOI
  assert.equal(jpeg.charCodeAt(1), 0xd8)
  assert.equal(jpeg.charCodeAt(jpeg.length - 1), 0xd9) // EOI

  const api = (await (await fetch(`http://${base}/api/paths`)).json()) as { paths: Array<{ tracks: Array<{ codec: string; width?: number }>; links: { mjpeg?: string } }> }
  assert.equal(api.paths[0]!.tracks[0]!.codec, 'JPEG')
  assert.equal(api.paths[0]!.tracks[0]!.width, 320)
  assert.equal(api.paths[0]!.links.mjpeg, '/mj.mjpeg')

  const ws = new WebSocket(`ws://${base}/mj/ws`)
  const first = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())))
  ws.close()
  assert.deepEqual(JSON.parse(first), { type: 'mjpeg', url: '/mj.mjpeg' })
})
