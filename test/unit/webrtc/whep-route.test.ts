/**
 * handleWhep's HTTP contract (RFC 9725) with werift as the WHEP client: status codes,
 * Allow/Location headers, one-line reasons, limits, and the release of sessions whose
 * peer never connects or goes away.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { RTCPeerConnection } from 'werift'
import type { LiveMedia, LiveTrack, LiveViewer } from '../../../src/http/live-media.js'
import { handleWhep } from '../../../src/http/whep-route.js'
import { WhepRegistry } from '../../../src/webrtc/whep-registry.js'
import { PPS, SPS } from '../../vectors/h264.js'
import { closeReason, weriftLoopbackH264 } from '../../helpers/whep.js'

/** A path whose subscribers get a tiny H.264 stream (an IDR every 30 frames) at 30 frames/s. */
function fakeMedia(tracks: LiveTrack[]): LiveMedia & { viewers: Set<LiveViewer> } {
  const viewers = new Set<LiveViewer>()
  let timer: NodeJS.Timeout | undefined
  let n = 0
  return {
    path: 'cam',
    viewers,
    tracks: () => tracks,
    subscribe(v) {
      viewers.add(v)
      timer ??= setInterval(() => {
        const key = n % 30 === 0
        const frame = { track: 0, timestamp: n * 3000, pts: n / 30, keyFrame: key, data: [Buffer.from(key ? [0x65, 0x88, 0x84, 0x00] : [0x41, 0x9a, 0x02])] }
        n++
        for (const x of viewers) x.frame(frame)
      }, 33)
      return () => {
        viewers.delete(v)
        if (viewers.size === 0) {
          clearInterval(timer)
          timer = undefined
        }
      }
    },
  }
}

const H264: LiveTrack = { index: 0, type: 'video', codec: 'H264', clockRate: 90000, details: { sps: SPS, pps: PPS }, fmtp: {} }

async function wereiftOffer(): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection(weriftLoopbackH264())
  pc.addTransceiver('video', { direction: 'recvonly' })
  await pc.setLocalDescription(await pc.createOffer())
  if (pc.iceGatheringState !== 'complete') await pc.iceGatheringStateChange.watch((s) => s === 'complete')
  return { pc, sdp: pc.localDescription!.sdp }
}

