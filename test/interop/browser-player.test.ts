/**
 * The browser player beyond MSE: it picks WebRTC (WHEP) when the codecs allow, the live
 * `.mp4` plays in a bare <video src>, the player reconnects when the source comes back, and
 * names a codec Chromium cannot decode. Chromium's own counters say what it decoded.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runProcess } from '../helpers/cli.js'
import { openFileSource } from '../../src/input/file-source.js'
import { PLAYER_STATS, SAMPLE, VIDEO_STATS, WEBRTC_STATS, useLiveBench, waitFor } from '../helpers/browser-live.js'

describe('browser player: WebRTC, live .mp4, reconnects, H.265', { timeout: 180_000 }, () => {
  const live = useLiveBench((bench) => Promise.all([bench.pull('gst', '/h264aac'), bench.pull('pcma', '/pcma')]))

  test('the default order plays H.264 + G.711 through WebRTC (WHEP); H.264 + AAC through MSE, for the sound', async () => {
    const page = await live.browser.newPage()
    try {
      await page.goto(`${live.origin}/gst/`)
      await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.currentTime > 0.3, 15_000, 'AAC path on MSE')
      await page.goto(`${live.origin}/pcma/`)
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.transport === 'webrtc' && s.currentTime > 0.3 && s.width > 0, 15_000, 'WebRTC starts')
      const r0 = (await page.evaluate(WEBRTC_STATS)) as { received: number; decoded: number }
      const s = await waitFor(page, PLAYER_STATS, (x) => x.currentTime > s0.currentTime + 2, 10_000, 'WebRTC keeps playing')
      const r = (await page.evaluate(WEBRTC_STATS)) as { received: number; decoded: number }
      assert.equal(s.width, 640)
      assert.equal(s.height, 480)
      // What Chromium received it decoded (how many frames a loaded machine lets it receive
      // in 2 s is a matter of speed, not of correctness).
      const received = r.received - r0.received
      let decoded = r.decoded - r0.decoded
      // Chromium counts a frame received on arrival and decoded once its decoder is done: under
      // load some of those received are still queued at the reading (a stress run: 52 of 64).
      // Those frames must be decoded after it; wait for them, up to 10 s, then compare.
      for (const until = Date.now() + 10_000; decoded < 0.9 * received - 5 && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        decoded = ((await page.evaluate(WEBRTC_STATS)) as { decoded: number }).decoded - r0.decoded
      }
      assert.ok(received > 0 && decoded >= 0.9 * received - 5, `decoded ${decoded} of ${received} frames received`)
    } finally {
      await page.close()
    }
  })

  test('the live .mp4 in <video src>: the sample clip and GStreamer', async () => {
    for (const [path, w, h] of [['file', 320, 240], ['gst', 640, 480]] as const) {
      const page = await live.browser.newPage()
      try {
        await page.goto(`${live.origin}/test-mp4/${path}`)
        const s0 = await waitFor(page, VIDEO_STATS, (s) => s.currentTime > 0.5 && s.width > 0, 15_000, `${path}.mp4 starts`)
        const s = await waitFor(page, VIDEO_STATS, (x) => x.currentTime > s0.currentTime + 2, 10_000, `${path}.mp4 keeps playing`)
        assert.equal(s.width, w)
        assert.equal(s.height, h)
        // Frames decoded while 2 s played (a rate would measure the machine's speed, not the file).
        assert.ok(s.decoded > s0.decoded, `decoded ${s0.decoded} then ${s.decoded}`)
        assert.ok(s.audioBytes > 0, 'audio decoded')
      } finally {
        await page.close()
      }
    }
  })

  test('the player reconnects when the source goes away and comes back', async () => {
    const src = await openFileSource(SAMPLE)
    const frames = [...src.cachedFrames!()!].filter((f) => f.trackIndex === 0)
    const details = src.tracks[0]!.details
    await src.close()
    const start = () => {
      const pub = live.rtsp.publish('flap', [{ type: 'video', codec: 'H264', details }])
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
    const page = await live.browser.newPage()
    try {
      await page.goto(`${live.origin}/flap/?transports=mse`)
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
    await live.pull('hevc', '/h265')
    const page = await live.browser.newPage()
    try {
      await page.goto(`${live.origin}/hevc/`)
      const s = await waitFor(page, PLAYER_STATS, (x) => x.error !== undefined && x.error !== null, 20_000, 'the message')
      assert.match(s.error!, /H\.265 \(HEVC\)/)
      assert.match(s.error!, /cannot decode/)
      assert.match(s.error!, /snapshot|\.mp4/)
      // The fallback works: ffmpeg decodes the live H.265 .mp4 without a message.
      const dec = await runProcess('ffmpeg', ['-v', 'error', '-t', '2', '-i', `${live.origin}/hevc.mp4`, '-f', 'null', '-'], { timeoutMs: 15_000 })
      assert.equal(dec.code, 0)
      assert.equal(dec.stderr.trim(), '')
      const links = await page.evaluate(`[...document.querySelector('rtspkit-player').shadowRoot.querySelectorAll('.msg a')].map((a) => a.getAttribute('href'))`)
      assert.ok((links as string[]).some((h) => h.endsWith('/hevc.mp4')))
    } finally {
      await page.close()
    }
  })
})
