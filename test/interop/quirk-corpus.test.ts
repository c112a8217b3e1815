// The camera quirk corpus: one scenario per behaviour, each named after the vendor or
// behaviour it imitates, played by the scripted camera on 127.0.0.1. Scenarios a real
// camera could present must pull; hostile ones must fail with the right typed error,
// promptly, with bounded memory. The README's quirk table lists these names.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { startFakeCamera, defaultSdp, CAMERA_PPS, CAMERA_SPS } from '../helpers/fake-camera.js'
import type { CameraScenario, ReplyCtx } from '../helpers/fake-camera.js'
import { interleavedFrame, startFakeServer } from '../helpers/fake-rtsp-server.js'
import { LimitError, RtspClient, RtspError, TimeoutError } from '../../src/index.js'
import type { PullSession, TrackStats } from '../../src/index.js'

async function frames(session: PullSession, n: number): Promise<number> {
  let got = 0
  for await (const _ of session.frames()) if (++got >= n) break
  return got
}

const sprop = `sprop-parameter-sets=${CAMERA_SPS.toString('base64')},${CAMERA_PPS.toString('base64')}`

interface Playable {
  name: string
  scenario: CameraScenario
  /** Path to pull; default /stream. */
  path?: string
  check?: (session: PullSession, camera: Awaited<ReturnType<typeof startFakeCamera>>) => void
  /** Checks the pts of the first frame. */
  firstPts?: (pts: number) => void
  /** Checks the first track's counters and the pts of 30 frames. */
  stats?: (stats: TrackStats, pts: number[]) => void
}

