/**
 * RTSP over HTTP on the server's RTSP port (issue #16): ffmpeg's tunnelling client
 * (`-rtsp_transport http`: GET + POST with x-sessioncookie, base64 requests) reads a served
 * file and the recording decodes; rtspkit's own tunnelling client reads it too; a POST that
 * names no open GET, and a GET without a cookie, are refused without touching RTSP clients.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspServer } from '../../src/server/index.js'
import { REPO_ROOT } from '../helpers/cli.js'
import { assertFfmpegRecordsThroughTunnel, assertPullsThroughTunnel, exchange } from '../helpers/http-tunnel-checks.js'

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

describe('rtspkit serve: RTSP tunnelled in HTTP', () => {
  it('ffmpeg -rtsp_transport http records a served file that decodes clean', { timeout: 60_000 }, async () => {
    const out = join(dir, 'tunnel.mkv')
    await assertFfmpegRecordsThroughTunnel(server.url('cam'), out)
    assert.ok(log.some((l) => /reads \/cam .* over TCP/.test(l)), log.join('\n'))
  })

  it("rtspkit's client through the tunnel of rtspkit's server", { timeout: 30_000 }, async () => {
    await assertPullsThroughTunnel(server.url('cam'))
  })

  it('a POST with no GET is 403, a GET without x-sessioncookie 400', { timeout: 15_000 }, async () => {
    const post = await exchange(server.port, 'POST /cam HTTP/1.0\r\nx-sessioncookie: nosuch\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\nT1BUSU9OUw==', 3000)
    assert.match(post, /^HTTP\/1\.0 403/)
    const get = await exchange(server.port, 'GET /cam HTTP/1.0\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n', 3000)
    assert.match(get, /^HTTP\/1\.0 400/)
    // RTSP on the same port is unaffected, GET_PARAMETER included (it starts like GET).
    const rtsp = await exchange(server.port, 'GET_PARAMETER * RTSP/1.0\r\nCSeq: 1\r\n\r\n', 3000)
    assert.match(rtsp, /^RTSP\/1\.0 \d{3}/)
  })
})
