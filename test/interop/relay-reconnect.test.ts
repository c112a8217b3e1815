// relay --reconnect: GStreamer → rtspkit relay → ffmpeg listen; GStreamer is killed and
// restarted on its port mid-relay, the destination session is kept, and what ffmpeg
// received decodes cleanly with frames from after the restart.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { killChild, spawnCli, waitForExit } from '../helpers/cli.js'
import { startFfmpegListener } from '../helpers/ffmpeg-listen.js'
import { until } from '../helpers/until.js'

describe('relay --reconnect', () => {
  it('keeps the destination while the source restarts; the received file decodes and grows past the outage', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rtspkit-relay-'))
    const out = path.join(dir, 'out.mkv')
    let gst = await startGstServer()
    const gstPort = gst.port
    const { url, child: ffmpeg } = await startFfmpegListener(out, { timeoutS: 30, outputArgs: ['-map', '0:v', '-c', 'copy'] })
    const relay = spawnCli(['relay', `rtsp://127.0.0.1:${gstPort}/h264`, url, '--src-transport', 'tcp', '--reconnect', '--timeout', '2000'])
    let stderr = ''
    relay.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      const size = (): number => (existsSync(out) ? statSync(out).size : 0)
      await until(() => size() > 64 * 1024, 'the relay delivers to the listener')
      await gst.stop()
      await until(() => /relay source dropped .*reconnecting in \d+ ms/.test(stderr), 'the drop is noticed')
      gst = await startGstServer({ port: gstPort })
      const atRestart = size()
      await until(() => size() > atRestart + 256 * 1024, 'media from after the restart reaches the listener')
      relay.kill('SIGTERM')
      const { code } = await waitForExit(relay, 10_000)
      assert.equal(code, 0, stderr)
      assert.match(stderr, /relay source dropped .*reconnecting in \d+ ms/)
      await waitForExit(ffmpeg, 10_000)
      assert.equal(await decodeErrors(out), '')
      const probe = await ffprobeFile(out)
      const video = Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_packets ?? 0)
      // ~2 s before the outage at most (less the first GOP), so more means frames after it.
      assert.ok(video > 75, `video packets ${video}`)
    } finally {
      await killChild(relay)
      await killChild(ffmpeg)
      await gst.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
