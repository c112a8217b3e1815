/**
 * Diagnostics channels and NODE_DEBUG=rtspkit: subscribe to every channel, run a Digest-
 * authenticated pull against GStreamer's RTSP server, a lossy UDP pull from the scripted
 * camera, and a pull from RtspServer, and check what arrives — and that neither the password
 * nor an Authorization value ever does.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import diagnosticsChannel from 'node:diagnostics_channel'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { RtspClient, RtspServer, DIAGNOSTICS_CHANNELS } from '../../src/index.js'
import type {
  ClientRequestMessage,
  ClientResponseMessage,
  ClientSessionStateMessage,
  ClientTrackLossMessage,
  ClientTransportChangeMessage,
  ServerRequestMessage,
  ServerResponseMessage,
  ServerSessionMessage,
} from '../../src/index.js'
import { publishClientRequest, redactText } from '../../src/diagnostics.js'
import { Headers } from '../../src/rtsp/message.js'
import { startGstServer } from '../helpers/gst-server.js'
import { startFakeCamera } from '../helpers/fake-camera.js'
import { runCli } from '../helpers/cli.js'

const USER = 'diaguser'
// Characters that need percent-encoding in a URL, so both spellings are looked for.
const PASSWORD = 'Pw#diag:7/s3cret'
const SAMPLE = fileURLToPath(new URL('../../assets/sample.mp4', import.meta.url))

/** Subscribe to channels; every message is kept in arrival order. */
function record(names: readonly string[]) {
  const got = new Map<string, unknown[]>()
  const unsubscribe: Array<() => void> = []
  for (const name of names) {
    const list: unknown[] = []
    got.set(name, list)
    const fn = (msg: unknown) => list.push(msg)
    diagnosticsChannel.subscribe(name, fn)
    unsubscribe.push(() => diagnosticsChannel.unsubscribe(name, fn))
  }
  return {
    of<T>(name: string): T[] {
      return got.get(name) as T[]
    },
    all(): unknown[] {
      return [...got.values()].flat()
    },
    stop(): void {
      for (const u of unsubscribe) u()
    },
  }
}

/** Nothing secret anywhere in a text: password (raw or encoded), user info, Digest response. */
function assertNoSecrets(text: string): void {
  assert.ok(!text.includes(PASSWORD), 'the password appears')
  assert.ok(!text.includes(encodeURIComponent(PASSWORD)), 'the encoded password appears')
  assert.ok(!text.includes(`${USER}:`), 'user info appears')
  assert.doesNotMatch(text, /response\s*=/i, 'a Digest response appears')
  assert.doesNotMatch(text, /Basic [A-Za-z0-9+/=]{8,}/, 'Basic credentials appear')
}

/** `want` appears in `seq` in this order (other items may come between). */
function assertSubsequence(seq: readonly string[], want: readonly string[]): void {
  let i = 0
  for (const s of seq) if (s === want[i]) i++
  assert.equal(i, want.length, `expected ${want.join(' → ')} within ${seq.join(' → ')}`)
}

const CLIENT_CHANNELS = [
  DIAGNOSTICS_CHANNELS.clientRequest,
  DIAGNOSTICS_CHANNELS.clientResponse,
  DIAGNOSTICS_CHANNELS.clientSessionState,
  DIAGNOSTICS_CHANNELS.clientTrackLoss,
  DIAGNOSTICS_CHANNELS.clientTransportChange,
]
const SERVER_CHANNELS = [DIAGNOSTICS_CHANNELS.serverRequest, DIAGNOSTICS_CHANNELS.serverResponse, DIAGNOSTICS_CHANNELS.serverSession]

