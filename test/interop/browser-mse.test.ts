/**
 * The browser live view end to end: rtspkit's server pulls the GStreamer RTSP server (or loops
 * the sample clip), its HTTP side serves the player, and Chromium plays it through MSE over a
 * WebSocket and through the live `.mp4`. Chromium's own counters say what it decoded.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test, type TestContext } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { RtspServer } from '../../src/server/index.js'
import { launchChromium } from '../helpers/chromium.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'
import { runProcess } from '../helpers/cli.js'
import { openFileSource } from '../../src/input/file-source.js'

const SAMPLE = new URL('../../assets/sample.mp4', import.meta.url).pathname
/** The README's screenshot: rewritten only with UPDATE_SCREENSHOT=1 (else into the temp folder). */
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? new URL('../../assets/player.png', import.meta.url).pathname : join(tmpdir(), `rtspkit-player-${process.pid}.png`)

// One NAL per frame (sliced-threads=false): what cameras send.
const VIDEO =
  'videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=30 sliced-threads=false ! rtph264pay name=pay0 pt=96'
const PCMA = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8'
const OPUS = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc ! rtpopuspay name=pay1 pt=97'
const H265 =
  'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 ' +
  '! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph265pay name=pay0 pt=96'

/** A test page on the same origin as the HTTP side (to play `<video src=".mp4">`). */
const MP4_PAGE = (src: string) =>
  `<!doctype html><video id="v" src="${src}" muted autoplay playsinline></video>`

interface Played {
  transport: string | undefined
  currentTime: number
  width: number
  height: number
  decoded: number
  received: number
  audioBytes: number
  error: string | undefined
}

const PLAYER_STATS = `(() => {
  const el = document.querySelector('rtspkit-player')
  const v = el.video
  const q = v.getVideoPlaybackQuality()
  return { transport: el.transport, currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
    decoded: q.totalVideoFrames - q.droppedVideoFrames, received: el.videoFramesReceived,
    audioBytes: v.webkitAudioDecodedByteCount ?? 0, error: el.error }
})()`

const VIDEO_STATS = `(() => {
  const v = document.getElementById('v')
  const q = v.getVideoPlaybackQuality()
  return { transport: 'mp4', currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
    decoded: q.totalVideoFrames - q.droppedVideoFrames, received: 0, audioBytes: v.webkitAudioDecodedByteCount ?? 0, error: v.error?.message }
})()`

/** Poll the page until `ok` holds; fails with the last reading. */
async function waitFor(page: Page, expr: string, ok: (s: Played) => boolean, ms: number, what: string): Promise<Played> {
  const deadline = Date.now() + ms
  let s = (await page.evaluate(expr)) as Played
  while (!ok(s)) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms; last ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 200))
    s = (await page.evaluate(expr)) as Played
  }
  return s
}

