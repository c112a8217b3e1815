/**
 * The browser live view end to end through MSE: rtspkit's server pulls the GStreamer RTSP
 * server (or loops the sample clip), its HTTP side serves the player, and Chromium plays it
 * over a WebSocket. Chromium's own counters say what it decoded. (The player's choice of
 * WebRTC, the live .mp4, reconnects and H.265: browser-player.test.ts.)
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test, type TestContext } from 'node:test'
import { runProcess } from '../helpers/cli.js'
import { openFileSource } from '../../src/input/file-source.js'
import { PLAYER_STATS, useLiveBench, waitFor, type Played } from '../helpers/browser-live.js'

/** The README's screenshot: rewritten only with UPDATE_SCREENSHOT=1 (else into the temp folder). */
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1' ? new URL('../../assets/player.png', import.meta.url).pathname : join(tmpdir(), `rtspkit-player-${process.pid}.png`)

describe('browser live view (MSE)', { timeout: 180_000 }, () => {
  const live = useLiveBench()

  async function playMse(path: string, expect: { width: number; height: number; screenshot?: boolean }, t?: TestContext): Promise<Played> {
    const page = await live.browser.newPage()
    try {
      await page.goto(`${live.origin}/${path}/?transports=mse`)
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
    await live.pull('gst', '/h264aac')
    const s = await playMse('gst', { width: 640, height: 480, screenshot: true }, t)
    assert.ok(s.audioBytes > 0, 'AAC decoded')
  })

  test('G.711 (PCMA) audio is heard through MSE (as FLAC)', async (t) => {
    await live.pull('pcma', '/pcma')
    const s = await playMse('pcma', { width: 640, height: 480 }, t)
    assert.ok(s.audioBytes > 0, 'G.711 decoded')
  })

  test('Opus audio through MSE', async (t) => {
    await live.pull('opus', '/opus')
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
    const pub = live.rtsp.publish('switch', [{ type: 'video', codec: 'H264', details: clips[0]!.details }])
    let n = 0
    const timer = setInterval(() => {
      // 3 s of the small clip, then the large one, each key frame with its own SPS/PPS in-band.
      const clip = n < 90 ? clips[0]! : clips[1]!
      const f = clip.frames[n % clip.frames.length]!
      const key = f.keyFrame
      pub.write(0, { pts: n / 30, keyFrame: key, data: key ? [clip.details.sps!, clip.details.pps!, ...f.data] : f.data })
      n++
    }, 1000 / 30)
    const page = await live.browser.newPage()
    try {
      await page.goto(`${live.origin}/switch/?transports=mse`)
      await waitFor(page, PLAYER_STATS, (s) => s.transport === 'mse' && s.width === 320 && s.currentTime > 0.3, 15_000, 'small clip plays')
      const s0 = await waitFor(page, PLAYER_STATS, (s) => s.width === 640 && s.height === 360, 15_000, 'the new size')
      await waitFor(page, PLAYER_STATS, (s) => s.currentTime > s0.currentTime + 1, 10_000, 'keeps playing after the change')
    } finally {
      clearInterval(timer)
      pub.close()
      await page.close()
    }
  })

})