describe('diagnostics channels', () => {
  it('channel names', () => {
    assert.deepEqual(Object.values(DIAGNOSTICS_CHANNELS).sort(), [
      'rtspkit:client:request',
      'rtspkit:client:response',
      'rtspkit:client:session:state',
      'rtspkit:client:track:loss',
      'rtspkit:client:transport:change',
      'rtspkit:server:request',
      'rtspkit:server:response',
      'rtspkit:server:session',
    ])
  })

  it('nothing is built when nobody subscribes', () => {
    assert.equal(diagnosticsChannel.hasSubscribers(DIAGNOSTICS_CHANNELS.clientRequest), false)
    // Headers that throw when read: publishing must not even look at them.
    const headers = new Proxy(new Headers(), {
      get() {
        throw new Error('headers were read with nobody listening')
      },
    })
    publishClientRequest({}, 'h', 554, 'OPTIONS', 'rtsp://u:p@h/x', 1, headers, undefined)
  })

  it('redactText removes user info from every URL in a text', () => {
    assert.equal(
      redactText('a=control:rtsp://admin:pw@10.0.0.1/track1\r\nContent-Base: rtsps://u@cam/x/ and http://a:b@h/'),
      'a=control:rtsp://10.0.0.1/track1\r\nContent-Base: rtsps://cam/x/ and http://h/',
    )
  })

  it('a Digest pull from GStreamer: requests, replies, states and transport arrive; no secret does', { timeout: 60_000 }, async (t) => {
    const server = await startGstServer({ user: USER, password: PASSWORD })
    t.after(() => server.stop())
    const rec = record(CLIENT_CHANNELS)
    t.after(() => rec.stop())

    const session = await new RtspClient({ transport: 'auto' }).pull(server.url('/h264'))
    let frames = 0
    for await (const _ of session.frames()) if (++frames >= 10) break
    await session.close()
    rec.stop()

    const base = server.url('/h264', false)
    const requests = rec.of<ClientRequestMessage>(DIAGNOSTICS_CHANNELS.clientRequest)
    const responses = rec.of<ClientResponseMessage>(DIAGNOSTICS_CHANNELS.clientResponse)
    assertSubsequence(
      requests.map((r) => r.method),
      ['OPTIONS', 'DESCRIBE', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'],
    )
    for (const r of requests) {
      assert.ok(r.url.startsWith(base.replace(/\/h264$/, '')), r.url)
      assert.equal(r.host, '127.0.0.1')
      assert.equal(r.port, server.port)
      assert.equal(r.headers.CSeq, String(r.cseq))
    }
    // GStreamer challenges DESCRIBE, not OPTIONS: the first DESCRIBE goes without, the retry with.
    const describes = requests.filter((r) => r.method === 'DESCRIBE')
    assert.equal(describes[0]!.headers.Authorization, undefined)
    assert.equal(describes[1]!.headers.Authorization, 'Digest <redacted>')
    assert.equal(requests.find((r) => r.method === 'PLAY')!.headers.Authorization, 'Digest <redacted>')

    const describeReplies = responses.filter((r) => r.method === 'DESCRIBE')
    assert.deepEqual(
      describeReplies.map((r) => r.status),
      [401, 200],
    )
    assert.match(String(describeReplies[0]!.headers['WWW-Authenticate']), /^Digest /)
    assert.match(describeReplies[1]!.body ?? '', /^v=0/)
    assert.match(describeReplies[1]!.body ?? '', /m=video \d+ RTP\/AVP 96/)
    assert.equal(describeReplies[1]!.bodyLength, Buffer.byteLength(describeReplies[1]!.body!))
    for (const res of responses) {
      const req = requests.find((r) => r.connectionId === res.connectionId && r.cseq === res.cseq)
      assert.ok(req, `reply ${res.cseq} pairs with a request`)
      assert.equal(res.method, req.method)
      assert.ok(res.durationMs >= 0 && res.durationMs < 10_000)
    }

    const states = rec.of<ClientSessionStateMessage>(DIAGNOSTICS_CHANNELS.clientSessionState).filter((s) => s.kind === 'pull')
    assertSubsequence(
      states.map((s) => s.to),
      ['describing', 'setting-up', 'starting', 'playing', 'closing', 'closed'],
    )
    for (const s of states) assert.equal(s.url, base)
    // The session that played last (with auto, a UDP attempt may have come first).
    const playing = states.filter((s) => s.to === 'playing').at(-1)!
    const stats = playing.stats!() as Array<{ packetsReceived: number }>
    assert.ok(stats[0]!.packetsReceived > 0, 'stats() reads the live session')

    const transports = rec.of<ClientTransportChangeMessage>(DIAGNOSTICS_CHANNELS.clientTransportChange)
    assert.deepEqual(transports[0], { sessionId: transports[0]!.sessionId, url: base, from: undefined, to: 'udp', reason: 'auto: UDP first' })

    assertNoSecrets(JSON.stringify(rec.all()))
  })

  it('RTP loss over UDP arrives on rtspkit:client:track:loss, one message per gap', { timeout: 30_000 }, async (t) => {
    // The scripted camera drops RTP packets 40 and 41 (one gap of two).
    const camera = await startFakeCamera({ udpFilter: (i) => i !== 40 && i !== 41 })
    t.after(() => camera.stop())
    const rec = record(CLIENT_CHANNELS)
    t.after(() => rec.stop())
    const session = await new RtspClient({ transport: 'udp' }).pull(camera.url())
    let frames = 0
    for await (const _ of session.frames()) if (++frames >= 60) break
    const [stats] = session.stats()
    await session.close()
    rec.stop()

    const losses = rec.of<ClientTrackLossMessage>(DIAGNOSTICS_CHANNELS.clientTrackLoss)
    assert.equal(losses.length, 1, JSON.stringify(losses))
    const loss = losses[0]!
    assert.equal(loss.lost, 2)
    assert.equal((loss.sequenceNumber - loss.expectedSequenceNumber) & 0xffff, 2)
    assert.equal(loss.trackIndex, 0)
    assert.equal(loss.codec, 'H264')
    assert.equal(loss.url, camera.url())
    assert.ok(loss.control.startsWith(camera.url()))
    assert.equal(stats!.packetsLost, 2)
    const sessionIds = new Set(rec.of<ClientSessionStateMessage>(DIAGNOSTICS_CHANNELS.clientSessionState).map((s) => s.sessionId))
    assert.ok(sessionIds.has(loss.sessionId), 'the loss names the session whose states were published')
  })

  it('a supervisor that loses its server: playing -> waiting with the error, then closed', { timeout: 30_000 }, async (t) => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, log: () => {} })
    t.after(() => server.close())
    await server.addFile('cam', SAMPLE)
    const { port } = await server.listen()
    const rec = record([DIAGNOSTICS_CHANNELS.clientSessionState])
    t.after(() => rec.stop())
    const url = `rtsp://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/cam`
    const supervisor = await new RtspClient({ transport: 'tcp' }).supervise(url, { reconnect: { initialDelayMs: 50, maxDelayMs: 100 } })
    await server.close()
    const states = () => rec.of<ClientSessionStateMessage>(DIAGNOSTICS_CHANNELS.clientSessionState).filter((m) => m.kind === 'supervisor')
    for (const started = Date.now(); !states().some((m) => m.to === 'waiting') && Date.now() - started < 10_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    await supervisor.close()
    rec.stop()
    const seen = states()
    assertSubsequence(
      seen.map((m) => m.to),
      ['playing', 'waiting', 'closed'],
    )
    const waiting = seen.find((m) => m.to === 'waiting')!
    assert.equal(waiting.from, 'playing')
    assert.ok(waiting.reason !== undefined && waiting.reason.length > 0, 'the error that ended the pull')
    assert.equal(waiting.url, `rtsp://127.0.0.1:${port}/cam`)
    assertNoSecrets(JSON.stringify(rec.all()))
  })

  it('RtspServer with Digest: requests, replies and session open/close arrive; no secret does', { timeout: 30_000 }, async (t) => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, credentials: { username: USER, password: PASSWORD }, log: () => {} })
    t.after(() => server.close())
    await server.addFile('cam', SAMPLE)
    const { port } = await server.listen()
    const rec = record(SERVER_CHANNELS)
    t.after(() => rec.stop())

    const url = `rtsp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/cam`
    const ended = once(server, 'session-end')
    const session = await new RtspClient({ transport: 'tcp' }).pull(url)
    let frames = 0
    // Leaving the loop closes the session (TEARDOWN).
    for await (const _ of session.frames()) if (++frames >= 5) break
    await session.close()
    await ended
    rec.stop()

    const requests = rec.of<ServerRequestMessage>(DIAGNOSTICS_CHANNELS.serverRequest)
    const responses = rec.of<ServerResponseMessage>(DIAGNOSTICS_CHANNELS.serverResponse)
    assertSubsequence(
      requests.map((r) => r.method),
      ['OPTIONS', 'DESCRIBE', 'DESCRIBE', 'SETUP', 'PLAY', 'TEARDOWN'],
    )
    for (const r of requests) {
      assert.equal(r.remoteAddress, '127.0.0.1')
      assert.ok(r.remotePort > 0)
      assert.ok(!r.url.includes('@'), r.url)
    }
    const authorized = requests.filter((r) => r.headers.Authorization !== undefined)
    assert.ok(authorized.length >= 4, 'the client authenticated DESCRIBE, SETUP, PLAY, TEARDOWN')
    for (const r of authorized) assert.equal(r.headers.Authorization, 'Digest <redacted>')

    const unauthorized = responses.find((r) => r.status === 401)
    assert.ok(unauthorized, 'a 401 went out')
    assert.ok(unauthorized.headers['WWW-Authenticate'])
    const describe200 = responses.find((r) => r.method === 'DESCRIBE' && r.status === 200)
    assert.match(describe200?.body ?? '', /m=video/)
    assert.equal(describe200?.headers['Content-Type'], 'application/sdp')
    for (const res of responses) {
      assert.ok(requests.some((r) => r.connectionId === res.connectionId && r.cseq === res.cseq && r.method === res.method))
    }

    const sessions = rec.of<ServerSessionMessage>(DIAGNOSTICS_CHANNELS.serverSession)
    assert.deepEqual(
      sessions.map((s) => [s.event, s.role, s.path, s.transport]),
      [
        ['open', 'reader', 'cam', 'tcp'],
        ['close', 'reader', 'cam', 'tcp'],
      ],
    )
    assert.equal(sessions[0]!.sessionId, sessions[1]!.sessionId)
    assert.ok(sessions[1]!.reason)

    assertNoSecrets(JSON.stringify(rec.all()))
  })

  it('NODE_DEBUG=rtspkit prints requests and replies with their headers, redacted (rtspkit probe)', { timeout: 30_000 }, async (t) => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, credentials: { username: USER, password: PASSWORD }, log: () => {} })
    t.after(() => server.close())
    await server.addFile('cam', SAMPLE)
    const { port } = await server.listen()
    const url = `rtsp://${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/cam`
    const r = await runCli(['probe', url, '--transport', 'tcp'], { env: { NODE_DEBUG: 'rtspkit' } })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /RTSPKIT \d+: client #\d+ > DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/cam\n {2}CSeq: \d+/)
    assert.match(r.stderr, /RTSPKIT \d+: client #\d+ < 401 Unauthorized \(DESCRIBE, [\d.]+ ms\)/)
    assert.match(r.stderr, /\n {2}Authorization: Digest <redacted>\n/)
    assert.match(r.stderr, /pull session \d+ transport tcp \(asked for tcp\)/)
    assert.match(r.stderr, /pull session \d+ rtsp:\/\/127\.0\.0\.1:\d+\/cam: starting -> playing/)
    assertNoSecrets(r.stderr + r.stdout)
  })
})