describe('browser live view (MSE, .mp4)', { timeout: 180_000 }, () => {
  let gst: GstServer
  let browser: Browser
  let rtsp: RtspServer
  let http: Server
  let origin: string

  before(async () => {
    ;[gst, browser] = await Promise.all([
      startGstServer({ extra: { pcma: `${VIDEO} ${PCMA}`, opus: `${VIDEO} ${OPUS}`, h265: H265 } }),
      launchChromium(),
    ])
    rtsp = new RtspServer({ port: 0 })
    await rtsp.addFile('file', SAMPLE)
    await rtsp.listen()
    // Mounted on an http server of the test's own, beside a page of its own.
    const handler = rtsp.httpHandler()
    http = createServer((req: IncomingMessage, res: ServerResponse) => {
      const m = /^\/test-mp4\/(.+)$/.exec(req.url ?? '')
      if (m !== null) {
        res.writeHead(200, { 'Content-Type': 'text/html' })
        return res.end(MP4_PAGE(`/${m[1]}.mp4`))
      }
      handler(req, res)
    })
    http.on('upgrade', rtsp.upgradeHandler())
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  })

  after(async () => {
    http?.closeAllConnections()
    await Promise.all([new Promise((r) => (http ? http.close(r) : r(undefined))), rtsp?.close(), gst?.stop(), browser?.close()])
  })

  async function pull(path: string, mount: string): Promise<void> {
    await rtsp.addPull(path, gst.url(mount), { transport: 'tcp' })
  }

  async function playMse(path: string, expect: { width: number; height: number; screenshot?: boolean }, t?: TestContext): Promise<Played> {
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/${path}/?transports=mse`)
      // Plays: time advances past 3 s of media, the picture has the source's size.
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.currentTime > 0.5 && s.width > 0, 15_000, `${path} starts`)
      const s = await waitFor(page, PLAYER_STATS, (x) => x.currentTime > s0.currentTime + 3, 10_000, `${path} keeps playing`)
      assert.equal(s.width, expect.width)
      assert.equal(s.height, expect.height)
      // Over 3 s of play (the start skips to the live edge past the cached GOP by design);
      // frames in the buffer ahead of the playhead (≈ 0.3 s) are not decoded yet.
      const decoded = s.decoded - s0.decoded
      const received = s.received - s0.received
      t?.diagnostic(`${path}: decoded ${decoded} of ${received} video frames received while playing; audio ${s.audioBytes} bytes decoded`)
      assert.ok(decoded >= 0.9 * received - 10, `decoded ${decoded} of ${received} video frames received while playing`)
      if (expect.screenshot) {
        await page.setViewportSize({ width: 640, height: 400 })
        await page.evaluate(`document.querySelector('rtspkit-player').setAttribute('stats', '')`)
        await new Promise((r) => setTimeout(r, 600)) // the stats overlay refreshes every 500 ms
        await page.screenshot({ path: SCREENSHOT, type: 'png' })
        if (process.env.UPDATE_SCREENSHOT !== '1') await rm(SCREENSHOT, { force: true })
      }
      return s
    } finally {
      await page.close()
    }
  }

  test('the sample clip (H.264 + AAC) through MSE: plays, full size, frames decoded, audio decoded', async (t) => {
    const s = await playMse('file', { width: 320, height: 240 }, t)
    assert.ok(s.audioBytes > 0, 'AAC decoded')
  })

  test('GStreamer H.264 + AAC through MSE', async (t) => {
    await pull('gst', '/h264aac')
    const s = await playMse('gst', { width: 640, height: 480, screenshot: true }, t)
    assert.ok(s.audioBytes > 0, 'AAC decoded')
  })

  test('the default order plays H.264 + G.711 through WebRTC (WHEP); H.264 + AAC through MSE, for the sound', async () => {
    await pull('pcma', '/pcma')
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/gst/`)
      await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.currentTime > 0.3, 15_000, 'AAC path on MSE')
      await page.goto(`${origin}/pcma/`)
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.transport === 'webrtc' && s.currentTime > 0.3 && s.width > 0, 15_000, 'WebRTC starts')
      const s = await waitFor(page, PLAYER_STATS, (x) => x.currentTime > s0.currentTime + 2, 10_000, 'WebRTC keeps playing')
      assert.equal(s.width, 640)
      assert.equal(s.height, 480)
      assert.ok(s.decoded >= 0.9 * 30 * (s.currentTime - s0.currentTime) - 10, `decoded ${s.decoded}`)
    } finally {
      await page.close()
    }
  })

  test('the live .mp4 in <video src>: the sample clip and GStreamer', async () => {
    for (const [path, w, h] of [['file', 320, 240], ['gst', 640, 480]] as const) {
      const page = await browser.newPage()
      try {
        await page.goto(`${origin}/test-mp4/${path}`)
        const s0 = await waitFor(page, VIDEO_STATS, (s) => s.currentTime > 0.5 && s.width > 0, 15_000, `${path}.mp4 starts`)
        const s = await waitFor(page, VIDEO_STATS, (x) => x.currentTime > s0.currentTime + 2, 10_000, `${path}.mp4 keeps playing`)
        assert.equal(s.width, w)
        assert.equal(s.height, h)
        assert.ok(s.decoded >= 0.9 * 30 * (s.currentTime - s0.currentTime) - 10, `decoded ${s.decoded}`)
        assert.ok(s.audioBytes > 0, 'audio decoded')
      } finally {
        await page.close()
      }
    }
  })

  test('G.711 (PCMA) audio is heard through MSE (as FLAC)', async (t) => {
    const s = await playMse('pcma', { width: 640, height: 480 }, t)
    assert.ok(s.audioBytes > 0, 'G.711 decoded')
  })

  test('Opus audio through MSE', async (t) => {
    await pull('opus', '/opus')
    const s = await playMse('opus', { width: 640, height: 480 }, t)
    assert.ok(s.audioBytes > 0, 'Opus decoded')
  })

  test('a resolution change mid-stream (new SPS): the player takes the new init segment and shows the new size', async () => {
    // Two clips of different sizes, written one after the other to one API stream.
    const clips = await Promise.all(
      [[320, 240], [640, 360]].map(async ([w, h]) => {
        const file = join(tmpdir(), `rtspkit-res-${process.pid}-${w}.mp4`)
        const r = await runProcess('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${w}x${h}:rate=30`, '-t', '2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-profile:v', 'baseline', '-g', '30', '-bf', '0', '-y', file])
        assert.equal(r.code, 0, r.stderr)
        const src = await openFileSource(file)
        const frames = [...src.cachedFrames!()!]
        const details = src.tracks[0]!.details
        await src.close()
        await rm(file, { force: true })
        return { frames, details }
      }),
    )
    const pub = rtsp.publish('switch', [{ type: 'video', codec: 'H264', details: clips[0]!.details }])
    let n = 0
    const timer = setInterval(() => {
      // 3 s of the small clip, then the large one, each key frame with its own SPS/PPS in-band.
      const clip = n < 90 ? clips[0]! : clips[1]!
      const f = clip.frames[n % clip.frames.length]!
      const key = f.keyFrame
      pub.write(0, { pts: n / 30, keyFrame: key, data: key ? [clip.details.sps!, clip.details.pps!, ...f.data] : f.data })
      n++
    }, 1000 / 30)
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/switch/?transports=mse`)
      await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.width === 320 && s.currentTime > 0.3, 15_000, 'small clip plays')
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.width === 640 && s.height === 360, 15_000, 'the new size')
      await waitFor(page, PLAYER_STATS, (s) => s.currentTime > s0.currentTime + 1, 10_000, 'keeps playing after the change')
    } finally {
      clearInterval(timer)
      pub.close()
      await page.close()
    }
  })

  test('the player reconnects when the source goes away and comes back', async () => {
    const src = await openFileSource(SAMPLE)
    const frames = [...src.cachedFrames!()!].filter((f) => f.trackIndex === 0)
    const details = src.tracks[0]!.details
    await src.close()
    const start = () => {
      const pub = rtsp.publish('flap', [{ type: 'video', codec: 'H264', details }])
      let n = 0
      const timer = setInterval(() => {
        const f = frames[n % frames.length]!
        pub.write(0, { pts: n / 30, keyFrame: f.keyFrame, data: f.data })
        n++
      }, 1000 / 30)
      return () => {
        clearInterval(timer)
        pub.close('the test stopped it')
      }
    }
    let stop = start()
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/flap/?transports=mse`)
      await page.evaluate(`window.playing = 0; document.querySelector('rtspkit-player').addEventListener('rtspkit-playing', () => window.playing++)`)
      await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.currentTime > 0.5, 15_000, 'plays')
      stop()
      await waitFor(page, PLAYER_STATS, (s) => s.transport === undefined, 10_000, 'notices the end')
      stop = start()
      await page.waitForFunction('window.playing >= 1', undefined, { timeout: 15_000 })
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.width === 320, 5_000, 'plays again')
      await waitFor(page, PLAYER_STATS, (s) => s.currentTime > s0.currentTime + 1, 10_000, 'keeps playing after the reconnect')
    } finally {
      stop()
      await page.close()
    }
  })

  test('H.265 in a Chromium without HEVC: the player says so in words, with the fallbacks', async () => {
    await pull('hevc', '/h265')
    const page = await browser.newPage()
    try {
      await page.goto(`${origin}/hevc/`)
      const s = await waitFor(page, PLAYER_STATS, (x) => x.error !== undefined && x.error !== null, 20_000, 'the message')
      assert.match(s.error!, /H\.265 \(HEVC\)/)
      assert.match(s.error!, /cannot decode/)
      assert.match(s.error!, /snapshot|\.mp4/)
      // The fallback works: ffmpeg decodes the live H.265 .mp4 without a message.
      const dec = await runProcess('ffmpeg', ['-v', 'error', '-t', '2', '-i', `${origin}/hevc.mp4`, '-f', 'null', '-'], { timeoutMs: 15_000 })
      assert.equal(dec.code, 0)
      assert.equal(dec.stderr.trim(), '')
      const links = await page.evaluate(`[...document.querySelector('rtspkit-player').shadowRoot.querySelectorAll('.msg a')].map((a) => a.getAttribute('href'))`)
      assert.ok((links as string[]).some((h) => h.endsWith('/hevc.mp4')))
    } finally {
      await page.close()
    }
  })
})
