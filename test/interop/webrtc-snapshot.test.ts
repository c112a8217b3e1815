/**
 * handleSnapshot against real sources: an H.264 key frame from gst-rtsp-server decoded by
 * ffmpeg, an MJPEG source's JPEG as is; each checked by ffprobe (decodes, has the source's
 * size). Without ffmpeg: 501 that says to install it; no source yet: 503.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { writeFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, test } from 'node:test'
import type { LiveMedia } from '../../src/http/live-media.js'
import { handleSnapshot, type SnapshotOptions } from '../../src/http/snapshot.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'
import { pullLiveMedia, startPageServer } from './webrtc-live.js'

const run = promisify(execFile)

const H264 =
  'videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=30 ! rtph264pay name=pay0 pt=96'
const H265 =
  'videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ' +
  '! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph265pay name=pay0 pt=96'
// format=I420: without it gst-rtsp-server 1.22 never answers DESCRIBE for this mount (jpegenc caps negotiation).
const MJPEG = 'videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! jpegenc ! rtpjpegpay name=pay0'

async function get(media: LiveMedia, options: SnapshotOptions = {}, method = 'GET'): Promise<{ status: number; type: string; body: Buffer }> {
  const server = await startPageServer('', (req, res) => handleSnapshot(req, res, media, options))
  try {
    const res = await fetch(`${server.origin}/cam.jpg`, { method })
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: Buffer.from(await res.arrayBuffer()) }
  } finally {
    await server.close()
  }
}

describe('snapshot', { timeout: 60_000 }, () => {
  let gst: GstServer
  let dir: string
  before(async () => {
    ;[gst, dir] = await Promise.all([startGstServer({ extra: { h264: H264, h265: H265, mjpeg: MJPEG } }), mkdtemp(join(tmpdir(), 'rtspkit-snap-'))])
  })
  after(async () => {
    await Promise.all([gst?.stop(), dir && rm(dir, { recursive: true, force: true })])
  })

  async function probe(jpeg: Buffer): Promise<{ codec: string; width: number; height: number }> {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.jpg`)
    await writeFile(file, jpeg)
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file])
    const s = JSON.parse(stdout).streams[0]
    await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'])
    return { codec: s.codec_name, width: s.width, height: s.height }
  }

  test('H.264: the latest key frame decoded by ffmpeg, cached per key frame', async () => {
    const media = await pullLiveMedia(gst.url('/h264'))
    try {
      const a = await get(media)
      assert.equal(a.status, 200, a.body.toString())
      assert.equal(a.type, 'image/jpeg')
      assert.deepEqual(await probe(a.body), { codec: 'mjpeg', width: 640, height: 480 })
      const head = await get(media, {}, 'HEAD')
      assert.equal(head.status, 200)
      assert.equal(head.body.length, 0)
      assert.equal(media.viewers(), 0, 'the snapshot unsubscribed')
    } finally {
      await media.close()
    }
  })

  test('H.265: VPS/SPS/PPS in front of the key frame, decoded by ffmpeg', async () => {
    const media = await pullLiveMedia(gst.url('/h265'))
    try {
      assert.equal(media.tracks()[0]!.codec, 'H265')
      const a = await get(media)
      assert.equal(a.status, 200, a.body.toString())
      assert.deepEqual(await probe(a.body), { codec: 'mjpeg', width: 320, height: 240 })
    } finally {
      await media.close()
    }
  })

  test('MJPEG: the JPEG as is', async () => {
    const media = await pullLiveMedia(gst.url('/mjpeg'))
    try {
      assert.equal(media.tracks()[0]!.codec, 'JPEG')
      // Without ffmpeg too: a JPEG source needs no decoder.
      const a = await get(media, { ffmpegPath: '/nonexistent/ffmpeg' })
      assert.equal(a.status, 200, a.body.toString())
      assert.deepEqual(await probe(a.body), { codec: 'mjpeg', width: 320, height: 240 })
    } finally {
      await media.close()
    }
  })

  test('without ffmpeg: 501 saying to install it', async () => {
    const media = await pullLiveMedia(gst.url('/h264'))
    try {
      const a = await get(media, { ffmpegPath: '/nonexistent/ffmpeg' })
      assert.equal(a.status, 501)
      assert.match(a.body.toString(), /install .*ffmpeg|ffmpeg.*install/)
    } finally {
      await media.close()
    }
  })

  test('no source yet: 503; POST: 405', async () => {
    const idle: LiveMedia = { path: 'idle', tracks: () => [], subscribe: () => () => {} }
    const a = await get(idle, { keyFrameTimeoutMs: 300 })
    assert.equal(a.status, 503)
    assert.match(a.body.toString(), /no source yet/)
    const b = await get(idle, { keyFrameTimeoutMs: 300 }, 'POST')
    assert.equal(b.status, 405)
  })
})