const playable: Playable[] = [
  {
    name: 'Hikvision: Content-Base without trailing slash, control trackID=1',
    scenario: { contentBase: (url) => url },
    path: '/Streaming/Channels/101',
    check: (s, cam) => assert.equal(s.tracks[0]!.control, cam.url('/Streaming/Channels/101/trackID=1')),
  },
  {
    name: 'Dahua: query in the URL, Content-Base ending "?...&subtype=0/"',
    scenario: { contentBase: (url) => `${url}/`, sdp: () => defaultSdp().replace('a=control:trackID=1', 'a=control:trackID=0') },
    path: '/cam/realmonitor?channel=1&subtype=0',
    check: (s, cam) => assert.equal(s.tracks[0]!.control, cam.url('/cam/realmonitor?channel=1&subtype=0/trackID=0')),
  },
  {
    name: 'Axis: absolute a=control URLs and session-level a=control:*',
    scenario: {
      sdp: (url) => defaultSdp().replace('t=0 0', 't=0 0\r\na=control:*').replace('a=control:trackID=1', `a=control:${url}/trackID=1`),
    },
  },
  {
    name: 'media without a=control: the base URL is the track',
    scenario: { contentBase: () => null, sdp: () => defaultSdp().replace('a=control:trackID=1\r\n', '') },
    check: (s, cam) => assert.equal(s.tracks[0]!.control, cam.url('/stream')),
  },
  {
    name: 'relative Content-Base',
    scenario: { contentBase: () => 'live/' },
    check: (s, cam) => assert.equal(s.tracks[0]!.control, cam.url('/live/trackID=1')),
  },
  {
    name: 'Content-Base without a scheme ("192.168.1.10/stream/"): SETUP on the stream path of our server',
    scenario: { contentBase: () => '192.168.1.10/stream/' },
    check: (s, cam) => {
      assert.equal(s.tracks[0]!.control, cam.url('/stream/trackID=1'))
      assert.ok(cam.requests.some((r) => r.method === 'SETUP' && r.url === cam.url('/stream/trackID=1')))
    },
  },
  {
    name: 'Content-Base as a bare path naming the stream ("live/ch0/")',
    scenario: { contentBase: () => 'live/ch0/' },
    path: '/live/ch0',
    check: (_s, cam) => assert.ok(cam.requests.some((r) => r.method === 'SETUP' && r.url === cam.url('/live/ch0/trackID=1'))),
  },
  {
    name: 'Session header with spaces and ;timeout = 5',
    scenario: { session: ' 1A2B3C ; timeout = 5' },
    check: (_s, cam) => assert.ok(cam.requests.filter((r) => r.method === 'PLAY').every((r) => r.headers['session'] === '1A2B3C')),
  },
  {
    name: 'status lines with empty reasons, lowercase header names, CSeq with spaces',
    scenario: {
      mangle: (raw) =>
        raw
          .replace(/^RTSP\/1\.0 (\d+) [^\r\n]*/, 'RTSP/1.0 $1')
          .replace(/^([A-Za-z-]+):/gm, (_m, name: string) => `${name.toLowerCase()}:`)
          .replace(/^cseq: (\d+)/m, 'cseq:   $1  '),
    },
  },
  {
    name: 'Transport reply with "ssrc= 1a2B" (spaces, short hex) and quoted mode',
    scenario: { setupTransport: (ch) => `RTP/AVP/TCP;unicast;interleaved=${ch[0]}-${ch[1]};ssrc= 1a2B;mode="PLAY"` },
  },
  {
    name: 'server-chosen interleaved channels (asked 0-1, got 10-11)',
    scenario: { channels: () => [10, 11] },
    check: (s) => assert.deepEqual(s.tracks[0]!.transport.interleaved, [10, 11]),
  },
  {
    name: 'OPTIONS answered 501 (some NVRs): not fatal',
    scenario: {
      intercept: (req, ctx) => {
        if (req.method !== 'OPTIONS') return false
        ctx.reply(501)
        return true
      },
    },
  },
  {
    name: 'packetization-mode=0 SDP (single NAL units only)',
    scenario: { sdp: () => defaultSdp().replace('packetization-mode=1', 'packetization-mode=0') },
  },
  {
    name: 'SDP with LF line endings, trailing spaces and an ONVIF metadata track we skip',
    scenario: {
      sdp: () =>
        [
          'v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=Onvif ', 't=0 0',
          'm=video 0 RTP/AVP 96  ', 'a=rtpmap:96 H264/90000', `a=fmtp:96 packetization-mode=1; ${sprop}`, 'a=control:trackID=1 ',
          'm=application 0 RTP/AVP 107', 'a=rtpmap:107 vnd.onvif.metadata/90000', 'a=control:trackID=3', '',
        ].join('\n'),
    },
    check: (s) => {
      assert.equal(s.tracks.length, 1)
      assert.deepEqual(s.skippedMedia, [{ type: 'application', codec: 'vnd.onvif.metadata' }])
    },
  },
  {
    name: 'Hisilicon firmware (Foscam C1 and OEM cameras): every reply carries CSeq: 0',
    scenario: {
      mangle: (raw) => raw.replace(/^CSeq: \d+/m, 'Cseq: 0').replace('\r\n\r\n', '\r\nServer: Hisilicon Streaming Media Server/1.0.0(Jul 30 2015)\r\n\r\n'),
    },
    check: (s) => assert.match(s.server ?? '', /Hisilicon/),
  },
  {
    name: 'HIK Media Server V5: a=fmtp naming another payload type, a=Media_header, a=range, i=/e=/b= lines, Content-Type with charset',
    scenario: {
      mediaSetup: 0,
      mangle: (raw) => raw.replace('Content-Type: application/sdp', 'Content-Type: application/sdp; charset=utf-8'),
      sdp: () =>
        [
          'v=0', 'o=- 1109162014219182 0 IN IP4 0.0.0.0', 's=HIK Media Server V5.03.010', 'i=HIK Media Server Session Description : standard',
          'e=NONE', 'c=IN IP4 0.0.0.0', 'b=AS:2080', 't=0 0', 'a=control:*', 'a=range:npt=now-',
          'm=video 0 RTP/AVP 96', 'i=Video Media', 'b=AS:2048', 'a=recvonly', 'a=x-dimensions:320,240', 'a=framerate:30.0',
          'a=control:trackID=video', 'a=rtpmap:96 H264/90000', `a=fmtp:96 profile-level-id=42c00d;packetization-mode=1;${sprop}`,
          'm=audio 0 RTP/AVP 104', 'i=Audio Media', 'b=AS:32', 'a=recvonly', 'a=control:trackID=audio', 'a=rtpmap:104 MPEG4-GENERIC/16000',
          'a=fmtp:97 streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408',
          'a=Media_header:MEDIAINFO=494D4B48020100000400000101200210401F00000000000000000000000000000000000000000000;',
          'a=appversion:1.0', '',
        ].join('\r\n'),
    },
    check: (s, cam) => {
      assert.deepEqual(s.tracks.map((t) => t.codec), ['H264', 'AAC'])
      assert.equal(s.tracks[1]!.fmtp['config'], '1408')
      assert.equal(s.tracks[1]!.control, cam.url('/stream/trackID=audio'))
    },
  },
  {
    name: 'Dahua ONVIF profile: a=x-packetization-supported, a=framerate, PCMA audio and a metadata track',
    scenario: {
      mediaSetup: 0,
      contentBase: (url) => `${url}/`,
      sdp: () =>
        [
          'v=0', 'o=- 2273421142 2273421142 IN IP4 0.0.0.0', 's=Media Server', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*',
          'a=packetization-supported:DH', 'a=rtppayload-supported:DH', 'a=range:npt=now-', 'a=x-packetization-supported:IV',
          'm=video 0 RTP/AVP 96', 'a=control:trackID=0', 'a=framerate:15.000000', 'a=rtpmap:96 H264/90000', `a=fmtp:96 packetization-mode=1;profile-level-id=42c00d;${sprop}`, 'a=recvonly',
          'm=audio 0 RTP/AVP 8', 'a=control:trackID=1', 'a=rtpmap:8 PCMA/8000', 'a=recvonly',
          'm=application 0 RTP/AVP 107', 'a=control:trackID=4', 'a=rtpmap:107 vnd.onvif.metadata/90000', 'a=recvonly', '',
        ].join('\r\n'),
    },
    path: '/cam/realmonitor?channel=1&subtype=0&unicast=true&proto=Onvif',
    check: (s) => assert.deepEqual(s.tracks.map((t) => t.codec), ['H264', 'PCMA']),
  },
  {
    name: 'Uniview: never answers a SETUP for its ONVIF metadata track (so none is sent)',
    scenario: {
      sdp: () => `${defaultSdp()}m=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000\r\na=fmtp:107 DecoderTag=h3c-v3 RTCP=0\r\na=control:trackID=3\r\n`,
      intercept: (req) => req.method === 'SETUP' && req.url.endsWith('trackID=3'), // swallowed
    },
    check: (_s, cam) => assert.ok(!cam.requests.some((r) => r.url.endsWith('trackID=3'))),
  },
  {
    name: 'Axis: RTP-Info with absolute URLs and a space after the comma, two tracks',
    scenario: {
      mediaSetup: 0,
      sdp: () => `${defaultSdp()}m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=2\r\n`,
      // rtptime of the first video packet minus 2 s: a matched entry puts the first frame at pts 2.
      playHeaders: (url) => ({ 'RTP-Info': `url=${url}/trackID=1;seq=65500;rtptime=${0xffff0000 - 180000}, url=${url}/trackID=2;seq=15727;rtptime=1171661503` }),
    },
    firstPts: (pts) => assert.ok(Math.abs(pts - 2) < 1e-6, `first pts ${pts}`),
  },
  {
    name: 'Reolink: RTP-Info with spaces, no seq and an ssrc',
    scenario: { playHeaders: () => ({ 'RTP-Info': `url=trackID=1 ; rtptime = ${0xffff0000 - 180000} ;ssrc=1A2B3C4D` }) },
    firstPts: (pts) => assert.ok(Math.abs(pts - 2) < 1e-6, `first pts ${pts}`),
  },
  {
    name: 'Reolink, v4l2rtspserver: media before the PLAY reply',
    scenario: { mediaBeforePlayReply: 5 },
    firstPts: (pts) => assert.ok(pts >= 0 && pts < 1, `first pts ${pts}`),
  },
  {
    name: 'Session id only in the first SETUP reply (two tracks)',
    scenario: {
      mediaSetup: 0,
      sdp: () => `${defaultSdp()}m=audio 0 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=control:trackID=2\r\n`,
      mangle: (() => {
        let setups = 0
        return (raw: string) => (/^Transport:/m.test(raw) && setups++ > 0 ? raw.replace(/^Session: [^\r]*\r\n/m, '') : raw)
      })(),
    },
    check: (s, cam) => {
      assert.equal(s.tracks.length, 2)
      const setups = cam.requests.filter((r) => r.method === 'SETUP')
      assert.equal(setups[1]!.headers['session'], '12345678')
    },
  },
  {
    name: 'SETUP reply without a Transport header (gortsplib #456): the channels asked for',
    scenario: { mangle: (raw) => raw.replace(/^Transport: [^\r]*\r\n/m, '') },
    check: (s) => assert.deepEqual(s.tracks[0]!.transport.interleaved, [0, 1]),
  },
  {
    name: 'Transport reply in another order and case: "interleaved=0-1;Unicast;rtp/avp/tcp"',
    scenario: { setupTransport: (ch) => `interleaved=${ch[0]}-${ch[1]};Unicast;rtp/avp/tcp;SSRC=1A2B3C4D` },
    check: (s) => assert.equal(s.tracks[0]!.transport.ssrc, 0x1a2b3c4d),
  },
  {
    name: 'port-forwarded camera: Content-Base with its LAN address',
    scenario: { contentBase: () => 'rtsp://192.168.1.64:554/Streaming/Channels/101/' },
    check: (_s, cam) => assert.ok(cam.requests.some((r) => r.method === 'SETUP' && r.url === 'rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1')),
  },
  {
    name: 'RTCP sender reports on the RTP channel: demultiplexed (RFC 5761), nothing lost or dropped',
    scenario: { garbageEvery: { frames: 7, bytes: interleavedFrame(0, senderReport()) } },
    stats: (st, pts) => {
      assert.equal(st.packetsLost, 0)
      assert.equal(st.framesDropped, 0)
      // Every frame arrives: pts steps of one frame (1/30 s), none missing.
      for (let i = 1; i < pts.length; i++) assert.ok(Math.abs(pts[i]! - pts[i - 1]! - 1 / 30) < 0.002, `frame ${i}: ${pts[i - 1]} → ${pts[i]}`)
    },
  },
]

