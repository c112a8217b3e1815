/**
 * RTSP over HTTP on a port of its own (issue 16, `rtspkit serve --http-tunnel-port`): ffmpeg's
 * tunnelling client and rtspkit's read a served file through it, the RTSP port still sniffs
 * tunnels too, and bare RTSP on the tunnel port is refused with an HTTP 400.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { REPO_ROOT, killChild, readUntil, spawnCli } from '../helpers/cli.js'
import { assertFfmpegRecordsThroughTunnel, assertPullsThroughTunnel, exchange } from '../helpers/http-tunnel-checks.js'

const SAMPLE = join(REPO_ROOT, 'assets/sample.mp4')
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-tunnel-port-'))
})

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('rtspkit serve --http-tunnel-port', () => {
  it('ffmpeg -rtsp_transport http and rtspkit read through the tunnel port; bare RTSP there is a 400', { timeout: 90_000 }, async (t) => {
    const child = spawnCli(['serve', '--port', '0', '--http-tunnel-port', '0', `cam=${SAMPLE}`])
    t.after(() => killChild(child))
    const [, tunnelBase] = await readUntil(child.stdout!, /RTSP over HTTP on (rtsp:\/\/[\d.]+:\d+)/, 20_000)
    const tunnelPort = Number(/:(\d+)$/.exec(tunnelBase!)![1])
    const url = `${tunnelBase}/cam`

    const out = join(dir, 'tunnel.mkv')
    await assertFfmpegRecordsThroughTunnel(url, out)

    await assertPullsThroughTunnel(url)

    // Only tunnels here: RTSP itself belongs on the RTSP port.
    const rtsp = await exchange(tunnelPort, 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')
    assert.match(rtsp, /^HTTP\/1\.0 400/)
  })
})
