/**
 * Test helpers for the WebRTC/snapshot tests (not a test file): a LiveMedia over a pulled
 * RTSP session (what the HTTP side builds per served path), with a GOP cache, and a page
 * server on 127.0.0.1 that mounts the WHEP and snapshot handlers.
 */
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { RtspClient } from '../../src/client/client.js'
import type { PullSession } from '../../src/client/pull-session.js'
import type { LiveFrame, LiveMedia, LiveTrack, LiveViewer } from '../../src/http/live-media.js'

export interface PulledMedia extends LiveMedia {
  session: PullSession
  /** Frames received from the source, per track index. */
  received: number[]
  viewers(): number
  close(): Promise<void>
}

/** Pull `url` and expose it as LiveMedia; resolves once the first video key frame is cached. */
export async function pullLiveMedia(url: string, path = 'cam'): Promise<PulledMedia> {
  const session = await new RtspClient({ transport: 'tcp' }).pull(url)
  const viewers = new Set<LiveViewer>()
  let gop: LiveFrame[] = []
  const received: number[] = session.tracks.map(() => 0)
  const hasVideo = session.tracks.some((t) => t.type === 'video')
  let ready!: () => void
  const firstKey = new Promise<void>((r) => (ready = r))
  if (!hasVideo) ready()
  const tracks = (): LiveTrack[] =>
    session.tracks.map((t) => ({ index: t.index, type: t.type, codec: t.codec, clockRate: t.clockRate, channels: t.channels, details: t.details, fmtp: t.fmtp }))
  session.on('frame', (f) => {
    received[f.track.index]!++
    const lf: LiveFrame = { track: f.track.index, timestamp: f.timestamp, pts: f.pts, keyFrame: f.keyFrame, data: f.data }
    if (f.track.type === 'video' && f.keyFrame) {
      gop = []
      ready()
    }
    if (gop.length < 2000) gop.push(lf)
    for (const v of viewers) v.frame(lf)
  })
  session.on('close', (err) => {
    for (const v of [...viewers]) v.end?.(err)
  })
  await firstKey
  return {
    path,
    session,
    received,
    tracks,
    viewers: () => viewers.size,
    subscribe(viewer) {
      viewers.add(viewer)
      // The GOP cache first, synchronously, from the last key frame (as the HTTP side does).
      for (const f of gop) viewer.frame(f)
      return () => viewers.delete(viewer)
    },
    close: () => session.close(),
  }
}

export interface PageServer {
  port: number
  origin: string
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1:0: `/` serves `page`, other requests go to `handler`. */
export async function startPageServer(page: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>): Promise<PageServer> {
  const server = http.createServer((req, res) => {
    if (req.url === '/' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      res.end(page)
      return
    }
    void handler(req, res)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}

/** The page a browser test loads: WHEP POST with RTCPeerConnection, plays into <video>. */
export const WHEP_PAGE = `<!doctype html><meta charset="utf-8"><title>whep</title>
<video id="v" autoplay playsinline muted style="width:320px"></video>
<script>
window.start = async (endpoint) => {
  const pc = new RTCPeerConnection()
  window.pc = pc
  pc.addTransceiver('video', { direction: 'recvonly' })
  pc.addTransceiver('audio', { direction: 'recvonly' })
  const stream = new MediaStream()
  pc.ontrack = (e) => { stream.addTrack(e.track); document.getElementById('v').srcObject = stream }
  const offer = await pc.createOffer()
  await pc.setLocalDescription(offer)
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000) } })
  const res = await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: pc.localDescription.sdp })
  const answer = await res.text()
  if (res.status !== 201) throw new Error('WHEP ' + res.status + ': ' + answer)
  window.location_ = new URL(res.headers.get('Location'), location.href).href
  window.note = res.headers.get('X-Rtspkit-Note')
  await pc.setRemoteDescription({ type: 'answer', sdp: answer })
  return { location: window.location_, note: window.note, answer }
}
window.stats = async () => {
  const v = document.getElementById('v')
  const out = { currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight, state: window.pc.connectionState }
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality() : null
  out.totalVideoFrames = q ? q.totalVideoFrames : 0
  for (const r of (await window.pc.getStats()).values()) {
    if (r.type !== 'inbound-rtp') continue
    if (r.kind === 'video') { out.framesDecoded = r.framesDecoded; out.framesReceived = r.framesReceived; out.videoPackets = r.packetsReceived; out.videoLost = r.packetsLost; out.keyFramesDecoded = r.keyFramesDecoded }
    if (r.kind === 'audio') { out.audioSamples = r.totalSamplesReceived; out.audioPackets = r.packetsReceived; out.audioConcealed = r.concealedSamples }
  }
  return out
}
window.stop = async () => {
  const res = await fetch(window.location_, { method: 'DELETE' })
  window.pc.close()
  return res.status
}
</script>`
