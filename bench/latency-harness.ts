// @bench-lib
/**
 * The latency harness of bench/latency.ts, also used by test/interop/webrtc-latency.test.ts:
 * a black → white source at known wall-clock times through ffmpeg (x264 zerolatency) into
 * an RtspServer with its HTTP side and into a hand werift relay; Chromium times the first
 * white frame of each path. See bench/latency.ts for the method.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium } from 'playwright-core'
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift'
import { RtspServer } from '../src/server/index.js'
import { sleep } from './lib.js'

const WIDTH = 640
const HEIGHT = 480
const FPS = 30
/** A black → white switch every PERIOD_MS; white for half of it. */
const PERIOD_MS = 1000
const WARMUP_MS = 1500

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-gpu',
]

/** Wall-clock milliseconds with sub-millisecond resolution (the page uses the same clock). */
const wallNow = (): number => performance.timeOrigin + performance.now()

function frame(white: boolean): Buffer {
  // yuv420p: Y plane, then U and V at quarter size (BT.601 limited range: black 16, white 235).
  const y = WIDTH * HEIGHT
  const buf = Buffer.alloc(y * 1.5, 128)
  buf.fill(white ? 235 : 16, 0, y)
  return buf
}

/** The page: three videos, each timed by requestVideoFrameCallback + a canvas read. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>latency</title>
<script type="module" src="/player.js"></script>
<video id="relay" autoplay muted playsinline style="width:320px;height:240px"></video>
<script>
window.events = { webrtc: [], mse: [], relay: [] }
window.frameCounts = { webrtc: 0, mse: 0, relay: 0 }
function watch(name, video) {
  const canvas = document.createElement('canvas')
  canvas.width = 4
  canvas.height = 4
  const ctx = canvas.getContext('2d', { willReadFrequently: true })
  let white = false
  const onFrame = (now, meta) => {
    ctx.drawImage(video, 0, 0, 4, 4)
    const d = ctx.getImageData(0, 0, 4, 4).data
    let sum = 0
    for (let i = 0; i < d.length; i += 4) sum += d[i]
    const isWhite = sum / 16 > 128
    window.frameCounts[name]++
    if (isWhite && !white) window.events[name].push(performance.timeOrigin + (meta.expectedDisplayTime || now))
    white = isWhite
    video.requestVideoFrameCallback(onFrame)
  }
  video.requestVideoFrameCallback(onFrame)
}
window.startRelay = async () => {
  const pc = new RTCPeerConnection()
  pc.addTransceiver('video', { direction: 'recvonly' })
  const v = document.getElementById('relay')
  pc.ontrack = (e) => { v.srcObject = new MediaStream([e.track]) }
  await pc.setLocalDescription(await pc.createOffer())
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000) } })
  const res = await fetch('/relay', { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp })
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() })
  watch('relay', v)
}
window.startPlayers = async (ids) => {
  await customElements.whenDefined('rtspkit-player')
  for (const id of ids) {
    const p = document.createElement('rtspkit-player')
    p.id = id
    p.setAttribute('src', '/live/')
    p.setAttribute('transports', id)
    p.style.cssText = 'width:320px;height:240px'
    document.body.prepend(p)
    watch(id, p.video)
  }
}
window.transports = () => Object.fromEntries([...document.querySelectorAll('rtspkit-player')].map((p) => [p.id, p.transport]))
</script>`

/** ffmpeg → RTP → werift → WebRTC, by hand: one peer connection per POST, packets written as they arrive. */
class HandRelay {
  readonly socket = dgram.createSocket('udp4')
  private readonly tracks = new Set<MediaStreamTrack>()
  private readonly pcs = new Set<RTCPeerConnection>()

  async listen(): Promise<number> {
    this.socket.on('message', (buf) => {
      for (const t of this.tracks) t.writeRtp(buf)
    })
    this.socket.bind(0, '127.0.0.1')
    await once(this.socket, 'listening')
    return this.socket.address().port
  }

  async answer(offer: string): Promise<string> {
    const pc = new RTCPeerConnection({
      codecs: {
        video: [
          new RTCRtpCodecParameters({
            mimeType: 'video/H264',
            clockRate: 90000,
            parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          }),
        ],
      },
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceUseIpv6: false,
    })
    this.pcs.add(pc)
    const track = new MediaStreamTrack({ kind: 'video' })
    pc.addTransceiver(track, { direction: 'sendonly' })
    await pc.setRemoteDescription({ type: 'offer', sdp: offer })
    await pc.setLocalDescription(await pc.createAnswer())
    if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete', 5000)
    this.tracks.add(track)
    return pc.localDescription!.sdp
  }

