/**
 * RTSP over HTTP on a port of its own (issue 16, `rtspkit serve --http-tunnel-port`): ffmpeg's
 * tunnelling client and rtspkit's read a served file through it, the RTSP port still sniffs
 * tunnels too, and bare RTSP on the tunnel port is refused with an HTTP 400.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import { REPO_ROOT, killChild, readUntil, runProcess, spawnCli } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'

const SAMPLE = join(REPO_ROOT, 'assets/sample.mp4')
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-tunnel-port-'))
})

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** Send `text` on a fresh connection to `port` and return what comes back before the server closes it. */
function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text))
    let got = ''
    s.on('data', (b) => (got += b.toString('latin1')))
    s.on('close', () => resolve(got))
    s.on('error', reject)
  })
}

describe('rtspkit serve --http-tunnel-port', () => {
  it('ffmpeg -rtsp_transport http and rtspkit read through the tunnel port; bare RTSP there is a 400', { timeout: 90_000 }, async (t) => {
    const child = spawnCli(['serve', '--port', '0', '--http-tunnel-port', '0', `cam=${SAMPLE}`])
    t.after(() => killChild(child))
    const [, tunnelBase] = await readUntil(child.stdout!, /RTSP over HTTP on (rtsp:\/\/[\d.]+:\d+)/, 20_000)
    const tunnelPort = Number(/:(\d+)$/.exec(tunnelBase!)![1])
    const url = `${tunnelBase}/cam`

    const out = join(dir, 'tunnel.mkv')
    const rec = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'http', '-i', url, '-t', '3', '-c', 'copy', '-y', out], { timeoutMs: 40_000 })
    assert.equal(rec.code, 0, rec.stderr)
    assert.equal(await decodeErrors(out), '')
    const probe = await ffprobeFile(out)
    assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    assert.ok(Number(probe.format.duration) > 2.5, `${probe.format.duration} s`)

    const session = await new RtspClient().pull(url, { transport: 'http' })
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

    // Only tunnels here: RTSP itself belongs on the RTSP port.
    const rtsp = await exchange(tunnelPort, 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')
    assert.match(rtsp, /^HTTP\/1\.0 400/)
  })
})
