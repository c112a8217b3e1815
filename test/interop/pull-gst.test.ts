// rtspkit against GStreamer's RTSP server (a real third-party peer): probe and pull over
// TCP and UDP, with and without Digest auth; recordings are judged by ffprobe and ffmpeg.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { CLI_PATH, killChild, runCli, runProcess, spawnCli, waitForExit } from '../helpers/cli.js'
import { RtspClient } from '../../src/index.js'
import type { Frame } from '../../src/index.js'

type Server = Awaited<ReturnType<typeof startGstServer>>

let dir: string
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-pull-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

function packets(probe: Awaited<ReturnType<typeof ffprobeFile>>, type: string): number {
  const s = probe.streams.find((x) => x.codec_type === type)
  return Number(s?.nb_read_packets ?? 0)
}

describe('GStreamer server, no auth', () => {
  let server: Server
  before(async () => {
    server = await startGstServer()
  })
  after(async () => {
    await server?.stop()
  })

  for (const transport of ['tcp', 'udp'] as const) {
    it(`probe --json over ${transport} reports H.264 640x480 and AAC 48 kHz stereo`, async () => {
      const r = await runCli(['probe', server.url('/h264aac'), '--json', '--transport', transport], { timeoutMs: 20_000 })
      assert.equal(r.code, 0, r.stderr)
      const j = JSON.parse(r.stdout)
      assert.equal(j.url, server.url('/h264aac'))
      assert.equal(typeof j.server, 'string')
      const v = j.tracks.find((t: { type: string }) => t.type === 'video')
      const a = j.tracks.find((t: { type: string }) => t.type === 'audio')
      assert.deepEqual(
        { codec: v.codec, clockRate: v.clockRate, payloadType: v.payloadType, width: v.width, height: v.height },
        { codec: 'H264', clockRate: 90000, payloadType: 96, width: 640, height: 480 },
      )
      assert.match(v.profile, /Baseline|Main|High/)
      assert.match(v.level, /^\d(\.\d)?$/)
      assert.match(v.control, /stream=0$/)
      assert.deepEqual({ codec: a.codec, sampleRate: a.sampleRate, channels: a.channels }, { codec: 'AAC', sampleRate: 48000, channels: 2 })
    })
  }

  for (const [transport, ext] of [
    ['tcp', 'mp4'],
    ['udp', 'mp4'],
    ['tcp', 'ts'],
    ['udp', 'ts'],
  ] as const) {
    it(`pull over ${transport} to .${ext}: decodes cleanly, frame count ≈ duration × 30`, async () => {
      const file = path.join(dir, `gst-${transport}.${ext}`)
      const r = await runCli(['pull', server.url('/h264aac'), '-o', file, '--duration', '4', '--transport', transport], { timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      const probe = await ffprobeFile(file)
      const codecs = probe.streams.map((s) => s.codec_name).sort()
      assert.deepEqual(codecs, ['aac', 'h264'])
      const video = packets(probe, 'video')
      // 4 s at 30 fps, less up to one GOP (1 s) waiting for the first key frame.
      assert.ok(video >= 80 && video <= 125, `video packets ${video}`)
      assert.ok(packets(probe, 'audio') > 100, 'audio packets')
      assert.equal(await decodeErrors(file), '')
    })
  }

  it('pull to .h264 (Annex B) and to stdout as MPEG-TS', async () => {
    const file = path.join(dir, 'gst.h264')
    const r = await runCli(['pull', server.url('/h264'), '-o', file, '--duration', '2'], { timeoutMs: 30_000 })
    assert.equal(r.code, 0, r.stderr)
    const p = await ffprobeFile(file)
    assert.equal(p.streams[0]?.codec_name, 'h264')
    assert.equal(await decodeErrors(file), '')

    const out = await runCli(['pull', server.url('/h264aac'), '-o', '-', '--format', 'ts', '--duration', '2'], {
      timeoutMs: 30_000,
    })
    assert.equal(out.code, 0, out.stderr)
    const buf = out.stdoutBytes
    assert.ok(buf.length > 10_000)
    assert.equal(buf[0], 0x47, 'MPEG-TS sync byte')
  })

  it('library: frames() yields H.264 key frames and AAC frames on one timeline; close() releases everything', async () => {
    const client = new RtspClient({ transport: 'tcp' })
    const session = await client.pull(server.url('/h264aac'))
    assert.equal(session.tracks.length, 2)
    const seen: Frame[] = []
    let rtpPackets = 0
    session.on('rtp', () => rtpPackets++)
    for await (const frame of session.frames()) {
      seen.push(frame)
      if (seen.filter((f) => f.track.type === 'video').length >= 45) break
    }
    await session.close()
    assert.equal(session.state, 'closed')
    assert.ok(rtpPackets > 45)
    const video = seen.filter((f) => f.track.type === 'video')
    const audio = seen.filter((f) => f.track.type === 'audio')
    assert.ok(video.some((f) => f.keyFrame))
    assert.ok(audio.length > 20)
    // Presentation times grow and the two tracks share an origin (within half a second).
    for (let i = 1; i < video.length; i++) assert.ok(video[i]!.pts > video[i - 1]!.pts)
    assert.ok(Math.abs(video.at(-1)!.pts - audio.at(-1)!.pts) < 0.5, `video ${video.at(-1)!.pts} audio ${audio.at(-1)!.pts}`)
    const stats = session.stats()
    assert.ok(stats[0]!.packetsReceived > 0 && stats[0]!.packetsLost === 0)
  })
})

describe('GStreamer server: RTCP sender reports', () => {
  it('frames carry a wall-clock capture time once the first SR has arrived', async () => {
    const server = await startGstServer()
    try {
      const session = await new RtspClient({ transport: 'udp' }).pull(server.url('/h264aac'))
      let captured: { track: string; captureTime: number } | undefined
      const t0 = Date.now()
      for await (const f of session.frames()) {
        if (f.captureTime !== undefined) {
          captured = { track: f.track.type, captureTime: f.captureTime }
          break
        }
        if (Date.now() - t0 > 12_000) break
      }
      await session.close()
      assert.ok(captured !== undefined, 'no SR within 12 s')
      assert.ok(Math.abs(captured.captureTime - Date.now()) < 5_000, `capture time ${new Date(captured.captureTime).toISOString()}`)
    } finally {
      await server.stop()
    }
  })
})

describe('GStreamer server: stopping and watching a recording', () => {
  let server: Server
  before(async () => {
    server = await startGstServer()
  })
  after(async () => {
    await server?.stop()
  })

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    it(`${sig} stops pull cleanly: exit 0 and a finalized, playable .mp4`, async () => {
      const file = path.join(dir, `stopped-${sig}.mp4`)
      const child = spawnCli(['pull', server.url('/h264aac'), '-o', file])
      try {
        // Stop once the first fragment (one GOP) is on disk, however slow the machine is today.
        const t0 = Date.now()
        while (((await stat(file).catch(() => undefined))?.size ?? 0) < 20_000) {
          if (Date.now() - t0 > 20_000) throw new Error('the recording never grew')
          await new Promise((r) => setTimeout(r, 100))
        }
        await new Promise((r) => setTimeout(r, 500))
        child.kill(sig)
        const { code } = await waitForExit(child, 10_000)
        assert.equal(code, 0)
      } finally {
        await killChild(child)
      }
      const probe = await ffprobeFile(file)
      assert.ok(packets(probe, 'video') >= 30, `video packets ${packets(probe, 'video')}`)
      assert.equal(await decodeErrors(file), '')
    })
  }

  it('a live status line on a terminal (elapsed, frames, bitrate)', async () => {
    const file = path.join(dir, 'tty.mp4')
    // script(1) gives the child a pseudo-terminal, as a user's shell would.
    const cmd = `${process.execPath} ${CLI_PATH} pull ${server.url('/h264aac')} -o ${file} --duration 2`
    const r = await runProcess('script', ['-qfec', cmd, '/dev/null'], { timeoutMs: 20_000 })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /recording \d+\.\d s, \d+ frames, .*(kbit|Mbit)\/s/)
  })

  it('library over UDP: close() releases the UDP ports, sockets and timers', async () => {
    const count = () => process.getActiveResourcesInfo().filter((t) => /UDP|TCP|Timeout/.test(t)).length
    const before = count()
    const session = await new RtspClient({ transport: 'udp' }).pull(server.url('/h264aac'))
    assert.ok(process.getActiveResourcesInfo().some((t) => /UDP/.test(t)))
    let n = 0
    for await (const _ of session.frames()) if (++n >= 20) break
    await session.close()
    await new Promise((r) => setTimeout(r, 50))
    assert.ok(count() <= before, `${count()} handles now, ${before} before`)
  })
})

