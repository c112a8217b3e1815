/**
 * The browser live view's test bench, shared by browser-mse.test.ts and browser-player.test.ts
 * (two files so that each stays well inside the per-file time limit on a loaded machine):
 * GStreamer's RTSP server and Chromium, rtspkit's server looping the sample clip and pulling
 * GStreamer, its HTTP side mounted on an http server of the test's own beside a page of its own.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { RtspServer } from '../../src/server/index.js'
import { launchChromium } from './chromium.js'
import { startGstServer, type GstServer } from './gst-server.js'

export const SAMPLE = new URL('../../assets/sample.mp4', import.meta.url).pathname

// One NAL per frame (sliced-threads=false): what cameras send.
export const VIDEO =
  'videotestsrc is-live=true ! video/x-raw,width=640,height=480,framerate=30/1 ' +
  '! x264enc tune=zerolatency speed-preset=ultrafast bitrate=1000 key-int-max=30 sliced-threads=false ! rtph264pay name=pay0 pt=96'
export const PCMA = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay1 pt=8'
export const OPUS = 'audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc ! rtpopuspay name=pay1 pt=97'
export const H265 =
  'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=15/1 ' +
  '! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph265pay name=pay0 pt=96'

/** A test page on the same origin as the HTTP side (to play `<video src=".mp4">`). */
export const MP4_PAGE = (src: string) =>
  `<!doctype html><video id="v" src="${src}" muted autoplay playsinline></video>`

/**
 * `decoded` is Chromium's totalVideoFrames: the frames its decoder produced (its pipeline's
 * decoded-frame count). Frames it then did not show for lateness (droppedVideoFrames) were
 * decoded all the same; how many a loaded machine drops is a matter of speed, not of the stream.
 */
export interface Played {
  transport: string | undefined
  currentTime: number
  width: number
  height: number
  decoded: number
  received: number
  audioBytes: number
  error: string | undefined
}

export const PLAYER_STATS = `(() => {
  const el = document.querySelector('rtspkit-player')
  const v = el.video
  const q = v.getVideoPlaybackQuality()
  return { transport: el.transport, currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
    decoded: q.totalVideoFrames, received: el.videoFramesReceived,
    audioBytes: v.webkitAudioDecodedByteCount ?? 0, error: el.error }
})()`

/** Over WebRTC: the peer connection's own counters of the video it received and decoded. */
export const WEBRTC_STATS = `(async () => {
  const pc = document.querySelector('rtspkit-player')._pc
  const out = { received: 0, decoded: 0 }
  if (pc) for (const r of (await pc.getStats()).values()) {
    if (r.type === 'inbound-rtp' && r.kind === 'video') { out.received = r.framesReceived ?? 0; out.decoded = r.framesDecoded ?? 0 }
  }
  return out
})()`

export const VIDEO_STATS = `(() => {
  const v = document.getElementById('v')
  const q = v.getVideoPlaybackQuality()
  return { transport: 'mp4', currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight,
    decoded: q.totalVideoFrames, received: 0, audioBytes: v.webkitAudioDecodedByteCount ?? 0, error: v.error?.message }
})()`

export /** Poll the page until `ok` holds; fails with the last reading. */
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

export interface LiveBench {
  gst: GstServer
  browser: Browser
  rtsp: RtspServer
  origin: string
  /** Pull a GStreamer mount into a path of rtspkit's server. */
  pull(path: string, mount: string): Promise<void>
  close(): Promise<void>
}

export async function startLiveBench(): Promise<LiveBench> {
  const [gst, browser] = await Promise.all([
    startGstServer({ extra: { pcma: `${VIDEO} ${PCMA}`, opus: `${VIDEO} ${OPUS}`, h265: H265 } }),
    launchChromium(),
  ])
  const rtsp = new RtspServer({ port: 0 })
  await rtsp.addFile('file', SAMPLE)
  await rtsp.listen()
  // Mounted on an http server of the test's own, beside a page of its own.
  const handler = rtsp.httpHandler()
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const m = /^\/test-mp4\/(.+)$/.exec(req.url ?? '')
    if (m !== null) {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      return res.end(MP4_PAGE(`/${m[1]}.mp4`))
    }
    handler(req, res)
  })
  http.on('upgrade', rtsp.upgradeHandler())
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    gst,
    browser,
    rtsp,
    origin,
    pull: async (path, mount) => {
      await rtsp.addPull(path, gst.url(mount), { transport: 'tcp' })
    },
    close: async () => {
      http.closeAllConnections()
      await Promise.all([new Promise((r) => http.close(r)), rtsp.close(), gst.stop(), browser.close()])
    },
  }
}

/**
 * The bench of one describe() block: started in its before() (then `setup`, say the pulls every
 * test of the file plays), closed in its after(). Read its fields inside the tests, once
 * before() has run.
 */
export function useLiveBench(setup?: (bench: LiveBench) => Promise<unknown>): LiveBench {
  let bench: LiveBench | undefined
  before(async () => {
    bench = await startLiveBench()
    await setup?.(bench)
  })
  after(async () => {
    await bench?.close()
  })
  const started = (): LiveBench => {
    if (bench === undefined) throw new Error('the live bench is read before its before() hook ran: read it inside a test')
    return bench
  }
  return {
    get gst() { return started().gst },
    get browser() { return started().browser },
    get rtsp() { return started().rtsp },
    get origin() { return started().origin },
    pull: (path, mount) => started().pull(path, mount),
    close: () => started().close(),
  }
}

export type { Page }
