/**
 * Issue 11: ffmpeg's RTSP listener re-bases each stream's clock at the first RTCP sender
 * report it receives. A pusher whose first SR comes seconds after its first RTP packet gives
 * a recording whose timestamps jump ("non monotonically increasing dts" near 5 s). rtspkit
 * sends an SR for each track before its first RTP packet. Push and relay a 22 s H.264 + AAC
 * clip into an ffmpeg listener over TCP and UDP; the recording decodes without one message.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { killChild, runCli, waitForExit } from '../helpers/cli.js'
import { startFfmpegListener } from '../helpers/ffmpeg-listen.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { RtspServer } from '../../src/index.js'

const CLIP_S = 22
let dir: string
let clip: string

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-push-sr-'))
  clip = join(dir, 'clip.mp4')
  // No B-frames: ffmpeg 5.1's listener cannot stream-copy them (INTEROP.md).
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_S), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', clip])
})
after(() => rmSync(dir, { recursive: true, force: true }))

async function packets(path: string): Promise<{ video: number; audio: number; duration: number }> {
  const p = await ffprobeFile(path)
  const n = (type: string) => Number(p.streams.find((s) => s.codec_type === type)?.nb_read_packets ?? 0)
  return { video: n('video'), audio: n('audio'), duration: Number(p.format.duration ?? 0) }
}

// TCP and UDP side by side, each one test at a time: two ffmpeg listeners taking UDP ports
// at once race for the same ones (from 5000 up; "bind failed: Address already in use") and
// one of them then receives nothing.
describe('sender reports before the first RTP packet: ffmpeg listener recordings decode cleanly', { concurrency: true }, () => {
  for (const transport of ['tcp', 'udp'] as const) describe(transport, { concurrency: 1 }, () => {
    test(`push ${CLIP_S} s H.264 + AAC over ${transport}`, async (t) => {
      const out = join(dir, `push-${transport}.mkv`)
      const { url, child } = await startFfmpegListener(out, { timeoutS: 40 })
      t.after(() => killChild(child))
      const r = await runCli(['push', clip, url, '--transport', transport], { timeoutMs: 60_000 })
      assert.equal(r.code, 0, r.stderr)
      await waitForExit(child, 15_000)
      assert.equal(await decodeErrors(out, { timeoutMs: 30_000 }), '')
      const c = await packets(out)
      assert.equal(c.video, CLIP_S * 25)
      assert.ok(c.duration > CLIP_S - 1 && c.duration < CLIP_S + 1, `duration ${c.duration}`)
    })

    if (transport === 'tcp') {
      test('push --loop of a 4 s clip for 12 s: the loop wraps keep the recording clean', async (t) => {
        const short = join(dir, 'short.mp4')
        execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', clip, '-t', '4', '-c', 'copy', short])
        const out = join(dir, 'push-loop.mkv')
        const { url, child } = await startFfmpegListener(out, { timeoutS: 40 })
        t.after(() => killChild(child))
        const r = await runCli(['push', short, url, '--loop', '--duration', '12'], { timeoutMs: 60_000 })
        assert.equal(r.code, 0, r.stderr)
        await waitForExit(child, 15_000)
        assert.equal(await decodeErrors(out, { timeoutMs: 30_000 }), '')
        const c = await packets(out)
        assert.ok(c.duration > 11 && c.duration < 13, `duration ${c.duration}`)
      })
    }

    test(`relay ${CLIP_S - 2} s H.264 + AAC (rtspkit server → relay → ffmpeg listener) over ${transport}`, async (t) => {
      const server = new RtspServer({ host: '127.0.0.1', port: 0 })
      await server.addFile('clip', clip)
      await server.listen()
      t.after(() => server.close())
      const out = join(dir, `relay-${transport}.mkv`)
      const { url, child } = await startFfmpegListener(out, { timeoutS: 40 })
      t.after(() => killChild(child))
      const r = await runCli(['relay', server.url('clip'), url, '--src-transport', 'tcp', '--transport', transport, '--duration', String(CLIP_S - 2)], { timeoutMs: 60_000 })
      assert.equal(r.code, 0, r.stderr)
      await waitForExit(child, 15_000)
      assert.equal(await decodeErrors(out, { timeoutMs: 30_000 }), '')
      const c = await packets(out)
      assert.ok(c.video > (CLIP_S - 4) * 25, `video ${c.video}`)
      assert.ok(c.duration > CLIP_S - 4, `duration ${c.duration}`)
    })
  })
})
