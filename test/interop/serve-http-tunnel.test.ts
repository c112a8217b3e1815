/**
 * RTSP over HTTP on the server's RTSP port (issue #16): ffmpeg's tunnelling client
 * (`-rtsp_transport http`: GET + POST with x-sessioncookie, base64 requests) reads a served
 * file and the recording decodes; rtspkit's own tunnelling client reads it too; a POST that
 * names no open GET, and a GET without a cookie, are refused without touching RTSP clients.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import { RtspServer } from '../../src/server/index.js'
import { REPO_ROOT, runProcess } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'

const SAMPLE = join(REPO_ROOT, 'assets/sample.mp4')
let dir: string
let server: RtspServer
const log: string[] = []

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-tunnel-'))
  server = new RtspServer({ port: 0, log: (l) => log.push(l) })
  await server.listen()
  await server.addFile('cam', SAMPLE)
})

after(async () => {
  await server?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** Send `text` on a fresh connection and return what comes back before the server closes it. */
function exchange(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, '127.0.0.1', () => s.write(text))
    let got = ''
    s.on('data', (b) => (got += b.toString('latin1')))
    s.on('close', () => resolve(got))
    s.on('error', reject)
    setTimeout(() => s.destroy(), 3000)
  })
}

describe('rtspkit serve: RTSP tunnelled in HTTP', () => {
  it('ffmpeg -rtsp_transport http records a served file that decodes clean', { timeout: 60_000 }, async () => {
    const out = join(dir, 'tunnel.mkv')
    const rec = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'http', '-i', server.url('cam'), '-t', '3', '-c', 'copy', '-y', out], { timeoutMs: 40_000 })
    assert.equal(rec.code, 0, rec.stderr)
    assert.equal(await decodeErrors(out), '')
    const probe = await ffprobeFile(out)
    assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    assert.ok(Number(probe.format.duration) > 2.5, `${probe.format.duration} s`)
    assert.ok(log.some((l) => /reads \/cam .* over TCP/.test(l)), log.join('\n'))
  })

  it("rtspkit's client through the tunnel of rtspkit's server", { timeout: 30_000 }, async () => {
    const session = await new RtspClient().pull(server.url('cam'), { transport: 'http' })
    try {
      let video = 0
      for await (const f of session.frames()) {
        if (f.track.type === 'video') video++
        if (video >= 30) break
      }
      assert.equal(video, 30)
    } finally {
      await session.close()
    }
  })

  it('a POST with no GET is 403, a GET without x-sessioncookie 400', { timeout: 15_000 }, async () => {
    const post = await exchange('POST /cam HTTP/1.0\r\nx-sessioncookie: nosuch\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\nT1BUSU9OUw==')
    assert.match(post, /^HTTP\/1\.0 403/)
    const get = await exchange('GET /cam HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n')
    assert.match(get, /^HTTP\/1\.0 400/)
    // RTSP on the same port is unaffected, GET_PARAMETER included (it starts like GET).
    const rtsp = await exchange('GET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\n\r\n')
    assert.match(rtsp, /^RTSP\/1\.0 \d{3}/)
  })
})
