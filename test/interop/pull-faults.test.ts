// Faults and camera quirks from scripted servers (things a real peer will not do on demand):
// every failure ends in one clear line or typed error, never a hang, and frees everything.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { runCli } from '../helpers/cli.js'
import { freePort } from '../helpers/net.js'
import { startFakeServer } from '../helpers/fake-rtsp-server.js'
import { startFakeCamera, defaultSdp } from '../helpers/fake-camera.js'
import { RtspClient, RtspError, TimeoutError, StatusError, LimitError } from '../../src/index.js'
import type { PullSession } from '../../src/index.js'

/** Sockets, UDP ports and timers that keep the loop alive, counted by type. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const t of process.getActiveResourcesInfo()) {
    if (/TCP|UDP|Timeout|Immediate/.test(t)) counts[t] = (counts[t] ?? 0) + 1
  }
  return counts
}

async function collect(session: PullSession, n: number): Promise<number> {
  let got = 0
  for await (const _ of session.frames()) if (++got >= n) break
  return got
}

describe('errors: one line, non-zero status, no password', () => {
  it('connection refused', async () => {
    const port = await freePort()
    const r = await runCli(['probe', `rtsp://admin:hunter2@127.0.0.1:${port}/x`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^rtspkit: cannot connect to 127\.0\.0\.1:\d+: connection refused/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.ok(!r.stderr.includes('hunter2'))
  })

  it('a server that never answers: no reply within the timeout', async () => {
    const server = await startFakeServer(() => {})
    try {
      const t0 = Date.now()
      const r = await runCli(['probe', server.url('/x'), '--timeout', '1000'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^rtspkit: no reply within 1000 ms to OPTIONS/)
      assert.ok(Date.now() - t0 < 8000)
    } finally {
      await server.stop()
    }
  })

  it('404 to DESCRIBE is an error, not SDP', async () => {
    const server = await startFakeServer((req, ctx) => {
      if (req.method === 'OPTIONS') ctx.reply(200, { Public: 'OPTIONS, DESCRIBE' })
      else ctx.reply(404, {}, 'v=0\r\nm=video 0 RTP/AVP 96\r\n')
    })
    try {
      const r = await runCli(['probe', server.url('/nope')])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^rtspkit: 404 Not Found: no stream at this path; check the URL \(DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/nope\)/)
    } finally {
      await server.stop()
    }
  })

  it('454 Session Not Found to PLAY', async () => {
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        if (req.method !== 'PLAY') return false
        ctx.reply(454, {})
        return true
      },
    })
    try {
      const r = await runCli(['pull', camera.url(), '-o', '/dev/null', '--format', 'h264'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /^rtspkit: 454 Session Not Found: the server forgot the session/)
    } finally {
      await camera.stop()
    }
  })

  it('a hostile 1 GB Content-Length ends promptly with a limit error', async () => {
    const server = await startFakeServer((req, ctx) => {
      if (req.method === 'OPTIONS') ctx.reply(200)
      else ctx.write(`RTSP/1.0 200 OK\r\nCSeq: ${req.cseq}\r\nContent-Length: 1073741824\r\n\r\n` + 'x'.repeat(1000))
    })
    try {
      const client = new RtspClient({ timeoutMs: 3000 })
      await assert.rejects(client.pull(server.url('/x')), (e: unknown) => e instanceof LimitError)
    } finally {
      await server.stop()
    }
  })

  it('garbage instead of RTSP ends in a typed error within the timeout', async () => {
    const server = await startFakeServer((_req, ctx) => {
      ctx.write(Buffer.alloc(64 * 1024, 0x41))
    })
    try {
      const client = new RtspClient({ timeoutMs: 1500 })
      await assert.rejects(client.pull(server.url('/x')), (e: unknown) => e instanceof RtspError)
    } finally {
      await server.stop()
    }
  })
})

describe('camera quirks', () => {
  it('server-chosen channels, Content-Base without slash, relative control, garbage between frames, timestamps across the 32-bit wrap', async () => {
    const camera = await startFakeCamera({
      contentBase: (url) => url, // no trailing slash: control must still resolve to …/stream/trackID=1
      channels: () => [6, 7],
      garbageEvery: { frames: 7, bytes: Buffer.from('\r\n\0garbage\xff') },
    })
    try {
      const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url('/stream'))
      assert.equal(session.tracks[0]!.control, camera.url('/stream/trackID=1'))
      assert.deepEqual(session.tracks[0]!.transport.interleaved, [6, 7])
      assert.equal(session.tracks[0]!.details.width, 320)
      const frames: number[] = []
      let key = 0
      for await (const f of session.frames()) {
        frames.push(f.pts)
        if (f.keyFrame) key++
        if (frames.length >= 40) break
      }
      await session.close()
      assert.ok(key >= 1)
      // pts grows by 1/30 s per frame through the RTP timestamp wrap.
      for (let i = 1; i < frames.length; i++) assert.ok(Math.abs(frames[i]! - frames[i - 1]! - 1 / 30) < 0.002, `step ${i}`)
      assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
      const setup = camera.requests.find((r) => r.method === 'SETUP')!
      assert.equal(setup.url, camera.url('/stream/trackID=1'))
    } finally {
      await camera.stop()
    }
  })

  it('answers a request the server sends mid-session with 200', async () => {
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        if (req.method === 'PLAY') setTimeout(() => ctx.write('OPTIONS * RTSP/1.0\r\nCSeq: 900\r\n\r\n'), 100)
        return false
      },
    })
    try {
      const session = await new RtspClient().pull(camera.url())
      await collect(session, 15)
      await session.close()
      assert.match(camera.responses[0] ?? '', /^RTSP\/1\.0 200 OK\r\nCSeq: 900\r\n/)
    } finally {
      await camera.stop()
    }
  })

  it('keep-alive: GET_PARAMETER at half the Session timeout; an error reply does not end the stream', async () => {
    const camera = await startFakeCamera({
      session: '9ABCDEF;timeout=1',
      intercept: (req, ctx) => {
        if (req.method !== 'GET_PARAMETER') return false
        ctx.reply(405)
        return true
      },
    })
    try {
      const session = await new RtspClient().pull(camera.url())
      const warnings: string[] = []
      session.on('warning', (w) => warnings.push(w))
      await collect(session, 60) // 2 s at 30 fps
      await session.close()
      const keepAlives = camera.requests.filter((r) => r.method === 'GET_PARAMETER')
      assert.ok(keepAlives.length >= 2, `keep-alives: ${keepAlives.length}`)
      assert.equal(keepAlives[0]!.headers['session'], '9ABCDEF')
      assert.ok(warnings.some((w) => /keep-alive GET_PARAMETER failed: 405/.test(w)))
    } finally {
      await camera.stop()
    }
  })

  it('keep-alive falls back to OPTIONS when Public lacks GET_PARAMETER', async () => {
    const camera = await startFakeCamera({ session: '42;timeout=1', publicMethods: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN' })
    try {
      const session = await new RtspClient().pull(camera.url())
      await collect(session, 45)
      await session.close()
      assert.ok(camera.requests.filter((r) => r.method === 'OPTIONS').length >= 3)
      assert.equal(camera.requests.filter((r) => r.method === 'GET_PARAMETER').length, 0)
    } finally {
      await camera.stop()
    }
  })

  it('media that stops ends the session with a media TimeoutError, and frames() throws it', async () => {
    const camera = await startFakeCamera({ mediaFilter: (n) => n < 10 })
    try {
      const session = await new RtspClient({ readTimeoutMs: 700 }).pull(camera.url())
      await assert.rejects(collect(session, 1000), (e: unknown) => e instanceof TimeoutError && e.phase === 'media')
      const err = await session.closed
      assert.ok(err instanceof TimeoutError)
    } finally {
      await camera.stop()
    }
  })

  it('a session with no track we can consume is refused with a clear message', async () => {
    const camera = await startFakeCamera({
      sdp: () => defaultSdp().replace('H264/90000', 'VP9/90000'),
    })
    try {
      await assert.rejects(new RtspClient().pull(camera.url()), /no track rtspkit can receive \(offered: video VP9\)/)
    } finally {
      await camera.stop()
    }
  })

  it('a refused handshake, a timeout and a finished pull leave no handles behind', async () => {
    await new Promise((r) => setTimeout(r, 100)) // let earlier tests' sockets finish closing
    const before = handles()
    const camera = await startFakeCamera()
    const silent = await startFakeServer(() => {})
    const port = await freePort()
    try {
      const client = new RtspClient({ timeoutMs: 500 })
      await assert.rejects(client.pull(`rtsp://127.0.0.1:${port}/x`))
      await assert.rejects(client.pull(silent.url('/x')), TimeoutError)
      const s = await client.pull(camera.url())
      await collect(s, 5)
      await s.close()
      const s2 = await client.pull(camera.url(), { transport: 'tcp' })
      await s2.close()
      const notFound = await startFakeServer((req, ctx) => ctx.reply(req.method === 'OPTIONS' ? 200 : 404))
      await assert.rejects(client.pull(notFound.url('/x')), StatusError)
      await notFound.stop()
    } finally {
      await camera.stop()
      await silent.stop()
    }
    await new Promise((r) => setTimeout(r, 50))
    const now = handles()
    for (const [type, n] of Object.entries(now)) assert.ok(n <= (before[type] ?? 0), `${type}: ${n} now, ${before[type] ?? 0} before`)
  })
})