describe('handleWhep', () => {
  let server: http.Server
  let origin: string
  let media = fakeMedia([H264])
  let registry = new WhepRegistry({ maxSessionsPerPath: 1 })
  let connectTimeoutMs = 1000
  before(async () => {
    server = http.createServer((req, res) => void handleWhep(req, res, media, { resourceBase: '/cam/whep', registry, addresses: ['127.0.0.1'], session: { connectTimeoutMs, rtcpTimeoutMs: 2500 }, tracksTimeoutMs: 300 }))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    registry.closeAll()
    server.closeAllConnections()
    await new Promise<void>((r) => server.close(() => r()))
  })

  const post = (body: string, type = 'application/sdp'): Promise<Response> => fetch(`${origin}/cam/whep`, { method: 'POST', headers: { 'Content-Type': type }, body })

  test('OPTIONS and unsupported methods: Allow', async () => {
    const o = await fetch(`${origin}/cam/whep`, { method: 'OPTIONS' })
    assert.equal(o.status, 204)
    assert.equal(o.headers.get('allow'), 'POST, OPTIONS')
    const g = await fetch(`${origin}/cam/whep`)
    assert.equal(g.status, 405)
    assert.equal(g.headers.get('allow'), 'POST, OPTIONS')
    const p = await fetch(`${origin}/cam/whep/abc`, { method: 'PATCH', body: 'x' })
    assert.equal(p.status, 405)
    assert.equal(p.headers.get('allow'), 'DELETE, OPTIONS')
    const d = await fetch(`${origin}/cam/whep/nope`, { method: 'DELETE' })
    assert.equal(d.status, 404)
  })

  test('bad offers: 415 for another type, 400 with a one-line reason', async () => {
    assert.equal((await post('v=0', 'text/plain')).status, 415)
    const r = await post('hello')
    assert.equal(r.status, 400)
    const text = await r.text()
    assert.match(text, /^bad offer: the body is not an SDP offer/)
    assert.equal(text.trim().split('\n').length, 1)
    const { pc, sdp } = await wereiftOffer()
    await pc.close()
    const noH264 = sdp.replace(/H264/g, 'XXXX')
    const r2 = await post(noH264)
    assert.equal(r2.status, 400)
    assert.match(await r2.text(), /H\.264/)
    assert.equal(registry.size, 0)
  })

  test('201 + Location; a second viewer over the limit gets 503; an unconnected session is released', async () => {
    const a = await wereiftOffer()
    const b = await wereiftOffer()
    try {
      const r = await post(a.sdp)
      assert.equal(r.status, 201, await r.clone().text())
      assert.equal(r.headers.get('content-type'), 'application/sdp')
      assert.match(r.headers.get('location') ?? '', /^\/cam\/whep\/[\w-]+$/)
      const answer = await r.text()
      assert.match(answer, /^a=candidate:.* 127\.0\.0\.1 \d+ typ host/m)
      assert.doesNotMatch(answer, /^a=candidate:.* 192\./m)
      assert.match(answer, /^a=fmtp:\d+ .*packetization-mode=1/m)
      assert.equal(registry.size, 1)
      const r2 = await post(b.sdp)
      assert.equal(r2.status, 503)
      assert.match(await r2.text(), /already has 1 WebRTC viewers/)
      // Nobody applies the answer: the session closes after connectTimeoutMs and is forgotten.
      const s = registry.list()[0]!
      const closed = closeReason(s)
      assert.match(await closed, /no WebRTC connection within 1000 ms/)
      assert.equal(registry.size, 0)
      assert.equal(media.viewers.size, 0)
    } finally {
      await a.pc.close()
      await b.pc.close()
    }
  })

  test('werift viewer: connects, gets subscribed; DELETE ends it', async () => {
    connectTimeoutMs = 10_000
    const a = await wereiftOffer()
    try {
      const r = await post(a.sdp)
      assert.equal(r.status, 201)
      await a.pc.setRemoteDescription({ type: 'answer', sdp: await r.text() })
      await a.pc.connectionStateChange.watch((s) => s === 'connected', 10_000)
      while (media.viewers.size === 0) await new Promise((res) => setTimeout(res, 20))
      const d = await fetch(new URL(r.headers.get('location')!, origin), { method: 'DELETE' })
      assert.equal(d.status, 200)
      assert.equal(registry.size, 0)
      assert.equal(media.viewers.size, 0)
    } finally {
      await a.pc.close()
    }
  })

  test('werift viewer that closes its peer connection without DELETE is released', async () => {
    const a = await wereiftOffer()
    const r = await post(a.sdp)
    assert.equal(r.status, 201)
    await a.pc.setRemoteDescription({ type: 'answer', sdp: await r.text() })
    await a.pc.connectionStateChange.watch((s) => s === 'connected', 10_000)
    const s = registry.list()[0]!
    const closed = closeReason(s)
    const t0 = Date.now()
    await a.pc.close()
    const reason = await closed
    assert.ok(Date.now() - t0 < 5000, `released after ${Date.now() - t0} ms (${reason})`)
    assert.equal(registry.size, 0)
    assert.equal(media.viewers.size, 0)
  })

  test('an on-demand path: the POST opens its upstream and waits for its tracks', async () => {
    // Like the HTTP side's LivePath: no tracks until the first subscriber opens the source.
    const tracks: LiveTrack[] = []
    const inner = fakeMedia(tracks)
    media = {
      ...inner,
      subscribe(v) {
        setTimeout(() => {
          if (tracks.length === 0) tracks.push(H264)
          v.tracksChanged?.()
        }, 100)
        return inner.subscribe(v)
      },
    }
    const { pc, sdp } = await wereiftOffer()
    try {
      const r = await post(sdp)
      assert.equal(r.status, 201, await r.clone().text())
    } finally {
      registry.closeAll()
      await pc.close()
    }
  })

  test('sessions ended by DELETE leave no UDP socket behind', async () => {
    registry = new WhepRegistry() // no per-path limit of 1 here
    const udp = (): number => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
    const offers = await Promise.all([1, 2, 3, 4].map(() => wereiftOffer()))
    try {
      const withClients = udp()
      const locations: string[] = []
      for (const o of offers) {
        const r = await post(o.sdp)
        assert.equal(r.status, 201)
        locations.push(r.headers.get('location')!)
        await r.text()
      }
      assert.ok(udp() > withClients, 'sessions hold sockets while open')
      for (const loc of locations) assert.equal((await fetch(new URL(loc, origin), { method: 'DELETE' })).status, 200)
      assert.equal(registry.size, 0)
      // pc.close() releases asynchronously: wait for the count to come back.
      const deadline = Date.now() + 3000
      while (udp() > withClients && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      assert.equal(udp(), withClients, process.getActiveResourcesInfo().join(','))
    } finally {
      await Promise.all(offers.map((o) => o.pc.close()))
    }
  })

  test('no source yet: 503', async () => {
    media = fakeMedia([])
    const { pc, sdp } = await wereiftOffer()
    await pc.close()
    const r = await post(sdp)
    assert.equal(r.status, 503)
    assert.match(await r.text(), /no source yet/)
  })
})
