/**
 * MJPEG through a pulled path (rtspkit view on an MJPEG-only camera): GStreamer's RTP/JPEG
 * mount → RtspServer.addPull → an RTSP reader (ffmpeg decodes what it records) and the HTTP
 * side's `/<path>.mjpeg` (each part decoded by ffmpeg).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { runProcess } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'
import { RtspServer } from '../../src/index.js'

// format=I420: without it gst-rtsp-server 1.22 never answers DESCRIBE for this mount (jpegenc caps negotiation).
const MJPEG = 'videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! jpegenc ! rtpjpegpay name=pay0'

test('a pulled MJPEG camera is served again: RTSP readers and /<path>.mjpeg get decodable JPEGs', { timeout: 90_000 }, async (t) => {
  const cam = await startGstServer({ extra: { mjpeg: MJPEG } })
  t.after(() => cam.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-mjpeg-pull-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const server = new RtspServer({ port: 0 })
  t.after(() => server.close())
  const { publisher, skipped } = await server.addPull('door', cam.url('/mjpeg'), { transport: 'tcp' })
  assert.deepEqual(skipped, [])
  assert.deepEqual(publisher.tracks.map((tr) => tr.codec), ['JPEG'])
  await server.listen()
  const http = createServer(server.httpHandler())
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')
  t.after(() => {
    http.closeAllConnections()
    http.close()
  })

  // An RTSP reader: ffmpeg records the served RTP/JPEG and decodes it.
  const file = join(dir, 'door.mkv')
  const r = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', server.url('door'), '-frames:v', '20', '-c', 'copy', '-y', file], { timeoutMs: 40_000 })
  assert.equal(r.code, 0, r.stderr)
  const v = streamsOf(await ffprobeFile(file), 'video')[0]
  assert.equal(v?.codec_name, 'mjpeg')
  assert.equal(v?.width, 320)
  assert.equal(v?.height, 240)
  assert.equal(await decodeErrors(file), '')

  // The browser's MJPEG view: multipart JPEG parts, each a whole picture.
  const ac = new AbortController()
  const res = await fetch(`http://127.0.0.1:${(http.address() as AddressInfo).port}/door.mjpeg`, { signal: ac.signal })
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^multipart\/x-mixed-replace; boundary=/)
  let buf = Buffer.alloc(0)
  const parts: Buffer[] = []
  for await (const chunk of res.body!) {
    buf = Buffer.concat([buf, chunk as Uint8Array])
    for (;;) {
      const m = /Content-Length: (\d+)\r\n\r\n/.exec(buf.toString('latin1'))
      if (m === null) break
      const start = m.index + m[0].length
      const len = Number(m[1])
      if (buf.length < start + len) break
      parts.push(buf.subarray(start, start + len))
      buf = buf.subarray(start + len)
    }
    if (parts.length >= 3) break
  }
  ac.abort()
  assert.ok(parts.length >= 3, 'three JPEG parts')
  for (const [i, jpeg] of parts.entries()) {
    assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'SOI')
    const f = join(dir, `part${i}.jpg`)
    await writeFile(f, jpeg)
    const s = streamsOf(await ffprobeFile(f), 'video')[0]
    assert.deepEqual([s?.codec_name, s?.width, s?.height], ['mjpeg', 320, 240])
    assert.equal(await decodeErrors(f), '')
  }
})