  async close(): Promise<void> {
    this.socket.close()
    await Promise.all([...this.pcs].map((pc) => pc.close()))
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export type LatencyPath = 'webrtc' | 'mse' | 'relay'

export interface LatencyResult {
  /** Switches to white after the warm-up. */
  switches: number
  /** Per path: latency of each switch seen, ms, sorted. */
  latencies: Record<LatencyPath, number[]>
  /** Per path: latency of switch i (ms), or undefined when the path did not show it within a period. */
  bySwitch: Record<LatencyPath, Array<number | undefined>>
  /** The transport each player ended up on. */
  transports: unknown
  chromium: string
}

/** Run the source for `switches` black → white switches (after a warm-up) and time every path. */
export async function measureLatency(opts: { switches: number; paths?: readonly LatencyPath[] }): Promise<LatencyResult> {
  const SWITCHES = opts.switches
  const paths = opts.paths ?? ['webrtc', 'mse', 'relay']
  const rtsp = new RtspServer({ host: '127.0.0.1', port: 0 })
  await rtsp.listen()
  const relay = new HandRelay()
  const relayPort = await relay.listen()
  const handler = rtsp.httpHandler()
  const httpServer = http.createServer((req, res) => {
    if (req.url === '/' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      res.end(PAGE)
      return
    }
    if (req.url === '/relay' && req.method === 'POST') {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        relay.answer(Buffer.concat(chunks).toString()).then(
          (sdp) => {
            res.writeHead(201, { 'Content-Type': 'application/sdp' })
            res.end(sdp)
          },
          (err: Error) => {
            res.writeHead(500)
            res.end(err.message)
          },
        )
      })
      return
    }
    handler(req, res)
  })
  httpServer.on('upgrade', rtsp.upgradeHandler())
  httpServer.listen(0, '127.0.0.1')
  await once(httpServer, 'listening')
  const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`

  // One encode, two outputs: RTSP publish to our server and RTP to the hand relay. SPS/PPS
  // before every key frame (dump_extra) so the relay's viewers can start at any key frame.
  const ffmpeg: ChildProcess = spawn(
    'ffmpeg',
    [
      '-nostdin', '-v', 'error',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${WIDTH}x${HEIGHT}`, '-framerate', String(FPS), '-i', 'pipe:0',
      '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x264-params', 'sliced-threads=0',
      '-profile:v', 'baseline', '-g', String(FPS), '-bf', '0', '-b:v', '1M', '-bsf:v', 'dump_extra=freq=keyframe',
      '-f', 'tee', `[f=rtsp:rtsp_transport=tcp]${rtsp.url('live')}|[f=rtp:pkt_size=1200]rtp://127.0.0.1:${relayPort}`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  )
  ffmpeg.stdin!.on('error', () => {})

  // Frames on a fixed schedule from t0, black until every path shows pictures; then, after
  // WARMUP_MS more, a switch to white every PERIOD_MS, SWITCHES times.
  const switches: number[] = []
  const black = frame(false)
  const white = frame(true)
  const t0 = wallNow()
  /** Frame number of the first switch, once every path plays. */
  let firstSwitch = Number.POSITIVE_INFINITY
  const periodFrames = (PERIOD_MS / 1000) * FPS
  let n = 0
  let stopped = false
  let resolveDone!: () => void
  const done = new Promise<void>((r) => (resolveDone = r))
  const pump = async (): Promise<void> => {
    while (!stopped) {
      const due = t0 + (n * 1000) / FPS
      const wait = due - wallNow()
      if (wait > 0) await sleep(wait)
      const k = n - firstSwitch
      const isWhite = k >= 0 && k % periodFrames < periodFrames / 2 && k < SWITCHES * periodFrames
      if (isWhite && k % periodFrames === 0) switches.push(wallNow())
      if (k >= SWITCHES * periodFrames + FPS) resolveDone()
      ffmpeg.stdin!.write(isWhite ? white : black)
      n++
    }
  }
  const pumping = pump()

  // Wait until the path is published, then open the page.
  for (let i = 0; i < 100 && !rtsp.paths().some((p) => p.path === 'live' || p.path === '/live'); i++) await sleep(50)
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
  let events: Record<string, number[]> = {}
  let transports: unknown
  const chromiumVersion = browser.version()
  try {
    const page = await browser.newPage()
    await page.goto(origin)
    await page.evaluate(`window.startPlayers(${JSON.stringify(paths.filter((p) => p !== 'relay'))})`)
    if (paths.includes('relay')) await page.evaluate('window.startRelay()')
    // Every path has shown a second of pictures: start switching after the warm-up.
    const deadline = Date.now() + 30_000
    for (;;) {
      const counts = (await page.evaluate('window.frameCounts')) as Record<string, number>
      if (paths.every((p) => (counts[p] ?? 0) >= FPS)) break
      if (Date.now() > deadline) throw new Error(`not every path plays after 30 s: frames shown ${JSON.stringify(counts)}`)
      await sleep(100)
    }
    firstSwitch = n + Math.ceil((WARMUP_MS / 1000) * FPS)
    await done
    events = (await page.evaluate('window.events')) as Record<string, number[]>
    transports = await page.evaluate('window.transports()')
  } finally {
    stopped = true
    await pumping
    ffmpeg.stdin!.end()
    await browser.close()
    ffmpeg.kill('SIGTERM')
    await relay.close()
    httpServer.closeAllConnections()
    httpServer.close()
    await rtsp.close()
  }

  const measured = switches
  const latencies = { webrtc: [], mse: [], relay: [] } as Record<LatencyPath, number[]>
  const bySwitch = { webrtc: [], mse: [], relay: [] } as Record<LatencyPath, Array<number | undefined>>
  for (const name of paths) {
    const seen = events[name] ?? []
    for (const s of measured) {
      const hit = seen.find((t) => t > s && t < s + PERIOD_MS)
      bySwitch[name].push(hit === undefined ? undefined : hit - s)
    }
    latencies[name] = bySwitch[name].filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  }
  return { switches: measured.length, latencies, bySwitch, transports, chromium: chromiumVersion }
}
