/**
 * What the RTSP-over-HTTP server tests check the same way, whichever port carries the tunnel
 * (serve-http-tunnel.test.ts: the RTSP port; serve-http-tunnel-port.test.ts: a port of its own).
 */
import assert from 'node:assert/strict'
import * as net from 'node:net'
import { RtspClient } from '../../src/client/client.js'
import { runProcess } from './cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from './media-check.js'

/**
 * ffmpeg's tunnelling client (`-rtsp_transport http`: GET + POST with x-sessioncookie, base64
 * requests) records 3 s of the sample clip at `url` into `out`: it decodes clean, H.264 + AAC.
 */
export async function assertFfmpegRecordsThroughTunnel(url: string, out: string): Promise<void> {
  const rec = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'http', '-i', url, '-t', '3', '-c', 'copy', '-y', out], { timeoutMs: 40_000 })
  assert.equal(rec.code, 0, rec.stderr)
  assert.equal(await decodeErrors(out), '')
  const probe = await ffprobeFile(out)
  assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
  assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
  assert.ok(Number(probe.format.duration) > 2.5, `${probe.format.duration} s`)
}

/** rtspkit's client pulls `url` through an HTTP tunnel and gets 30 video frames. */
export async function assertPullsThroughTunnel(url: string): Promise<void> {
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
}

/**
 * Send `text` on a fresh connection to `port` and return what comes back before the server
 * closes it (or, with `destroyAfterMs`, before that long has passed).
 */
export function exchange(port: number, text: string, destroyAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text))
    let got = ''
    s.on('data', (b) => (got += b.toString('latin1')))
    s.on('close', () => resolve(got))
    s.on('error', reject)
    if (destroyAfterMs !== undefined) setTimeout(() => s.destroy(), destroyAfterMs)
  })
}
