/**
 * RTSP over HTTP (the QuickTime tunnel, issue #16) as a client: GStreamer's RTSP server
 * tunnels on its RTSP port (GET + POST with x-sessioncookie). The pull goes through the
 * tunnel, and a server that does not tunnel (answers the GET as RTSP) is a one-line ProtocolError.
 */
import assert from 'node:assert/strict'
import * as net from 'node:net'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import type { Frame } from '../../src/client/track.js'
import { ProtocolError } from '../../src/errors.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'

let gst: GstServer

before(async () => {
  gst = await startGstServer()
})

after(async () => {
  await gst?.stop()
})

describe('pull --transport http (RTSP tunnelled in HTTP)', () => {
  it('pulls H.264 + AAC from GStreamer through the tunnel', { timeout: 30_000 }, async () => {
    const session = await new RtspClient().pull(gst.url('h264aac'), { transport: 'http' })
    try {
      assert.deepEqual(session.tracks.map((t) => t.transport.protocol), ['tcp', 'tcp'])
      assert.match(session.transport?.reason ?? '', /http/)
      const frames: Frame[] = []
      for await (const f of session.frames()) {
        frames.push(f)
        if (frames.filter((x) => x.track.type === 'video').length >= 45) break
      }
      const video = frames.filter((f) => f.track.type === 'video')
      const audio = frames.filter((f) => f.track.type === 'audio')
      assert.equal(video[0]!.keyFrame, true)
      assert.ok(audio.length > 20, `${audio.length} audio frames`)
      // 45 pictures at 30 fps: about 1.5 s of media on the session's timeline.
      const span = video.at(-1)!.pts - video[0]!.pts
      assert.ok(span > 1.2 && span < 1.8, `video spans ${span} s`)
    } finally {
      await session.close()
    }
  })

  it('a server that does not tunnel: ProtocolError that says to try tcp', { timeout: 15_000 }, async () => {
    // An RTSP-only server (as many cameras are) answers the GET as an RTSP request.
    const server = net.createServer((s) => s.once('data', () => s.end('RTSP/1.0 505 RTSP Version Not Supported\r\nCSeq: 0\r\n\r\n')))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    try {
      await assert.rejects(new RtspClient().pull(`rtsp://127.0.0.1:${port}/none`, { transport: 'http', timeoutMs: 5000 }), (err: unknown) => {
        assert.ok(err instanceof ProtocolError, String(err))
        assert.match((err as Error).message, /does not tunnel RTSP over HTTP.*--transport tcp/)
        return true
      })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
