/**
 * The embedded server (issue #5) as rtspkit's own client and raw sockets see it: auth,
 * every method and its error statuses, session expiry, publishers coming and going,
 * hostile clients, the push → server → pull round trip (issue #4), and close().
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import * as dgram from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import v8 from 'node:v8'
import vm from 'node:vm'
import { RtspClient } from '../../src/client/client.js'
import type { PullSession } from '../../src/client/pull-session.js'
import { H264NalType, nalType } from '../../src/codec/h264-nal.js'
import { AuthError, RtspError, StatusError } from '../../src/errors.js'
import { H264Packetizer } from '../../src/formats/h264/packetizer.js'
import { h264MediaDescription } from '../../src/formats/h264/sdp.js'
import { openFileSource, paceFrames, type SourceFrame } from '../../src/input/file-source.js'
import { parseRtpPacket } from '../../src/rtp/packet.js'
import { writeSdp } from '../../src/sdp/write.js'
import { RtspServer, type RtspServerOptions, type ServerSessionInfo } from '../../src/server/index.js'
import { h264PayloadHasKey } from '../../src/server/keyframe.js'
import type { Frame } from '../../src/client/track.js'
import { REPO_ROOT, runProcess } from '../helpers/cli.js'
import { makeFixtureClip, type FixtureClip } from '../helpers/media-fixture.js'
import { RawRtspClient } from '../helpers/raw-rtsp-client.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

const SAMPLE = join(REPO_ROOT, 'assets/sample.mp4')
const USER = 'admin'
const PASSWORD = 'Sup3r-S3cret'

interface Started {
  server: RtspServer
  logs: string[]
  ends: Array<{ info: ServerSessionInfo; reason: string }>
  starts: ServerSessionInfo[]
}

/** A server on 127.0.0.1 port 0 serving the sample clip at /demo (unless files says otherwise), stopped after the test. */
async function startServer(t: TestContext, opts: RtspServerOptions = {}, files: Record<string, string> = { demo: SAMPLE }): Promise<Started> {
  const logs: string[] = []
  const server = new RtspServer({ host: '127.0.0.1', port: 0, log: (l) => logs.push(l), ...opts })
  t.after(() => server.close())
  for (const [path, file] of Object.entries(files)) await server.addFile(path, file)
  await server.listen()
  const ends: Started['ends'] = []
  const starts: ServerSessionInfo[] = []
  server.on('session-end', (info, reason) => ends.push({ info, reason }))
  server.on('session-start', (info) => starts.push(info))
  return { server, logs, ends, starts }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The next `n` frames of a session (its first ones on the first call: frames that came with
 * the PLAY reply are held for the first 'frame' listener). Read through 'frame' events, so
 * the session stays open: leaving `for await` over frames() would close it.
 */
function takeFrames(session: PullSession, n: number): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const out: Frame[] = []
    let done = false
    const onFrame = (f: Frame): void => {
      if (done) return
      out.push({ ...f, data: f.data.map((d) => Buffer.from(d)) })
      if (out.length < n) return
      done = true
      session.off('frame', onFrame)
      resolve(out)
    }
    session.on('frame', onFrame)
    void session.closed.then((err) => {
      if (done) return
      done = true
      session.off('frame', onFrame)
      reject(new Error(`the session ended after ${out.length} of ${n} frames: ${err?.message ?? 'closed'}`))
    })
  })
}

function withCredentials(url: string, password = PASSWORD): string {
  return url.replace('rtsp://', `rtsp://${USER}:${encodeURIComponent(password)}@`)
}

/**
 * A TCP relay that removes the Digest challenge from the server's 401 replies, so that a
 * client that prefers Digest has to answer with Basic; it records the schemes sent.
 */
async function basicOnlyProxy(t: TestContext, port: number): Promise<{ port: number; schemes: string[] }> {
  const schemes: string[] = []
  const sockets = new Set<net.Socket>()
  const proxy = net.createServer((down) => {
    const up = net.connect(port, '127.0.0.1')
    for (const s of [up, down]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        up.destroy()
        down.destroy()
      })
    }
    down.on('data', (d: Buffer) => {
      for (const m of d.toString('latin1').matchAll(/^Authorization: *(\S+)/gim)) schemes.push(m[1]!)
      up.write(d)
    })
    up.on('data', (d: Buffer) => {
      const text = d.toString('latin1')
      down.write(text.startsWith('RTSP/1.0 401') ? Buffer.from(text.replace(/^WWW-Authenticate: *Digest[^\r\n]*\r\n/gim, ''), 'latin1') : d)
    })
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  t.after(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => proxy.close(() => r()))
  })
  return { port: (proxy.address() as net.AddressInfo).port, schemes }
}

/** Two UDP sockets standing for a client's RTP/RTCP ports; counts what arrives. */
async function udpPorts(t: TestContext): Promise<{ ports: [number, number]; rtp: Buffer[] }> {
  const rtp: Buffer[] = []
  const sockets = [dgram.createSocket('udp4'), dgram.createSocket('udp4')]
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', r))))
  sockets[0]!.on('message', (m) => rtp.push(m))
  t.after(() => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))))
  return { ports: [sockets[0]!.address().port, sockets[1]!.address().port], rtp }
}

/** DESCRIBE + SETUP the video track (trackID=0) of /demo; returns the session id. */
async function setupVideo(c: RawRtspClient, base: string, transport: string): Promise<string> {
  const d = await c.request('DESCRIBE', base, { Accept: 'application/sdp' })
  assert.equal(d.status, 200)
  const s = await c.request('SETUP', `${base}/trackID=0`, { Transport: transport })
  assert.equal(s.status, 200, `SETUP: ${s.status} ${s.reason}`)
  assert.match(s.headers['session'] ?? '', /;timeout=\d+/)
  return s.headers['session']!.split(';')[0]!
}