describe('GStreamer server with Digest auth', () => {
  let server: Server
  before(async () => {
    server = await startGstServer({ user: 'admin', password: 's3cr&t pass' })
  })
  after(async () => {
    await server?.stop()
  })

  it('probe with the right credentials (percent-encoded in the URL) works', async () => {
    const r = await runCli(['probe', server.url('/h264aac', true), '--json'], { timeoutMs: 20_000 })
    assert.equal(r.code, 0, r.stderr)
    const j = JSON.parse(r.stdout)
    assert.equal(j.tracks.length, 2)
    assert.ok(!r.stdout.includes('s3cr'), 'no password in output')
  })

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pull with Digest over ${transport} to .mp4 decodes`, async () => {
      const file = path.join(dir, `auth-${transport}.mp4`)
      const r = await runCli(['pull', server.url('/h264aac', true), '-o', file, '--duration', '2', '--transport', transport], {
        timeoutMs: 30_000,
      })
      assert.equal(r.code, 0, r.stderr)
      assert.equal(await decodeErrors(file), '')
    })
  }

  it('a wrong password gives one clear line and no password', async () => {
    const url = server.url('/h264aac', false).replace('rtsp://', 'rtsp://admin:wrongpassword@')
    const r = await runCli(['probe', url], { timeoutMs: 20_000 })
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^rtspkit: 401 .*wrong user or password/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.ok(!r.stderr.includes('wrongpassword'))
  })

  it('no credentials: says the server needs them', async () => {
    const r = await runCli(['probe', server.url('/h264aac', false)], { timeoutMs: 20_000 })
    assert.notEqual(r.code, 0)
    assert.match(r.stderr, /^rtspkit: 401 .*needs a user and password/)
  })
})
