/**
 * `rtspkit serve cam=rtsp://…`: a camera (GStreamer's RTSP server, with Digest auth) is
 * pulled once and re-served to several readers; ffmpeg records from rtspkit's server and
 * the file decodes. The camera's password shows up nowhere in the server's output.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { killChild, readUntil, runProcess, spawnCli, waitForExit } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'
import { RtspClient, RtspServer } from '../../src/index.js'
import { parseRtpPacket } from '../../src/rtp/packet.js'
import { h264PayloadHasKey } from '../../src/server/keyframe.js'
import { RawRtspClient } from '../helpers/raw-rtsp-client.js'

const PASSWORD = 'pull-source-secret'

test('rtspkit serve re-serves a camera it pulls once; ffmpeg records from it', { timeout: 90_000 }, async (t) => {
  const cam = await startGstServer({ user: 'admin', password: PASSWORD })
  t.after(() => cam.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-serve-pull-'))
  t.after(() => rm(dir, { recursive: true, force: true }))

  const server = spawnCli(['serve', '--port', '0', `cam=${cam.url('/h264aac')}`])
  t.after(() => killChild(server))
  let log = ''
  server.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  let out = ''
  server.stdout!.on('data', (b: Buffer) => (out += b.toString()))
  const m = await readUntil(server.stdout!, /(rtsp:\/\/127\.0\.0\.1:\d+)\/cam\s.*relayed/, 20_000)
  const url = `${m[1]}/cam`

  // Two readers at once: ffmpeg over TCP and over UDP.
  const files = ['tcp', 'udp'].map((tr) => join(dir, `${tr}.mp4`))
  const runs = await Promise.all(['tcp', 'udp'].map((tr, i) =>
    runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', tr, '-timeout', '15000000', '-i', url, '-t', '3', '-c', 'copy', '-y', files[i]!], { timeoutMs: 40_000 })))
  for (const [i, r] of runs.entries()) {
    assert.equal(r.code, 0, r.stderr)
    const probe = await ffprobeFile(files[i]!)
    assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    assert.ok(Number(streamsOf(probe, 'video')[0]?.nb_read_packets) >= 30, `${files[i]}: few video packets`)
    assert.equal(await decodeErrors(files[i]!), '')
  }

  server.kill('SIGTERM')
  assert.equal((await waitForExit(server, 15_000)).code, 0)
  assert.doesNotMatch(out + log, new RegExp(PASSWORD))
  assert.match(out, /rtsp:\/\/admin@127\.0\.0\.1:\d+\/h264aac|rtsp:\/\/127\.0\.0\.1:\d+\/h264aac/)
})

test('RtspServer.addPull: rtspkit readers get the source\'s frames; close() tears the source down', { timeout: 60_000 }, async (t) => {
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const server = new RtspServer({ port: 0 })
  t.after(() => server.close())
  const { publisher, skipped } = await server.addPull('relay', cam.url('/h264aac'), { transport: 'tcp' })
  assert.deepEqual(skipped, [])
  assert.deepEqual(publisher.tracks.map((tr) => tr.codec), ['H264', 'AAC'])
  await server.listen()

  const session = await new RtspClient({ transport: 'tcp' }).pull(server.url('relay'))
  t.after(() => session.close())
  const counts = { video: 0, audio: 0 }
  let firstVideoKey: boolean | undefined
  for await (const f of session.frames()) {
    if (f.track.type === 'video') {
      firstVideoKey ??= f.keyFrame
      counts.video++
    } else counts.audio++
    if (counts.video >= 30 && counts.audio >= 20) break
  }
  assert.equal(firstVideoKey, true, 'a reader starts at a key frame')
  await session.close()
  await server.close()
  assert.equal(server.paths().length, 0)
})

test('RtspServer.addPull: on the wire, each reader gets its PLAY reply, then a sender report, then a key frame; audio only after it', { timeout: 60_000 }, async (t) => {
  // The bytes themselves (no client library in between): readers join one after another at
  // whatever point of the source's GOP, with the source and the readers in this process.
  const cam = await startGstServer()
  t.after(() => cam.stop())
  const server = new RtspServer({ port: 0 })
  t.after(() => server.close())
  await server.addPull('relay', cam.url('/h264aac'), { transport: 'tcp' })
  await server.listen()
  const base = server.url('relay')
  for (let n = 0; n < 4; n++) {
    const c = await RawRtspClient.connect(server.port)
    t.after(() => c.destroy())
    const v = await c.request('SETUP', `${base}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })
    const session = v.headers['session']!.split(';')[0]!
    const a = await c.request('SETUP', `${base}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session })
    assert.deepEqual([v.status, a.status], [200, 200])
    const before = c.frames.length
    const play = await c.request('PLAY', base, { Session: session })
    assert.equal(play.status, 200)
    const afterPlay = c.replies.length
    assert.deepEqual(c.frames.slice(before).filter((f) => f.afterReplies < afterPlay), [], 'no media before the PLAY reply')
    const deadline = performance.now() + 10_000
    while (c.framesAfter(afterPlay, 0).length < 10 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    const frames = c.framesAfter(afterPlay)
    const firstRtp = frames.findIndex((f) => f.channel === 0)
    assert.ok(firstRtp >= 0, `reader ${n}: no video`)
    const sr = frames.findIndex((f) => f.channel === 1 && f.payload[1] === 200)
    assert.ok(sr >= 0 && sr < firstRtp, `reader ${n}: a sender report comes before the first video packet`)
    const first = parseRtpPacket(frames[firstRtp]!.payload)!
    assert.ok(h264PayloadHasKey(first.payload), `reader ${n}: the first video packet starts a key frame (NAL type ${first.payload[0]! & 0x1f})`)
    const firstAudio = frames.findIndex((f) => f.channel === 2)
    assert.ok(firstAudio === -1 || firstAudio > firstRtp, `reader ${n}: audio starts with the key frame, not before`)
    await c.request('TEARDOWN', base, { Session: session })
    // The next reader joins at another point of the GOP.
    await new Promise((r) => setTimeout(r, 150 + 100 * n))
  }
})