let fixture: FixtureClip
let dir: string
before(async () => {
  fixture = await makeFixtureClip({ seconds: 2, gop: 10, fps: 25 })
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-server-'))
  // B-frames: decode order differs from presentation order, timestamps go back and forth.
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=44100',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '3', '-g', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(dir, 'bf.mp4')])
})
after(() => rmSync(dir, { recursive: true, force: true }))

// ---------------------------------------------------------------------------------------

describe('auth', () => {
  it('Digest from rtspkit, the password never in a log line', async (t) => {
    const { server, logs } = await startServer(t, { credentials: { username: USER, password: PASSWORD } })
    const session = await new RtspClient({ transport: 'tcp' }).pull(withCredentials(server.url('demo')))
    t.after(() => session.close())
    const frames = await takeFrames(session, 5)
    assert.equal(frames.length, 5)
    await session.close()
    assert.ok(logs.length > 0)
    for (const l of logs) assert.ok(!l.includes(PASSWORD) && !l.includes('S3cret'), l)
  })

  it('Basic from rtspkit when the challenge offers only Basic', async (t) => {
    const { server, logs } = await startServer(t, { credentials: { username: USER, password: PASSWORD } })
    const proxy = await basicOnlyProxy(t, server.port)
    const session = await new RtspClient({ transport: 'tcp' }).pull(withCredentials(`rtsp://127.0.0.1:${proxy.port}/demo`))
    t.after(() => session.close())
    assert.equal((await takeFrames(session, 3)).length, 3)
    await session.close()
    assert.ok(proxy.schemes.length >= 3, `Authorization headers: ${proxy.schemes.join(', ')}`)
    assert.ok(proxy.schemes.every((s) => s === 'Basic'), proxy.schemes.join(', '))
    for (const l of logs) assert.ok(!l.includes('S3cret'), l)
  })

  it('ffprobe with user:pass@ in the URL', async (t) => {
    const { server, logs } = await startServer(t, { credentials: { username: USER, password: PASSWORD } })
    const r = await runProcess('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', withCredentials(server.url('demo'))], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    const codecs = (JSON.parse(r.stdout) as { streams: Array<{ codec_name: string }> }).streams.map((s) => s.codec_name).sort()
    assert.deepEqual(codecs, ['aac', 'h264'])
    for (const l of logs) assert.ok(!l.includes('S3cret'), l)
  })

  it('a wrong password is an AuthError, logged without the password', async (t) => {
    const { server, logs } = await startServer(t, { credentials: { username: USER, password: PASSWORD } })
    const wrong = 'Wr0ng-Guess'
    const err = await new RtspClient({ transport: 'tcp', timeoutMs: 5000 }).pull(withCredentials(server.url('demo'), wrong)).then(
      () => assert.fail('should be refused'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof AuthError, String(err))
    assert.equal(err.code, 'RTSP_ERR_AUTH')
    assert.equal(err.hadCredentials, true)
    const none = await new RtspClient({ transport: 'tcp', timeoutMs: 5000 }).pull(server.url('demo')).then(
      () => assert.fail('should be refused'),
      (e: unknown) => e,
    )
    assert.ok(none instanceof AuthError && none.hadCredentials === false, String(none))
    assert.ok(logs.some((l) => /authentication failed \(bad-password\)/.test(l)), logs.join('\n'))
    for (const l of logs) assert.ok(!l.includes(wrong) && !l.includes('Guess') && !l.includes('S3cret'), l)
  })

  it('OPTIONS needs no credentials; DESCRIBE is challenged with Digest and Basic', async (t) => {
    const { server, logs } = await startServer(t, { credentials: { username: USER, password: PASSWORD } })
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const o = await c.request('OPTIONS', server.url('demo'))
    assert.equal(o.status, 200)
    assert.match(o.headers['public'] ?? '', /DESCRIBE/)
    const d = await c.request('DESCRIBE', server.url('demo'))
    assert.equal(d.status, 401)
    const schemes = (d.all['www-authenticate'] ?? []).map((v) => v.split(' ')[0]!.toLowerCase())
    assert.deepEqual(schemes, ['digest', 'basic'])
    assert.equal(d.body.length, 0)
    // Credentials in a request URL the server cannot parse stay out of its log.
    const bad = await c.request('DESCRIBE', `rtsp://${USER}:${PASSWORD}@[::1/demo`)
    assert.equal(bad.status, 400)
    assert.ok(logs.some((l) => l.includes('bad request URL')), logs.join('\n'))
    for (const l of logs) assert.ok(!l.includes('S3cret'), l)
    // A Basic header answered by hand works on the same connection.
    const ok = await c.request('DESCRIBE', server.url('demo'), { Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` })
    assert.equal(ok.status, 200)
    assert.match(ok.body.toString(), /^v=0/)
  })

  it('an authorize hook that says no is a 403 (StatusError) for read and publish', async (t) => {
    const asked: Array<{ path: string; action: string; user: string | undefined }> = []
    const { server } = await startServer(t, {
      credentials: { username: USER, password: PASSWORD },
      authorize: ({ path, action, user }) => {
        asked.push({ path, action, user })
        return path === 'demo'
      },
    }, { demo: SAMPLE, secret: SAMPLE })
    const client = new RtspClient({ transport: 'tcp', timeoutMs: 5000 })
    const err = await client.pull(withCredentials(server.url('secret'))).then(() => assert.fail('should be forbidden'), (e: unknown) => e)
    assert.ok(err instanceof StatusError && !(err instanceof AuthError), String(err))
    assert.equal(err.status, 403)
    const pushErr = await client.push(withCredentials(server.url('mine')), fixture.tracks).then(() => assert.fail('should be forbidden'), (e: unknown) => e)
    assert.ok(pushErr instanceof StatusError && pushErr.status === 403, String(pushErr))
    const session = await client.pull(withCredentials(server.url('demo')))
    await session.close()
    assert.ok(asked.some((a) => a.path === 'secret' && a.action === 'read' && a.user === USER))
    assert.ok(asked.some((a) => a.path === 'mine' && a.action === 'publish' && a.user === USER))
    assert.ok(asked.some((a) => a.path === 'demo' && a.action === 'read'))
  })
})

// ---------------------------------------------------------------------------------------

describe('methods', () => {
  it('OPTIONS lists every method; DESCRIBE answers the SDP or 404', async (t) => {
    const { server } = await startServer(t)
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const o = await c.request('OPTIONS', '*')
    assert.equal(o.status, 200)
    assert.equal(o.headers['cseq'], '1')
    const methods = (o.headers['public'] ?? '').split(',').map((m) => m.trim())
    for (const m of ['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER', 'ANNOUNCE', 'RECORD']) assert.ok(methods.includes(m), `${m} in ${o.headers['public']}`)
    const d = await c.request('DESCRIBE', server.url('demo'), { Accept: 'application/sdp' })
    assert.equal(d.status, 200)
    assert.equal(d.headers['content-type'], 'application/sdp')
    assert.equal(d.headers['content-base'], `${server.url('demo')}/`)
    assert.match(d.body.toString(), /m=video .*\r\n[^]*a=control:trackID=0[^]*m=audio [^]*a=control:trackID=1/)
    const nf = await c.request('DESCRIBE', server.url('nope'))
    assert.equal(nf.status, 404)
    const nf2 = await c.request('SETUP', `${server.url('nope')}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })
    assert.equal(nf2.status, 404)
  })

  it('SETUP without Transport is 400, multicast or SAVP only is 461; PLAY without a session is 454; unknown method is 501', async (t) => {
    const { server } = await startServer(t)
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const track = `${server.url('demo')}/trackID=0`
    assert.equal((await c.request('SETUP', track)).status, 400)
    assert.equal((await c.request('SETUP', track, { Transport: 'RTP/AVP;multicast;port=5000-5001' })).status, 461)
    assert.equal((await c.request('SETUP', track, { Transport: 'RTP/AVP/UDP;multicast;destination=239.1.2.3;port=5000-5001' })).status, 461)
    assert.equal((await c.request('SETUP', track, { Transport: 'RTP/SAVP;unicast;client_port=5000-5001' })).status, 461)
    assert.equal((await c.request('PLAY', server.url('demo'))).status, 454)
    assert.equal((await c.request('PLAY', server.url('demo'), { Session: 'deadbeef' })).status, 454)
    assert.equal((await c.request('PAUSE', server.url('demo'))).status, 454)
    assert.equal((await c.request('RECORD', server.url('demo'))).status, 454)
    const u = await c.request('FLY', server.url('demo'))
    assert.equal(u.status, 501)
    assert.equal(u.headers['cseq'], String(c.replies.length))
    // The connection is still good after every refusal.
    assert.equal((await c.request('OPTIONS', '*')).status, 200)
    assert.equal(c.isClosed, false)
  })

  it('PAUSE stops the media; PLAY resumes it at a key frame', async (t) => {
    const { server } = await startServer(t)
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const base = server.url('demo')
    const session = await setupVideo(c, base, 'RTP/AVP/TCP;unicast;interleaved=0-1')
    const play = await c.request('PLAY', base, { Session: session, Range: 'npt=0.000-' })
    assert.equal(play.status, 200)
    assert.match(play.headers['rtp-info'] ?? '', /url=.*trackID=0;.*rtptime=\d+/)
    const afterPlay = c.replies.length
    await waitFor(() => c.framesAfter(afterPlay, 0).length >= 30, '30 video packets')
    // The first packet a reader gets starts a key frame.
    assert.ok(h264PayloadHasKey(parseRtpPacket(c.framesAfter(afterPlay, 0)[0]!.payload)!.payload))

    const pause = await c.request('PAUSE', base, { Session: session })
    assert.equal(pause.status, 200)
    const afterPause = c.replies.length
    await sleep(1500) // longer than the clip's GOP: a key frame would have come
    assert.equal(c.framesAfter(afterPause, 0).length, 0, 'no media after the PAUSE reply')

    assert.equal((await c.request('PLAY', base, { Session: session })).status, 200)
    const resumed = c.replies.length
    await waitFor(() => c.framesAfter(resumed, 0).length >= 10, 'media after the second PLAY')
    const first = parseRtpPacket(c.framesAfter(resumed, 0)[0]!.payload)!
    assert.ok(h264PayloadHasKey(first.payload), `resumed at NAL type ${first.payload[0]! & 0x1f}`)
    // Sequence numbers go on (no reset): the stream is one shared timeline.
    const last = parseRtpPacket(c.framesAfter(afterPlay, 0).at(-1)!.payload)!
    assert.ok(first.timestamp !== last.timestamp)
  })

  it('TEARDOWN ends the session (session-end event); the session is gone afterwards', async (t) => {
    const { server, ends, starts } = await startServer(t)
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const base = server.url('demo')
    const session = await setupVideo(c, base, 'RTP/AVP/TCP;unicast;interleaved=0-1')
    assert.equal((await c.request('PLAY', base, { Session: session })).status, 200)
    await waitFor(() => starts.length === 1, 'session-start')
    assert.deepEqual({ ...starts[0]!, remoteAddress: undefined }, { id: session, role: 'reader', path: 'demo', remoteAddress: undefined, protocol: 'tcp' })
    assert.equal((await c.request('TEARDOWN', base, { Session: session })).status, 200)
    await waitFor(() => ends.length === 1, 'session-end')
    assert.equal(ends[0]!.info.id, session)
    assert.equal(ends[0]!.reason, 'teardown')
    const afterTeardown = c.replies.length
    assert.equal((await c.request('PLAY', base, { Session: session })).status, 454)
    await sleep(300)
    assert.equal(c.framesAfter(afterTeardown).length, 0)

    // rtspkit's client: close() sends TEARDOWN and the server sees it.
    const pull = await new RtspClient({ transport: 'udp' }).pull(base)
    await takeFrames(pull, 3)
    await pull.close()
    await waitFor(() => ends.length === 2, 'session-end of the rtspkit client')
    assert.equal(ends[1]!.reason, 'teardown')
    assert.equal(ends[1]!.info.protocol, 'udp')
  })
})

// ---------------------------------------------------------------------------------------

describe('session timeout', () => {
  it('a silent UDP reader expires; one that sends GET_PARAMETER and rtspkit\'s client do not', async (t) => {
    const { server, ends, logs } = await startServer(t, { sessionTimeoutS: 2 })
    const base = server.url('demo')

    const silentPorts = await udpPorts(t)
    const silent = await RawRtspClient.connect(server.port)
    t.after(() => silent.destroy())
    const silentId = await setupVideo(silent, base, `RTP/AVP;unicast;client_port=${silentPorts.ports[0]}-${silentPorts.ports[1]}`)
    assert.equal((await silent.request('PLAY', base, { Session: silentId })).status, 200)

    const aliveUdp = await udpPorts(t)
    const alive = await RawRtspClient.connect(server.port)
    t.after(() => alive.destroy())
    const aliveId = await setupVideo(alive, base, `RTP/AVP;unicast;client_port=${aliveUdp.ports[0]}-${aliveUdp.ports[1]}`)
    assert.equal((await alive.request('PLAY', base, { Session: aliveId })).status, 200)
    let keepAlive = true
    const keepAliveLoop = (async () => {
      while (keepAlive) {
        const r = await alive.request('GET_PARAMETER', base, { Session: aliveId })
        assert.equal(r.status, 200)
        assert.match(r.headers['session'] ?? '', new RegExp(`^${aliveId};timeout=2$`))
        await sleep(400)
      }
    })()
    t.after(() => {
      keepAlive = false
    })

    const pull = await new RtspClient({ transport: 'udp' }).pull(base)
    t.after(() => pull.close())
    let pulled = 0
    pull.on('frame', () => pulled++)

    await waitFor(() => silentPorts.rtp.length > 0, 'RTP to the silent reader')
    await waitFor(() => ends.some((e) => e.info.id === silentId), 'the silent session to expire', 20_000)
    assert.match(ends.find((e) => e.info.id === silentId)!.reason, /no request or RTCP for 2 s/)
    assert.ok(logs.some((l) => l.includes(silentId) && l.includes('ended')))
    const received = silentPorts.rtp.length
    // Well past the timeout again: the others are still served.
    const pulledBefore = pulled
    const aliveBefore = aliveUdp.rtp.length
    await sleep(4500)
    assert.deepEqual(ends.map((e) => e.info.id), [silentId])
    assert.ok(pulled > pulledBefore, 'rtspkit client still gets frames')
    assert.ok(aliveUdp.rtp.length > aliveBefore, 'the GET_PARAMETER reader still gets packets')
    assert.ok(silentPorts.rtp.length - received < 50, 'the expired reader gets no more media')
    // The expired session is gone for good, and its idle connection with it.
    await Promise.race([silent.closed, sleep(10_000).then(() => assert.fail('the silent connection was kept open'))])
    const late = await RawRtspClient.connect(server.port)
    t.after(() => late.destroy())
    assert.equal((await late.request('GET_PARAMETER', base, { Session: silentId })).status, 454)
    assert.equal((await late.request('PLAY', base, { Session: silentId })).status, 454)
    assert.equal((await late.request('GET_PARAMETER', base)).status, 200)
    keepAlive = false
    await keepAliveLoop
    await pull.close()
  })
})

// ---------------------------------------------------------------------------------------

/** Publish the fixture clip in a loop, paced at real time, until stopped. */
function publishLoop(write: (f: { trackIndex: number; pts: number; keyFrame: boolean; data: readonly Buffer[] }) => Promise<void> | void): { stop: () => Promise<void>; error: () => unknown } {
  let stopped = false
  let failure: unknown
  const done = (async () => {
    const t0 = performance.now()
    for (let loop = 0; !stopped; loop++) {
      for (const f of fixture.frames) {
        if (stopped) return
        const pts = f.pts + loop * 2
        const wait = t0 + pts * 1000 - performance.now()
        if (wait > 1) await sleep(wait)
        try {
          await write({ trackIndex: f.trackIndex, pts, keyFrame: f.keyFrame, data: f.data })
        } catch (err) {
          failure = err
          return
        }
      }
    }
  })()
  return {
    stop: async () => {
      stopped = true
      await done
    },
    error: () => failure,
  }
}

/** A publisher over a raw socket: ANNOUNCE, SETUP (record, interleaved), RECORD, then H.264 packets from the fixture. */
async function rawPublisher(t: TestContext, port: number, url: string): Promise<{ c: RawRtspClient; loop: ReturnType<typeof publishLoop> }> {
  const c = await RawRtspClient.connect(port)
  t.after(() => c.destroy())
  const sdp = writeSdp({ sessionName: 'raw', media: [h264MediaDescription({ payloadType: 96, control: 'streamid=0', sps: fixture.sps, pps: fixture.pps })] })
  assert.equal((await c.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, sdp)).status, 200)
  const setup = await c.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' })
  assert.equal(setup.status, 200)
  const session = setup.headers['session']!.split(';')[0]!
  assert.equal((await c.request('RECORD', url, { Session: session, Range: 'npt=0.000-' })).status, 200)
  const packetizer = new H264Packetizer({ payloadType: 96, ssrc: 0x1234, mtu: 1400 })
  const loop = publishLoop((f) => {
    if (f.trackIndex !== 0) return
    for (const p of packetizer.packetize({ data: f.data, rtpTimestamp: Math.round(f.pts * 90000) >>> 0 })) {
      const frame = Buffer.allocUnsafe(4 + p.length)
      frame[0] = 0x24
      frame[1] = 0
      frame.writeUInt16BE(p.length, 2)
      p.copy(frame, 4)
      c.write(frame)
    }
  })
  t.after(() => loop.stop())
  return { c, loop }
}

