// @bench-lib
/**
 * The latency harness of bench/latency.ts:
 * a black → white source at known wall-clock times through ffmpeg (x264 zerolatency) into
 * an RtspServer with its HTTP side, into a hand werift relay and into a hand fMP4 → WebSocket
 * → MSE relay; Chromium times the first white frame of each path. See bench/latency.ts for
 * the method.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { MediaStreamTrack, RTCPeerConnection } from 'werift'
import { WebSocketServer, type WebSocket } from 'ws'
import { RtspServer } from '../src/server/index.js'
import { launchChromium } from '../test/helpers/chromium.js'
import { weriftLoopbackH264 } from '../test/helpers/whep.js'
import { sleep } from './lib.js'

const WIDTH = 640
const HEIGHT = 480
const FPS = 30
/** A black → white switch every PERIOD_MS; white for half of it. */
const PERIOD_MS = 1000
const WARMUP_MS = 1500

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
<video id="mse-relay" autoplay muted playsinline style="width:320px;height:240px"></video>
<script>
window.events = { webrtc: [], mse: [], relay: [], 'mse-relay': [] }
window.frameCounts = { webrtc: 0, mse: 0, relay: 0, 'mse-relay': 0 }
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
// The hand MSE relay's player: a plain MediaSource + SourceBuffer fed from the WebSocket
// (first message the MIME type, then the init segment, then one moof+mdat per frame).
// Live edge: after each append, when the buffered end is more than 0.5 s ahead of
// currentTime (as on the first fragments, which start mid-stream), jump to that end.
window.startMseRelay = () => {
  const v = document.getElementById('mse-relay')
  const ms = new MediaSource()
  v.src = URL.createObjectURL(ms)
  const queue = []
  let sb
  const pump = () => {
    if (!sb || sb.updating || queue.length === 0) return
    sb.appendBuffer(queue.shift())
  }
  ms.addEventListener('sourceopen', () => {
    const ws = new WebSocket(location.origin.replace('http', 'ws') + '/mse-relay')
    ws.binaryType = 'arraybuffer'
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        window.mseRelayMime = e.data
        try { sb = ms.addSourceBuffer(e.data) } catch (err) { window.mseRelayError = String(err); return }
        sb.mode = 'segments'
        sb.addEventListener('updateend', () => {
          const b = v.buffered
          if (b.length > 0) {
            const end = b.end(b.length - 1)
            if (end - v.currentTime > 0.5) v.currentTime = end
          }
          if (v.paused) v.play().catch(() => {})
          pump()
        })
        return
      }
      queue.push(e.data)
      pump()
    }
  }, { once: true })
  watch('mse-relay', v)
  window.mseRelayState = () => ({
    readyState: v.readyState, currentTime: v.currentTime, paused: v.paused, error: v.error && v.error.message,
    buffered: [...Array(v.buffered.length).keys()].map((i) => [v.buffered.start(i), v.buffered.end(i)]),
    mime: window.mseRelayMime, sourceBuffer: window.mseRelayError || !!sb, queued: queue.length,
  })
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
// How far each MSE video plays behind the end of what it has buffered, in ms.
window.bufferedAhead = () => {
  const out = {}
  const videos = { mse: document.getElementById('mse')?.video, 'mse-relay': document.getElementById('mse-relay') }
  for (const [k, v] of Object.entries(videos)) {
    if (v && v.buffered.length > 0) out[k] = Math.round((v.buffered.end(v.buffered.length - 1) - v.currentTime) * 1000)
  }
  return out
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
    const pc = new RTCPeerConnection(weriftLoopbackH264())
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

/**
 * ffmpeg → fragmented MP4 → WebSocket → MSE, by hand: ffmpeg's mp4 muxer writes one
 * moof+mdat per frame to a pipe (frag_duration=1 µs closes a fragment at every packet);
 * the relay cuts the byte stream at box boundaries, keeps ftyp+moov as the init segment
 * for each new client and sends every moof+mdat pair as it arrives. A new client gets the
 * init segment and then the live fragments; MSE drops them up to the next key frame.
 */
class HandMseRelay {
  private readonly wss = new WebSocketServer({ noServer: true })
  private readonly clients = new Set<WebSocket>()
  private pending: Buffer = Buffer.alloc(0)
  private init: Buffer[] = []
  private initDone = false
  private moof: Buffer | undefined
  mime = 'video/mp4; codecs="avc1.42E01E"'

  /** Bytes of ffmpeg's fMP4 output, in any chunking. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    let off = 0
    while (this.pending.length - off >= 8) {
      const size = this.pending.readUInt32BE(off)
      if (size < 8 || this.pending.length - off < size) break
      const box = this.pending.subarray(off, off + size)
      const type = box.toString('latin1', 4, 8)
      off += size
      if (!this.initDone && (type === 'ftyp' || type === 'moov')) {
        this.init.push(Buffer.from(box))
        if (type === 'moov') {
          this.initDone = true
          this.mime = `video/mp4; codecs="${avcCodec(box) ?? 'avc1.42E01E'}"`
        }
      } else if (type === 'moof') {
        this.moof = Buffer.from(box)
      } else if (type === 'mdat' && this.moof) {
        const frag = Buffer.concat([this.moof, box])
        this.moof = undefined
        for (const ws of this.clients) ws.send(frag)
      }
    }
    this.pending = this.pending.subarray(off)
  }

  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      ws.send(this.mime)
      ws.send(Buffer.concat(this.init))
      this.clients.add(ws)
      ws.on('close', () => this.clients.delete(ws))
      ws.on('error', () => this.clients.delete(ws))
    })
  }

  close(): void {
    for (const ws of this.clients) ws.terminate()
    this.wss.close()
  }
}

/** `avc1.PPCCLL` from the avcC box inside a moov (ISO/IEC 14496-15 §5.3.3.1), if found. */
function avcCodec(moov: Buffer): string | undefined {
  const i = moov.indexOf('avcC', 0, 'latin1')
  if (i < 0 || i + 8 > moov.length) return undefined
  const hex = (b: number): string => b.toString(16).padStart(2, '0').toUpperCase()
  return `avc1.${hex(moov[i + 5]!)}${hex(moov[i + 6]!)}${hex(moov[i + 7]!)}`
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export type LatencyPath = 'webrtc' | 'mse' | 'relay' | 'mse-relay'

export interface LatencyResult {
  /** Switches to white after the warm-up. */
  switches: number
  /** Per path: latency of each switch seen, ms, sorted. */
  latencies: Record<LatencyPath, number[]>
  /** Per path: latency of switch i (ms), or undefined when the path did not show it within a period. */
  bySwitch: Record<LatencyPath, Array<number | undefined>>
  /** Per MSE path: buffered end − currentTime, ms, sampled once a period while switching. */
  bufferedAheadMs: Record<string, number[]>
  /** The transport each player ended up on. */
  transports: unknown
  chromium: string
}

/** Run the source for `switches` black → white switches (after a warm-up) and time every path. */
export async function measureLatency(opts: { switches: number; paths?: readonly LatencyPath[] }): Promise<LatencyResult> {
  const SWITCHES = opts.switches
  const paths = opts.paths ?? ['webrtc', 'mse', 'relay', 'mse-relay']
  const rtsp = new RtspServer({ host: '127.0.0.1', port: 0 })
  await rtsp.listen()
  const relay = new HandRelay()
  const relayPort = await relay.listen()
  const mseRelay = new HandMseRelay()
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
  const upgrade = rtsp.upgradeHandler()
  httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url === '/mse-relay') mseRelay.upgrade(req, socket, head)
    else upgrade(req, socket, head)
  })
  httpServer.listen(0, '127.0.0.1')
  await once(httpServer, 'listening')
  const origin = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`

  // One encode, two or three outputs: RTSP publish to our server, RTP to the hand WebRTC
  // relay and (when measured) fragmented MP4 on stdout to the hand MSE relay. SPS/PPS
  // before every key frame (dump_extra) so the relay's viewers can start at any key frame,
  // and in the stream's extradata (global_header): the tee muxer does not ask for it, and
  // without it the mp4 muxer writes an empty avcC that MSE rejects.
  // The mp4 muxer closes a fragment when the next packet arrives (its duration is known
  // only then), so the MSE relay gets each frame one frame period after it is encoded.
  const withMseRelay = paths.includes('mse-relay')
  const tee = [`[f=rtsp:rtsp_transport=tcp]${rtsp.url('live')}`, `[f=rtp:pkt_size=1200]rtp://127.0.0.1:${relayPort}`]
  if (withMseRelay) tee.push('[f=mp4:movflags=frag_keyframe+empty_moov+default_base_moof:frag_duration=1:flush_packets=1]pipe:1')
  const ffmpeg: ChildProcess = spawn(
    'ffmpeg',
    [
      '-nostdin', '-v', 'error',
      '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${WIDTH}x${HEIGHT}`, '-framerate', String(FPS), '-i', 'pipe:0',
      '-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-x264-params', 'sliced-threads=0',
      '-profile:v', 'baseline', '-g', String(FPS), '-bf', '0', '-b:v', '1M', '-flags:v', '+global_header', '-bsf:v', 'dump_extra=freq=keyframe',
      '-f', 'tee', tee.join('|'),
    ],
    { stdio: ['pipe', withMseRelay ? 'pipe' : 'ignore', 'inherit'] },
  )
  ffmpeg.stdout?.on('data', (chunk: Buffer) => mseRelay.push(chunk))
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
  const browser = await launchChromium()
  let events: Record<string, number[]> = {}
  let transports: unknown
  const bufferedAheadMs: Record<string, number[]> = {}
  const chromiumVersion = browser.version()
  try {
    const page = await browser.newPage()
    await page.goto(origin)
    await page.evaluate(`window.startPlayers(${JSON.stringify(paths.filter((p) => p === 'webrtc' || p === 'mse'))})`)
    if (paths.includes('relay')) await page.evaluate('window.startRelay()')
    if (withMseRelay) await page.evaluate('window.startMseRelay()')
    // Every path has shown a second of pictures: start switching after the warm-up.
    const deadline = Date.now() + 30_000
    for (;;) {
      const counts = (await page.evaluate('window.frameCounts')) as Record<string, number>
      if (paths.every((p) => (counts[p] ?? 0) >= FPS)) break
      if (Date.now() > deadline) throw new Error(`not every path plays after 30 s: frames shown ${JSON.stringify(counts)}; hand MSE relay: ${JSON.stringify(await page.evaluate('window.mseRelayState?.()'))}`)
      await sleep(100)
    }
    firstSwitch = n + Math.ceil((WARMUP_MS / 1000) * FPS)
    let finished = false
    void done.then(() => (finished = true))
    while (!finished) {
      const ahead = (await page.evaluate('window.bufferedAhead()')) as Record<string, number>
      for (const [k, v] of Object.entries(ahead)) (bufferedAheadMs[k] ??= []).push(v)
      await Promise.race([done, sleep(PERIOD_MS)])
    }
    events = (await page.evaluate('window.events')) as Record<string, number[]>
    transports = await page.evaluate('window.transports()')
  } finally {
    stopped = true
    await pumping
    ffmpeg.stdin!.end()
    await browser.close()
    ffmpeg.kill('SIGTERM')
    await relay.close()
    mseRelay.close()
    httpServer.closeAllConnections()
    httpServer.close()
    await rtsp.close()
  }

  const measured = switches
  const latencies = { webrtc: [], mse: [], relay: [], 'mse-relay': [] } as Record<LatencyPath, number[]>
  const bySwitch = { webrtc: [], mse: [], relay: [], 'mse-relay': [] } as Record<LatencyPath, Array<number | undefined>>
  for (const name of paths) {
    const seen = events[name] ?? []
    for (const s of measured) {
      const hit = seen.find((t) => t > s && t < s + PERIOD_MS)
      bySwitch[name].push(hit === undefined ? undefined : hit - s)
    }
    latencies[name] = bySwitch[name].filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  }
  return { switches: measured.length, latencies, bySwitch, bufferedAheadMs, transports, chromium: chromiumVersion }
}
