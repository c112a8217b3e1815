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