describe('publishing', () => {
  it('ANNOUNCE to a path already served (file, API, pulled source, another publisher) is refused with 455 and a reason naming the source', async (t) => {
    const { server } = await startServer(t)
    server.publish('api', fixture.tracks)
    // A pulled source: this server's own file stream, pulled once and re-served.
    await server.addPull('relay', server.url('demo'), { transport: 'tcp' })
    const client = new RtspClient({ transport: 'tcp', timeoutMs: 5000 })
    const refusedPush = async (path: string): Promise<StatusError> => {
      const err = await client.push(server.url(path), fixture.tracks).then(() => assert.fail(`push to ${path} should be refused`), (e: unknown) => e)
      assert.ok(err instanceof StatusError, String(err))
      assert.equal(err.status, 455, `${path}: ${String(err)}`)
      return err
    }
    for (const [path, source] of [['demo', 'a file'], ['api', 'the application'], ['relay', 'a pulled source']]) {
      const err = await refusedPush(path!)
      assert.equal(err.reason, `Method Not Valid in This State: path /${path} is served from ${source}`)
      assert.match(err.message, new RegExp(`path /${path} is served from ${source}`))
    }
    const first = await client.push(server.url('live'), fixture.tracks)
    t.after(() => first.close())
    assert.match((await refusedPush('live')).reason, /path \/live is served from another publisher$/)
    // A raw ANNOUNCE that another connection has announced but not yet recorded is refused too.
    const a = await RawRtspClient.connect(server.port)
    const b = await RawRtspClient.connect(server.port)
    t.after(() => {
      a.destroy()
      b.destroy()
    })
    const sdp = writeSdp({ sessionName: 'raw', media: [h264MediaDescription({ payloadType: 96, control: 'streamid=0', sps: fixture.sps, pps: fixture.pps })] })
    assert.equal((await a.request('ANNOUNCE', server.url('pending'), { 'Content-Type': 'application/sdp' }, sdp)).status, 200)
    const pending = await b.request('ANNOUNCE', server.url('pending'), { 'Content-Type': 'application/sdp' }, sdp)
    assert.deepEqual([pending.status, pending.reason], [455, 'Method Not Valid in This State: path /pending is being announced by another publisher'])
    // The application cannot take it either, and says why.
    assert.throws(() => server.publish('pending', fixture.tracks), (e: unknown) => e instanceof RtspError && e.code === 'RTSP_ERR_INVALID_ARGUMENT' && /being announced/.test(e.message))
  })

  it('a path whose pulled source is still connecting is reserved: ANNOUNCE gets 455, and the path is free once the pull fails', async (t) => {
    const { server } = await startServer(t, {}, {})
    // An upstream that accepts the connection and never answers: addPull stays connecting.
    const sockets = new Set<net.Socket>()
    const upstream = net.createServer((c) => {
      sockets.add(c)
      c.on('error', () => {})
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
    const upstreamPort = (upstream.address() as net.AddressInfo).port
    const pulling = server.addPull('cam', `rtsp://127.0.0.1:${upstreamPort}/stream`, { transport: 'tcp', timeoutMs: 60_000 })
    const pullResult = pulling.then(() => 'connected', (e: unknown) => e)
    await waitFor(() => sockets.size > 0, 'the pull to connect to the upstream')

    const raw = await RawRtspClient.connect(server.port)
    t.after(() => raw.destroy())
    const sdp = writeSdp({ sessionName: 'raw', media: [h264MediaDescription({ payloadType: 96, control: 'streamid=0', sps: fixture.sps, pps: fixture.pps })] })
    const refused = await raw.request('ANNOUNCE', server.url('cam'), { 'Content-Type': 'application/sdp' }, sdp)
    assert.deepEqual([refused.status, refused.reason], [455, 'Method Not Valid in This State: path /cam is reserved for a pulled source that is starting'])
    assert.throws(() => server.publish('cam', fixture.tracks), /path \/cam is reserved for a pulled source/)

    // The upstream hangs up: the pull fails and gives the path back.
    for (const c of sockets) c.destroy()
    const err = await pullResult
    assert.ok(err instanceof RtspError, String(err))
    assert.equal((await raw.request('ANNOUNCE', server.url('cam'), { 'Content-Type': 'application/sdp' }, sdp)).status, 200)
  })

  it('a publisher that drops its connection ends the stream and its readers; a second publisher takes the path', async (t) => {
    const { server, ends } = await startServer(t, {}, {})
    const url = server.url('live')
    const pub = await rawPublisher(t, server.port, url)
    const tcpReader = await new RtspClient({ transport: 'tcp', readTimeoutMs: 30_000 }).pull(url)
    const udpReader = await new RtspClient({ transport: 'udp', readTimeoutMs: 30_000 }).pull(url)
    t.after(() => Promise.all([tcpReader.close(), udpReader.close()]))
    await Promise.all([takeFrames(tcpReader, 5), takeFrames(udpReader, 5)])
    assert.deepEqual(server.paths().map((p) => [p.path, p.kind, p.readers]), [['live', 'publisher', 2]])

    await pub.loop.stop()
    pub.c.destroy()
    const [tcpEnd, udpEnd] = await Promise.all([tcpReader.closed, udpReader.closed])
    // Both readers end at once with an error (not by their read timeout).
    for (const e of [tcpEnd, udpEnd]) {
      assert.ok(e instanceof RtspError, String(e))
      assert.notEqual(e.code, 'RTSP_ERR_TIMEOUT', e.message)
    }
    await waitFor(() => ends.length === 3, 'three session ends')
    assert.equal(ends.filter((e) => e.info.role === 'reader').length, 2)
    assert.deepEqual(server.paths(), [])
    const gone = await new RtspClient({ transport: 'tcp', timeoutMs: 5000 }).pull(url).then(() => assert.fail('the path should be free'), (e: unknown) => e)
    assert.ok(gone instanceof StatusError && gone.status === 404, String(gone))

    // rtspkit's push takes the path, serves a reader, and its TEARDOWN ends it again.
    const push = await new RtspClient({ transport: 'tcp' }).push(url, fixture.tracks)
    t.after(() => push.close())
    const loop = publishLoop((f) => push.write(f.trackIndex, f))
    t.after(() => loop.stop())
    const reader = await new RtspClient({ transport: 'tcp' }).pull(url)
    t.after(() => reader.close())
    const frames = await takeFrames(reader, 20)
    assert.ok(frames.some((f) => f.track.type === 'video' && f.keyFrame))
    assert.ok(frames.some((f) => f.track.type === 'audio'))
    await loop.stop()
    assert.equal(loop.error(), undefined)
    await push.close()
    const end = await reader.closed
    assert.ok(end instanceof RtspError, String(end))
    assert.deepEqual(server.paths(), [])
  })
})

// ---------------------------------------------------------------------------------------

describe('hostile clients', () => {
  /** Send bytes and wait for the server to close the connection. */
  async function sendAndExpectClose(port: number, chunks: Iterable<Buffer | string>): Promise<RawRtspClient> {
    const c = await RawRtspClient.connect(port)
    for (const chunk of chunks) {
      if (c.isClosed) break
      if (!c.write(chunk)) await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.closed])
    }
    await Promise.race([c.closed, sleep(15_000).then(() => assert.fail('the server kept the connection open'))])
    return c
  }

  function* garbage(bytes: number, seed: number): Generator<Buffer> {
    let x = seed
    for (let done = 0; done < bytes; done += 16384) {
      const b = Buffer.allocUnsafe(16384)
      for (let i = 0; i < b.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0
        b[i] = x >>> 24
      }
      yield b
    }
  }

  function* manyHeaders(n: number): Generator<string> {
    yield 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n'
    for (let i = 0; i < n; i += 1000) yield 'X-Pad: aaaaaaaa\r\n'.repeat(1000)
    yield '\r\n'
  }

  it('garbage, 100 000 headers, a huge Content-Length, an endless line: each connection is closed, others are served, memory stays bounded', async (t) => {
    const { server, logs } = await startServer(t)
    const reader = await new RtspClient({ transport: 'tcp' }).pull(server.url('demo'))
    t.after(() => reader.close())
    let frames = 0
    reader.on('frame', () => frames++)

    const attacks: Array<[string, () => Iterable<Buffer | string>]> = [
      ['random bytes', () => garbage(4 * 1024 * 1024, 7)],
      ['random bytes after a good request', () => ['OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n', ...garbage(256 * 1024, 9)]],
      ['100 000 headers', () => manyHeaders(100_000)],
      ['huge Content-Length', () => [`ANNOUNCE ${server.url('x')} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 99999999999\r\n\r\n`, ...garbage(1024 * 1024, 3)]],
      ['endless header line', () => ['DESCRIBE / RTSP/1.0\r\nX-Long: ', ...Array.from({ length: 64 }, () => 'a'.repeat(16384))]],
    ]
    const run = async () => {
      for (const [name, make] of attacks) {
        const c = await sendAndExpectClose(server.port, make())
        assert.ok(c.replies.every((r) => r.status === 400 || r.status === 200), `${name}: ${c.replies.map((r) => r.status).join()}`)
      }
    }
    await run() // warm up
    gc()
    const heap0 = process.memoryUsage().heapUsed
    for (let i = 0; i < 3; i++) await Promise.all([run(), run()])
    await sleep(200)
    gc()
    const heap1 = process.memoryUsage().heapUsed
    console.log(`# hostile clients: heap ${(heap0 / 1e6).toFixed(1)} → ${(heap1 / 1e6).toFixed(1)} MB`)
    assert.ok(heap1 - heap0 < 16 * 1024 * 1024, `heap grew by ${((heap1 - heap0) / 1e6).toFixed(1)} MB`)

    // The server is up: the reader kept receiving, and a new client is served.
    const before = frames
    await waitFor(() => frames > before + 10, 'the first reader to keep receiving')
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    assert.equal((await c.request('OPTIONS', '*')).status, 200)
    const other = await new RtspClient({ transport: 'udp' }).pull(server.url('demo'))
    assert.equal((await takeFrames(other, 5)).length, 5)
    await other.close()
    assert.ok(logs.some((l) => /limit|garbage/i.test(l)), logs.join('\n'))
  })

  it('a client that pipelines requests and never reads the replies is held back, not buffered without bound', async (t) => {
    const { server } = await startServer(t)
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    c.socket.pause() // never read
    gc()
    const heap0 = process.memoryUsage().heapUsed
    const request = Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'.repeat(1000))
    let sent = 0
    const t0 = performance.now()
    // Write until the socket pushes back for a while (the server stopped reading) or 64 MB went.
    while (sent < 64 * 1024 * 1024 && !c.isClosed) {
      if (!c.write(request)) {
        const drained = await Promise.race([new Promise((r) => c.socket.once('drain', () => r(true))), sleep(3000).then(() => false)])
        if (!drained) break
      }
      sent += request.length
      if (performance.now() - t0 > 60_000) break
    }
    gc()
    const heap1 = process.memoryUsage().heapUsed
    console.log(`# pipelined flood: ${(sent / 1e6).toFixed(1)} MB of requests accepted, heap ${(heap0 / 1e6).toFixed(1)} → ${(heap1 / 1e6).toFixed(1)} MB`)
    assert.ok(sent < 32 * 1024 * 1024, 'the server never pushed back')
    assert.ok(heap1 - heap0 < 32 * 1024 * 1024, `heap grew by ${((heap1 - heap0) / 1e6).toFixed(1)} MB`)
    c.destroy()
    const other = await RawRtspClient.connect(server.port)
    t.after(() => other.destroy())
    assert.equal((await other.request('OPTIONS', '*')).status, 200)
  })

  it('a publisher that never sets the marker bit: its packets go out in bounded pieces, not held until 1024 of them', async (t) => {
    const { server } = await startServer(t, {}, {})
    const url = server.url('nomarker')
    const pub = await RawRtspClient.connect(server.port)
    t.after(() => pub.destroy())
    const sdp = writeSdp({ sessionName: 'raw', media: [h264MediaDescription({ payloadType: 96, control: 'streamid=0', sps: fixture.sps, pps: fixture.pps })] })
    assert.equal((await pub.request('ANNOUNCE', url, { 'Content-Type': 'application/sdp' }, sdp)).status, 200)
    const setup = await pub.request('SETUP', `${url}/streamid=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1;mode=record' })
    const pubSession = setup.headers['session']!.split(';')[0]!
    assert.equal((await pub.request('RECORD', url, { Session: pubSession })).status, 200)
    const reader = await RawRtspClient.connect(server.port)
    t.after(() => reader.destroy())
    const readerSession = await setupVideo(reader, url, 'RTP/AVP/TCP;unicast;interleaved=0-1')
    assert.equal((await reader.request('PLAY', url, { Session: readerSession })).status, 200)
    // One "picture" of 200 FU-A fragments of 60 000 bytes, same timestamp, marker never set.
    for (let seq = 0; seq < 200 && !pub.isClosed; seq++) {
      const rtp = Buffer.alloc(12 + 2 + 60_000, 0x11)
      rtp.writeUInt32BE((0x80600000 | seq) >>> 0, 0) // V=2, PT 96, no marker
      rtp.writeUInt32BE(90_000, 4)
      rtp.writeUInt32BE(0xabc, 8)
      rtp[12] = 0x7c // FU-A, NRI 3
      rtp[13] = seq === 0 ? 0x85 : 0x05 // start of an IDR, then middle fragments
      const frame = Buffer.alloc(4)
      frame[0] = 0x24
      frame.writeUInt16BE(rtp.length, 2)
      if (!pub.write(Buffer.concat([frame, rtp]))) await new Promise((r) => pub.socket.once('drain', r))
    }
    await waitFor(() => reader.framesAfter(0, 0).length > 0, 'the reader to get the first piece')
    const first = parseRtpPacket(reader.framesAfter(0, 0)[0]!.payload)!
    assert.equal(first.sequenceNumber, 0)
    assert.equal(pub.isClosed, false)
  })

  it('a connection that never sends a request is closed after the session timeout', async (t) => {
    const { server } = await startServer(t, { sessionTimeoutS: 1 })
    const idle = await RawRtspClient.connect(server.port)
    t.after(() => idle.destroy())
    await Promise.race([idle.closed, sleep(15_000).then(() => assert.fail('the idle connection was kept open'))])
  })
  it('a UDP SETUP with client_port 0 or 65535 (RTCP port 65536) is refused with 461; the stream goes on for other readers', async (t) => {
    const { server, logs } = await startServer(t)
    const reader = await new RtspClient({ transport: 'tcp', readTimeoutMs: 30_000 }).pull(server.url('demo'))
    t.after(() => reader.close())
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    for (const ports of ['0-1', '65535', '65535-65536']) {
      const r = await c.request('SETUP', `${server.url('demo')}/trackID=1`, { Transport: `RTP/AVP;unicast;client_port=${ports}` })
      assert.equal(r.status, 461, `client_port=${ports}`)
    }
    // Before, a send to port 65536 threw inside the fan-out: the file loop ended and every reader with it.
    const ok = await c.request('SETUP', `${server.url('demo')}/trackID=1`, { Transport: 'RTP/AVP;unicast;client_port=65535,RTP/AVP/TCP;unicast;interleaved=0-1' })
    assert.equal(ok.status, 200)
    assert.match(ok.headers.transport ?? '', /interleaved=0-1/, 'the next transport the client offers is taken')
    const play = await c.request('PLAY', server.url('demo'), { Session: ok.headers.session!.split(';')[0]! })
    assert.equal(play.status, 200)
    await takeFrames(reader, 40)
    assert.deepEqual(server.paths().map((p) => p.path), ['demo'])
    assert.ok(!logs.some((l) => /failed|ended \(the file ended\)/.test(l)), logs.join('\n'))
  })
})

// ---------------------------------------------------------------------------------------

describe('round trip: rtspkit push → rtspkit server → rtspkit pull (issue #4)', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    it(`every access unit byte for byte and every timestamp, B-frames, over ${transport.toUpperCase()}`, async (t) => {
      const { server } = await startServer(t, {}, {})
      const url = server.url('live')
      const src = await openFileSource(join(dir, 'bf.mp4'))
      t.after(() => src.close())
      const push = await new RtspClient({ transport }).push(url, src.tracks)
      t.after(() => push.close())
      const reader = await new RtspClient({ transport, readTimeoutMs: 30_000 }).pull(url)
      t.after(() => reader.close())
      assert.deepEqual(reader.tracks.map((tr) => tr.codec), src.tracks.map((tr) => tr.codec.toUpperCase()))
      const got: Frame[][] = reader.tracks.map(() => [])
      const collecting = (async () => {
        for await (const f of reader.frames()) got[f.track.index]!.push({ ...f, data: f.data.map((d) => Buffer.from(d)) })
      })()

      const sent: SourceFrame[] = []
      // UDP is paced (a burst could overflow a small socket buffer on a busy machine); TCP goes as fast as it can.
      for await (const f of paceFrames(src, { loop: false, realtime: transport === 'udp' })) {
        sent.push({ ...f, data: [...f.data] })
        await push.write(f.trackIndex, f)
      }
      const expected = reader.tracks.map((_, i) => sent.filter((f) => f.trackIndex === i).length)
      await waitFor(() => got.every((g, i) => g.length >= expected[i]!), `all units (got ${got.map((g) => g.length)} of ${expected})`, 30_000)
      await push.close()
      await reader.close()
      await collecting

      for (let track = 0; track < reader.tracks.length; track++) {
        const mine = sent.filter((f) => f.trackIndex === track)
        const theirs = got[track]!
        assert.equal(theirs.length, mine.length, `track ${track} count`)
        const clock = reader.tracks[track]!.clockRate
        const ps = (n: Buffer) => track === 0 && [H264NalType.Sps, H264NalType.Pps].includes(nalType(n[0]!) as 7 | 8)
        let backwards = 0
        for (let i = 0; i < mine.length; i++) {
          assert.deepEqual(theirs[i]!.data.filter((n) => !ps(n)), mine[i]!.data.filter((n) => !ps(n)), `track ${track} unit ${i}`)
          assert.equal(theirs[i]!.keyFrame, mine[i]!.keyFrame || track === 1, `track ${track} unit ${i} key`)
          const dt = theirs[i]!.timestamp - theirs[0]!.timestamp
          assert.equal(dt, Math.round(mine[i]!.pts * clock) - Math.round(mine[0]!.pts * clock), `track ${track} timestamp ${i}`)
          assert.ok(Math.abs(theirs[i]!.pts - theirs[0]!.pts - dt / clock) < 1e-9, `track ${track} pts ${i}`)
          if (i > 0 && theirs[i]!.timestamp < theirs[i - 1]!.timestamp) backwards++
        }
        if (track === 0) assert.ok(backwards > 0, 'B-frames: presentation times go back in decode order')
      }
    })
  }
})

// ---------------------------------------------------------------------------------------

describe('close()', () => {
  function liveHandles(): number {
    return process.getActiveResourcesInfo().filter((t) => /TCP|UDP|Timeout|Pipe/.test(t)).length
  }

  it('releases every socket and timer, with readers, a publisher and idle connections attached', async (t) => {
    await sleep(300)
    const handles0 = liveHandles()
    const server = new RtspServer({ host: '127.0.0.1', port: 0 })
    await server.addFile('demo', SAMPLE)
    const api = server.publish('api', fixture.tracks)
    const { port } = await server.listen()
    const rtpPort = server.rtpPort!
    const ends: string[] = []
    server.on('session-end', (_, reason) => ends.push(reason))

    const tcp = await new RtspClient({ transport: 'tcp' }).pull(server.url('demo'))
    const udp = await new RtspClient({ transport: 'udp' }).pull(server.url('demo'))
    const push = await new RtspClient({ transport: 'udp' }).push(server.url('live'), fixture.tracks)
    const liveReader = await new RtspClient({ transport: 'tcp' }).pull(server.url('live'))
    const idle = await RawRtspClient.connect(port)
    await Promise.all([takeFrames(tcp, 3), takeFrames(udp, 3)])
    // (No check that handles went up: handles0 may still count sockets of the test before,
    // closing late on a loaded machine; the check that matters is that they come back down.)

    await server.close()
    await server.close() // idempotent
    assert.equal(api.readerCount, 0)
    assert.throws(() => api.write(0, { pts: 0, keyFrame: true, data: fixture.videoFrames[0]!.data }), RtspError)
    // Every client sees its connection end.
    const results = await Promise.all([tcp.closed, udp.closed, push.closed, liveReader.closed, idle.closed])
    for (const r of results.slice(0, 4)) assert.ok(r instanceof RtspError, String(r))
    assert.equal(ends.length, 4)
    // The reader of the pushed stream may see its publisher go first.
    assert.ok(ends.every((r) => r === 'the server is shutting down' || r === 'the publisher went away'), ends.join())
    await waitFor(() => liveHandles() <= handles0, `handles back to ${handles0} (now ${liveHandles()}: ${process.getActiveResourcesInfo().join(', ')})`, 10_000)

    // The ports are free again.
    await assert.rejects(RawRtspClient.connect(port), /ECONNREFUSED/)
    const s = dgram.createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.bind(rtpPort, '127.0.0.1', resolve)
    })
    await new Promise<void>((r) => s.close(() => r()))
    await assert.rejects(server.listen(), RtspError)
    t.diagnostic(`handles ${handles0} → ${liveHandles()}`)
  })
})