/** An RTCP sender report (RFC 3550 §6.4.1) for the camera's SSRC, no report blocks. */
function senderReport(): Buffer {
  const b = Buffer.alloc(28)
  b[0] = 0x80
  b[1] = 200
  b.writeUInt16BE(6, 2)
  b.writeUInt32BE(0x1a2b3c4d, 4)
  b.writeUInt32BE(0xe8000000, 8) // NTP seconds
  b.writeUInt32BE(0xffff0000, 16) // RTP time
  return b
}

describe('quirk corpus: cameras that must work', () => {
  for (const q of playable) {
    it(q.name, async () => {
      const camera = await startFakeCamera(q.scenario)
      try {
        const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url(q.path ?? '/stream'))
        q.check?.(session, camera)
        const pts: number[] = []
        for await (const f of session.frames()) {
          if (pts.length === 0) q.firstPts?.(f.pts)
          if (pts.push(f.pts) >= (q.stats ? 30 : 10)) break
        }
        q.stats?.(session.stats()[0]!, pts)
        await session.close()
      } finally {
        await camera.stop()
      }
    })
  }

  for (const [name, transport] of [
    ['UDP: Transport reply without server_port', (cp: [number, number]) => `RTP/AVP;unicast;client_port=${cp[0]}-${cp[1]};ssrc=1A2B3C4D`],
    ['UDP: server_port=0-1 (a camera behind a NAT helper)', (cp: [number, number]) => `RTP/AVP;unicast;client_port=${cp[0]}-${cp[1]};server_port=0-1`],
    ['UDP: a normal reply, packets from the announced port', undefined],
  ] as const) {
    it(name, async () => {
      const camera = await startFakeCamera({
        setupTransport: transport ? (_ch, udp) => transport(udp!.clientPort) : undefined,
      })
      try {
        const session = await new RtspClient({ transport: 'udp' }).pull(camera.url())
        assert.equal(session.tracks[0]!.transport.protocol, 'udp')
        assert.equal(await frames(session, 10), 10)
        await session.close()
      } finally {
        await camera.stop()
      }
    })
  }

  it('UDP with loss (the first fragment of every other key frame): losses counted, partial pictures dropped, the stream goes on', async () => {
    let fuStarts = 0
    // RTP header (12 bytes), then FU indicator (type 28) and FU header (S bit 0x80): RFC 6184 §5.8.
    const isFuStart = (pkt: Buffer) => (pkt[12]! & 0x1f) === 28 && (pkt[13]! & 0x80) !== 0
    const camera = await startFakeCamera({ udpFilter: (_i, pkt) => !(isFuStart(pkt) && fuStarts++ % 2 === 1) })
    try {
      const session = await new RtspClient({ transport: 'udp' }).pull(camera.url())
      let keys = 0
      let n = 0
      for await (const f of session.frames()) {
        if (f.keyFrame) keys++
        if (++n >= 100) break
      }
      const [stats] = session.stats()
      await session.close()
      assert.ok(stats!.packetsLost > 0, `lost ${stats!.packetsLost}`)
      assert.ok(stats!.framesDropped > 0, `dropped ${stats!.framesDropped}`)
      assert.ok(keys >= 1)
    } finally {
      await camera.stop()
    }
  })

  it('UDP reordering (neighbours swapped): put back in order, nothing counted lost, nothing dropped', async () => {
    const camera = await startFakeCamera({ udpFilter: (i) => (i % 5 === 2 ? 'swap' : true) })
    try {
      const session = await new RtspClient({ transport: 'udp' }).pull(camera.url())
      let last = -1
      let n = 0
      for await (const f of session.frames()) {
        assert.ok(f.pts > last, 'pts in order')
        last = f.pts
        if (++n >= 60) break
      }
      const [stats] = session.stats()
      await session.close()
      assert.equal(stats!.framesDropped, 0)
      assert.equal(stats!.packetsLost, 0)
    } finally {
      await camera.stop()
    }
  })

  it('RTP clock jumping 5 hours ahead: a discontinuity event, and the timeline stays continuous', async () => {
    const camera = await startFakeCamera({ timestampJump: { atFrame: 20, seconds: 18_000 } })
    try {
      const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url())
      const jumps: number[] = []
      session.on('discontinuity', (_t, s) => jumps.push(s))
      const pts: number[] = []
      for await (const f of session.frames()) if (pts.push(f.pts) >= 40) break
      await session.close()
      assert.equal(jumps.length, 1)
      assert.ok(Math.abs(jumps[0]! - 18_000) < 1, String(jumps[0]))
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i]! - pts[i - 1]! > 0 && pts[i]! - pts[i - 1]! < 0.5, `step ${i}: ${pts[i - 1]} → ${pts[i]}`)
    } finally {
      await camera.stop()
    }
  })

  it('keep-alives never answered: warnings, but the stream goes on', async () => {
    const camera = await startFakeCamera({
      session: 'K;timeout=1',
      intercept: (req) => req.method === 'GET_PARAMETER', // swallowed: no reply at all
    })
    try {
      const session = await new RtspClient({ transport: 'tcp', timeoutMs: 400 }).pull(camera.url())
      const warnings: string[] = []
      session.on('warning', (w) => warnings.push(w))
      assert.equal(await frames(session, 60), 60)
      await session.close()
      assert.ok(warnings.some((w) => /keep-alive GET_PARAMETER failed: no reply within 400 ms/.test(w)), warnings.join('; '))
    } finally {
      await camera.stop()
    }
  })

  it('keep-alive replies without CSeq: taken for the one request outstanding, no warning', async () => {
    const camera = await startFakeCamera({
      session: 'K;timeout=1',
      intercept: (req, ctx) => {
        if (req.method !== 'GET_PARAMETER') return false
        ctx.reply(200, { CSeq: '', Session: 'K' })
        return true
      },
    })
    try {
      const session = await new RtspClient({ transport: 'tcp', timeoutMs: 3000 }).pull(camera.url())
      const warnings: string[] = []
      session.on('warning', (w) => warnings.push(w))
      assert.equal(await frames(session, 60), 60)
      await session.close()
      assert.ok(camera.requests.filter((r) => r.method === 'GET_PARAMETER').length >= 2)
      assert.deepEqual(warnings, [])
    } finally {
      await camera.stop()
    }
  })

  it("TP-Link Tapo C220: keep-alive rejected with the previous request's CSeq; a warning at once, the stream goes on", async () => {
    const camera = await startFakeCamera({
      session: 'T;timeout=1',
      intercept: (req, ctx) => {
        if (req.method !== 'GET_PARAMETER') return false
        ctx.reply(400, { CSeq: String(Number(req.headers['cseq']) - 1) })
        return true
      },
    })
    try {
      // A reply left unmatched would only surface as "no reply within 5000 ms".
      const session = await new RtspClient({ transport: 'tcp', timeoutMs: 5000 }).pull(camera.url())
      const warnings: string[] = []
      session.on('warning', (w) => warnings.push(w))
      assert.equal(await frames(session, 60), 60)
      await session.close()
      assert.ok(warnings.length >= 1 && warnings.every((w) => /keep-alive GET_PARAMETER failed: .*400/.test(w)), warnings.join('; '))
    } finally {
      await camera.stop()
    }
  })

  for (const [name, onTeardown] of [
    ['TEARDOWN never answered: close() returns within the teardown bound', (_ctx: ReplyCtx) => {}],
    ['camera dropping the connection on TEARDOWN without a reply: close() returns, no error', (ctx: ReplyCtx) => ctx.destroy()],
  ] as const) {
    it(name, async () => {
      const camera = await startFakeCamera({
        intercept: (req, ctx) => {
          if (req.method !== 'TEARDOWN') return false
          onTeardown(ctx)
          return true
        },
      })
      try {
        const session = await new RtspClient({ transport: 'tcp', teardownTimeoutMs: 300 }).pull(camera.url())
        const errors: unknown[] = []
        session.on('error', (e) => errors.push(e))
        await frames(session, 5)
        const t0 = Date.now()
        await session.close()
        assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`)
        assert.equal(await session.closed, undefined)
        assert.deepEqual(errors, [])
        assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
      } finally {
        await camera.stop()
      }
    })
  }

  it('several WWW-Authenticate headers: Digest SHA-256 is chosen; reserved characters in the password; uri without credentials', async () => {
    const seen: string[] = []
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        const auth = req.headers['authorization']
        if (req.method === 'OPTIONS') return false
        if (auth === undefined) {
          ctx.reply(401, {
            'WWW-Authenticate': 'Basic realm="cam", Digest realm="cam", nonce="n1", algorithm=MD5, Digest realm="cam", nonce="n1", algorithm=SHA-256, qop="auth"',
          })
          return true
        }
        seen.push(auth)
        return false
      },
    })
    try {
      const url = camera.url('/stream').replace('rtsp://', 'rtsp://admin:p%40ss%3Aw0rd@')
      const session = await new RtspClient({ transport: 'tcp' }).pull(url)
      await frames(session, 3)
      await session.close()
      assert.ok(seen.length > 0)
      for (const a of seen) {
        assert.match(a, /^Digest /)
        assert.match(a, /algorithm="?SHA-256/)
        assert.match(a, /uri="rtsp:\/\/127\.0\.0\.1:\d+\/stream/)
        assert.ok(!a.includes('p@ss') && !a.includes('p%40ss'))
      }
    } finally {
      await camera.stop()
    }
  })

  it('stale=true with a new nonce mid-session: re-authenticates and goes on; no algorithm= echoed when the challenge had none', async () => {
    const nonces: string[] = []
    let keepAlives = 0
    let echoed = false
    const camera = await startFakeCamera({
      session: 'S1;timeout=1',
      intercept: (req, ctx) => {
        const auth = req.headers['authorization']
        const nonce = /nonce="([^"]+)"/.exec(auth ?? '')?.[1]
        if (req.method === 'OPTIONS' && auth === undefined) return false
        if (auth === undefined) {
          ctx.reply(401, { 'WWW-Authenticate': 'Digest realm="cam", nonce="first"' })
          return true
        }
        nonces.push(nonce ?? '')
        if (auth.includes('algorithm=')) echoed = true
        if (req.method === 'GET_PARAMETER' && ++keepAlives === 1) {
          ctx.reply(401, { 'WWW-Authenticate': 'Digest realm="cam", nonce="second", stale=true' })
          return true
        }
        // Digest without qop (RFC 2069): response = MD5(HA1:nonce:HA2); check it really is right.
        const md5 = (s: string) => createHash('md5').update(s).digest('hex')
        const uri = /uri="([^"]+)"/.exec(auth)?.[1]
        const expected = md5(`${md5('admin:cam:secret')}:${nonce}:${md5(`${req.method}:${uri}`)}`)
        if (!auth.includes(`response="${expected}"`)) {
          ctx.reply(401, { 'WWW-Authenticate': 'Digest realm="cam", nonce="first"' })
          return true
        }
        return false
      },
    })
    try {
      const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url().replace('rtsp://', 'rtsp://admin:secret@'))
      await frames(session, 60)
      await session.close()
      assert.ok(nonces.includes('second'), `nonces: ${nonces.join(',')}`)
      assert.ok(keepAlives >= 2)
      assert.equal(echoed, false)
    } finally {
      await camera.stop()
    }
  })
})

describe('quirk corpus: hostile servers end in typed errors, promptly, with bounded memory', () => {
  const hostile: Array<{ name: string; write: (cseq: string) => string | Buffer; expect: (e: unknown) => boolean }> = [
    {
      name: '100 000 header lines',
      write: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${'X-Junk: 1\r\n'.repeat(100_000)}\r\n`,
      expect: (e) => e instanceof LimitError,
    },
    {
      name: 'a status line that never ends',
      write: () => `RTSP/1.0 200 ${'A'.repeat(200_000)}`,
      expect: (e) => e instanceof LimitError,
    },
    {
      name: 'a 1 GB Content-Length on DESCRIBE',
      write: (cseq) => `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Length: 1000000000\r\n\r\nv=0\r\n`,
      expect: (e) => e instanceof LimitError,
    },
    {
      name: 'a reply trickled one byte at a time, forever',
      write: () => 'R',
      expect: (e) => e instanceof TimeoutError,
    },
  ]
  for (const h of hostile) {
    it(h.name, async () => {
      const server = await startFakeServer((req, ctx) => {
        if (req.method === 'OPTIONS') return ctx.reply(200)
        if (h.name.startsWith('a reply trickled')) {
          const t = setInterval(() => (ctx.write(h.write(req.cseq)) ? undefined : clearInterval(t)), 20)
          req.socket.on('close', () => clearInterval(t))
          return
        }
        ctx.write(h.write(req.cseq))
      })
      const t0 = Date.now()
      const before = process.memoryUsage().rss
      try {
        await assert.rejects(new RtspClient({ transport: 'tcp', timeoutMs: 1500 }).pull(server.url('/x')), (e: unknown) => {
          assert.ok(e instanceof RtspError, String(e))
          return h.expect(e)
        })
        assert.ok(Date.now() - t0 < 5000)
        assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024)
      } finally {
        await server.stop()
      }
    })
  }
})
