/**
 * The interop harness checked against real tools (no rtspkit code involved): if these
 * fail, interop failures elsewhere are about the machine, not about rtspkit.
 */
import { test } from 'node:test'
import { strict as assert } from 'node:assert'
import * as net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { startGstServer } from '../helpers/gst-server.js'
import { ffprobeUrl, ProbeError, streamsOf } from '../helpers/media-check.js'
import { runProcess } from '../helpers/cli.js'

test('/h264aac over TCP: ffprobe sees H.264 640x480 and AAC 48 kHz stereo', async (t) => {
  const server = await startGstServer()
  t.after(() => server.stop())
  const probe = await ffprobeUrl(server.url('/h264aac'), 'tcp')
  const [video] = streamsOf(probe, 'video')
  const [audio] = streamsOf(probe, 'audio')
  assert.equal(video?.codec_name, 'h264')
  assert.equal(video?.width, 640)
  assert.equal(video?.height, 480)
  assert.equal(audio?.codec_name, 'aac')
  assert.equal(audio?.sample_rate, '48000')
  assert.equal(audio?.channels, 2)
})

test('Digest auth: wrong or missing credentials get 401, right ones work', async (t) => {
  const server = await startGstServer({ user: 'alice', password: 'p@ss:w/rd' })
  t.after(() => server.stop())
  const wrong = server.url('/h264', false).replace('rtsp://', 'rtsp://alice:nope@')
  await assert.rejects(ffprobeUrl(wrong, 'tcp'), (e: unknown) => e instanceof ProbeError && /401/.test(e.stderr))
  await assert.rejects(ffprobeUrl(server.url('/h264', false), 'tcp'), ProbeError)
  const probe = await ffprobeUrl(server.url('/aac'), 'tcp')
  assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
})

test('UDP-only server: ffprobe over UDP works, TCP is refused', async (t) => {
  const server = await startGstServer({ protocols: 'udp' })
  t.after(() => server.stop())
  const probe = await ffprobeUrl(server.url('/h264'), 'udp')
  assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
  await assert.rejects(ffprobeUrl(server.url('/h264'), 'tcp'), ProbeError)
})

/** One request on a raw socket; resolves with the response head (and body, if any). */
async function rawExchange(socket: net.Socket, request: string): Promise<string> {
  let text = ''
  const onData = (b: Buffer): void => {
    text += b.toString('latin1')
  }
  socket.on('data', onData)
  socket.write(request)
  const deadline = Date.now() + 5000
  for (;;) {
    const end = text.indexOf('\r\n\r\n')
    if (end >= 0) {
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0)
      if (text.length >= end + 4 + len) break
    }
    if (Date.now() > deadline) throw new Error(`no complete reply to:\n${request}\ngot:\n${text}`)
    await sleep(10)
  }
  socket.off('data', onData)
  return text
}

test('--session-timeout and --extra: a raw SETUP on an extra mount gets Session ;timeout=7', async (t) => {
  const server = await startGstServer({
    sessionTimeout: 7,
    protocols: 'tcp',
    extra: { pcma: 'audiotestsrc is-live=true ! audio/x-raw,rate=8000,channels=1 ! alawenc ! rtppcmapay name=pay0' },
  })
  t.after(() => server.stop())
  const socket = net.connect(server.port, '127.0.0.1')
  socket.on('error', () => {})
  t.after(() => socket.destroy())
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const url = server.url('/pcma')
  const describe = await rawExchange(socket, `DESCRIBE ${url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n`)
  assert.match(describe, /^RTSP\/1\.0 200 OK/)
  assert.match(describe, /a=rtpmap:8 PCMA\/8000/)
  assert.match(describe, /a=control:stream=0/)
  const base = /\r\nContent-Base: (\S+)/i.exec(describe)?.[1] ?? `${url}/`
  const setup = await rawExchange(
    socket,
    `SETUP ${base}stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
  )
  assert.match(setup, /^RTSP\/1\.0 200 OK/)
  assert.match(setup, /\r\nSession: [^;\r\n]+;timeout=7\r\n/)
  assert.match(setup, /\r\nTransport: RTP\/AVP\/TCP;unicast;interleaved=0-1/)
})

test('shared mount: a second client does not restart the first (live media not seekable)', async (t) => {
  const server = await startGstServer()
  t.after(() => server.stop())
  // framecrc lines: stream, dts, pts, duration, size, crc.
  const first = runProcess(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', server.url('/h264'), '-t', '3', '-c', 'copy', '-f', 'framecrc', '-'],
    { timeoutMs: 20_000 },
  )
  await sleep(1500)
  await ffprobeUrl(server.url('/h264'), 'tcp')
  const r = await first
  assert.equal(r.code, 0, r.stderr)
  const pts = r.stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => Number(l.split(',')[2]))
  assert.ok(pts.length > 60, `only ${pts.length} packets`)
  // A restarted (seeked) pipeline shows up as pts going back or stuck for many packets.
  let run = 1
  for (let i = 1; i < pts.length; i++) {
    assert.ok(pts[i]! >= pts[i - 1]!, `pts went back at packet ${i}: ${pts[i - 1]} -> ${pts[i]}`)
    run = pts[i] === pts[i - 1] ? run + 1 : 1
    assert.ok(run <= 2, `pts stuck at ${pts[i]} for ${run} packets (pipeline restarted?)`)
  }
})
