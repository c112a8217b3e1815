/**
 * WHEP with a real browser: Chromium (playwright-core) POSTs an offer to handleWhep, plays
 * the answer's stream into <video>, and its own counters say what it decoded. Sources: the
 * GStreamer RTSP server (H.264 + Opus, H.264 + PCMA, H.264 + AAC) and an MP4 file served
 * by our RtspServer, each pulled into a LiveMedia as the HTTP side does.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { handleWhep, type WhepRouteOptions } from '../../src/http/whep-route.js'
import { RtspServer } from '../../src/server/index.js'
import { WhepRegistry } from '../../src/webrtc/whep-registry.js'
import { launchChromium } from '../helpers/chromium.js'
import { startGstServer, type GstServer } from '../helpers/gst-server.js'
import { closeReason } from '../helpers/whep.js'
import { pullLiveMedia, startPageServer, WHEP_PAGE, type PulledMedia } from './webrtc-live.js'

const VIDEO =
  'videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=30 ! rtph264pay name=pay0 pt=96'
const OPUS = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc ! rtpopuspay name=pay1 pt=97'
const PCMA = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8'
const AAC = 'audiotestsrc is-live=true ! audioconvert ! avenc_aac ! rtpmp4gpay name=pay1 pt=97'

interface PageStats {
  currentTime: number
  width: number
  height: number
  state: string
  framesDecoded?: number
  framesReceived?: number
  audioSamples?: number
  audioPackets?: number
}

/** Poll the page's stats until `ok` holds (each poll is one getStats call); fails with the last stats after `ms`. */
async function waitStats(page: Page, ok: (s: PageStats) => boolean, ms: number, what: string): Promise<PageStats> {
  const deadline = Date.now() + ms
  let s: PageStats = await page.evaluate('window.stats()')
  while (!ok(s)) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms; last stats ${JSON.stringify(s)}`)
    await new Promise((r) => setTimeout(r, 200))
    s = await page.evaluate('window.stats()')
  }
  return s
}

describe('WHEP into Chromium', { timeout: 120_000 }, () => {
  let gst: GstServer
  let browser: Browser
  let dir: string
  before(async () => {
    ;[gst, browser, dir] = await Promise.all([
      startGstServer({ extra: { opus: `${VIDEO} ${OPUS}`, pcma: `${VIDEO} ${PCMA}`, aac: `${VIDEO} ${AAC}` } }),
      launchChromium(),
      mkdtemp(join(tmpdir(), 'rtspkit-whep-')),
    ])
  })
  after(async () => {
    await Promise.all([gst?.stop(), browser?.close(), dir && rm(dir, { recursive: true, force: true })])
  })

  /** The WHEP test page for `media` open in a new tab; close() ends its sessions, the tab and the page server. */
  async function openWhepPage(media: PulledMedia, session?: WhepRouteOptions['session']): Promise<{ registry: WhepRegistry; page: Page; close(): Promise<void> }> {
    const registry = new WhepRegistry()
    const server = await startPageServer(WHEP_PAGE, (req, res) => handleWhep(req, res, media, { resourceBase: '/cam/whep', registry, addresses: ['127.0.0.1'], session }))
    const page = await browser.newPage()
    const close = async (): Promise<void> => {
      registry.closeAll()
      await page.close()
      await server.close()
    }
    await page.goto(server.origin).catch(async (err: unknown) => {
      await close()
      throw err
    })
    return { registry, page, close }
  }

  /** No WHEP session left in the registry, no viewer left on the media. */
  function assertReleased(registry: WhepRegistry, media: PulledMedia): void {
    assert.equal(registry.size, 0)
    assert.equal(media.viewers(), 0)
  }

  async function play(media: PulledMedia, expect: { width: number; height: number; audio: boolean; note?: RegExp }): Promise<void> {
    const { registry, page, close } = await openWhepPage(media)
    try {
      const r = (await page.evaluate(`window.start('/cam/whep')`)) as { location: string; note: string | null; answer: string }
      assert.match(r.location, /\/cam\/whep\/[\w-]+$/)
      // Frames rendered as soon as decoded: playout-delay 0/0 negotiated.
      assert.match(r.answer, /^a=extmap:\d+ http:\/\/www\.webrtc\.org\/experiments\/rtp-hdrext\/playout-delay\r?$/m)
      if (expect.note) assert.match(r.note ?? '', expect.note)
      else assert.equal(r.note, null)
      assert.equal(registry.size, 1)
      const session = registry.list()[0]!
      // Connected: count frames the source delivers from now on, against those the browser decodes.
      const first = await waitStats(page, (s) => (s.framesDecoded ?? 0) > 0 && s.currentTime > 0, 10_000, 'first decoded frame')
      const videoIndex = media.tracks().find((t) => t.type === 'video')!.index
      const sentBefore = media.received[videoIndex]!
      const decodedBefore = first.framesDecoded ?? 0
      const s = await waitStats(page, (x) => x.currentTime > first.currentTime + 2 && (!expect.audio || (x.audioSamples ?? 0) > 0), 10_000, 'playback')
      const sent = media.received[videoIndex]! - sentBefore
      assert.equal(s.width, expect.width)
      assert.equal(s.height, expect.height)
      assert.ok(sent > 30, `sent ${sent}`)
      // Frames still on their way (network, jitter buffer, decoder) when `sent` was read are
      // decoded a little later, more so on a busy machine: wait for them, not for a fixed time.
      await waitStats(page, (x) => (x.framesDecoded ?? 0) - decodedBefore >= 0.9 * sent, 5_000, `decoding ≥ 90 % of the ${sent} frames sent`)
      if (expect.audio) assert.ok((s.audioSamples ?? 0) > 0, `audio samples ${JSON.stringify(s)}`)
      else assert.ok(!s.audioPackets, `no audio expected: ${JSON.stringify(s)}`)
      assert.equal(session.stats.overflows, 0)

      // DELETE ends the session: the viewer is unsubscribed and the registry forgets it.
      assert.equal(await page.evaluate('window.stop()'), 200)
      assert.equal(session.state, 'closed')
      assertReleased(registry, media)
    } finally {
      await close()
    }
  }

  const cases: Array<[name: string, mount: string, audio: boolean, note?: RegExp]> = [
    ['H.264 + Opus from gst-rtsp-server', '/opus', true],
    ['H.264 + PCMA from gst-rtsp-server', '/pcma', true],
    ['H.264 + AAC: video only, with a note saying why', '/aac', false, /AAC audio cannot go over WebRTC/],
  ]
  for (const [name, mount, audio, note] of cases) {
    test(name, async () => {
      const media = await pullLiveMedia(gst.url(mount))
      try {
        await play(media, { width: 640, height: 480, audio, note })
      } finally {
        await media.close()
      }
    })
  }

  test('a viewer that closes its tab without DELETE is released', async () => {
    const media = await pullLiveMedia(gst.url('/opus'))
    const { registry, page, close } = await openWhepPage(media, { rtcpTimeoutMs: 3000 })
    try {
      await page.evaluate(`window.start('/cam/whep')`)
      await waitStats(page, (s) => (s.framesDecoded ?? 0) > 0, 10_000, 'first decoded frame')
      const session = registry.list()[0]!
      const closed = closeReason(session)
      const t0 = Date.now()
      await page.close()
      const reason = await closed
      assert.ok(Date.now() - t0 < 6000, `released after ${Date.now() - t0} ms (${reason})`)
      assertReleased(registry, media)
    } finally {
      await close()
      await media.close()
    }
  })

  test('H.264 + Opus from an MP4 file served by RtspServer', async () => {
    const file = join(dir, 'clip.mp4')
    execFileSync('ffmpeg', [
      '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=480x270:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '4', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0', '-c:a', 'libopus', '-b:a', '64k', file,
    ])
    const server = new RtspServer({ host: '127.0.0.1', port: 0 })
    await server.listen()
    await server.addFile('clip', file, { loop: true })
    const media = await pullLiveMedia(server.url('clip'))
    try {
      await play(media, { width: 480, height: 270, audio: true })
    } finally {
      await media.close()
      await server.close()
    }
  })
})
