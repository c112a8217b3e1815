// H.265 and Motion JPEG against GStreamer's RTSP server (x265enc ! rtph265pay, jpegenc !
// rtpjpegpay): probe details, and pulls to MP4 / raw H.265 / MJPEG judged by ffprobe and ffmpeg.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { runCli } from '../helpers/cli.js'

type Server = Awaited<ReturnType<typeof startGstServer>>

// Small pictures: x265 is CPU heavy and the test machines have 2 cores.
const SRC = 'videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=30/1'
const MOUNTS = {
  h265: `${SRC} ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph265pay name=pay0 pt=96`,
  mjpeg: `${SRC} ! jpegenc quality=60 ! rtpjpegpay name=pay0`,
}

let dir: string
let server: Server
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-codecs-video-'))
  server = await startGstServer({ extra: MOUNTS })
})
after(async () => {
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** Video packets ffprobe counts in a file, and the file's one video stream. */
async function videoOf(file: string) {
  const probe = await ffprobeFile(file)
  const v = probe.streams.find((s) => s.codec_type === 'video')
  assert.ok(v, `no video stream in ${file}`)
  return { stream: v, packets: Number(v.nb_read_packets ?? 0) }
}

/** duration × 30 fps, less up to one GOP (1 s) waiting for the first key frame, within 10 %. */
function assertFrameCount(packets: number, seconds: number, gop: number) {
  const max = seconds * 30 * 1.1
  const min = (seconds - gop) * 30 * 0.9
  assert.ok(packets >= min && packets <= max, `video packets ${packets}, expected ${min.toFixed(0)}–${max.toFixed(0)}`)
}

describe('H.265 (x265enc ! rtph265pay)', () => {
  it('probe --json reports H265 320x240 with profile, tier and level', async () => {
    const r = await runCli(['probe', server.url('/h265'), '--json', '--transport', 'tcp'], { timeoutMs: 20_000 })
    assert.equal(r.code, 0, r.stderr)
    const v = JSON.parse(r.stdout).tracks[0]
    assert.deepEqual(
      { codec: v.codec, clockRate: v.clockRate, width: v.width, height: v.height, profile: v.profile, tier: v.tier },
      { codec: 'H265', clockRate: 90000, width: 320, height: 240, profile: 'Main', tier: 'Main' },
    )
    assert.match(v.level, /^\d\.\d$/)
    assert.match(v.codecString, /^hvc1\.1\.6\.L\d+/)
  })

  for (const [transport, ext] of [
    ['tcp', 'mp4'],
    ['udp', 'h265'],
    ['tcp', 'ts'],
  ] as const) {
    it(`pull over ${transport} to .${ext}: hevc, decodes cleanly, frame count ≈ duration × 30`, async () => {
      const file = path.join(dir, `h265-${transport}.${ext}`)
      const r = await runCli(['pull', server.url('/h265'), '-o', file, '--duration', '3', '--transport', transport], { timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      const { stream, packets } = await videoOf(file)
      assert.equal(stream.codec_name, 'hevc')
      assert.deepEqual([stream.width, stream.height], [320, 240])
      assertFrameCount(packets, 3, 1)
      assert.equal(await decodeErrors(file), '')
    })
  }
})

describe('Motion JPEG (jpegenc ! rtpjpegpay)', () => {
  it('probe --json reports JPEG 320x240 from the RTP/JPEG header', async () => {
    const r = await runCli(['probe', server.url('/mjpeg'), '--json', '--transport', 'udp'], { timeoutMs: 20_000 })
    assert.equal(r.code, 0, r.stderr)
    const v = JSON.parse(r.stdout).tracks[0]
    assert.deepEqual({ codec: v.codec, clockRate: v.clockRate, payloadType: v.payloadType, width: v.width, height: v.height }, {
      codec: 'JPEG',
      clockRate: 90000,
      payloadType: 26,
      width: 320,
      height: 240,
    })
  })

  for (const transport of ['tcp', 'udp'] as const) {
    it(`pull over ${transport} to .mjpeg: mjpeg, decodes cleanly, frame count ≈ duration × 30`, async () => {
      const file = path.join(dir, `mjpeg-${transport}.mjpeg`)
      const r = await runCli(['pull', server.url('/mjpeg'), '-o', file, '--duration', '2', '--transport', transport], { timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      const { stream, packets } = await videoOf(file)
      assert.equal(stream.codec_name, 'mjpeg')
      assert.deepEqual([stream.width, stream.height], [320, 240])
      assertFrameCount(packets, 2, 0)
      assert.equal(await decodeErrors(file), '')
    })
  }
})
