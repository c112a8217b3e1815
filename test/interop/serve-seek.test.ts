/**
 * Seek, PAUSE and resume on a file served by RtspServer (issue #16; RFC 2326 §10.5, §10.6,
 * §12.29): ffmpeg `-ss` as the client, and a raw client for the replies' Range and RTP-Info
 * and what flows after each request. The clip has a key frame every second, so where ffmpeg
 * starts shows whether the server's Range and RTP-Info put its timeline at the right place.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseRange } from '../../src/rtsp/headers/range.js'
import { parseRtpInfo } from '../../src/rtsp/headers/rtp-info.js'
import { RtspServer } from '../../src/server/index.js'
import { runProcess } from '../helpers/cli.js'
import { RawRtspClient, type RawFrame } from '../helpers/raw-rtsp-client.js'

let dir: string
let clip: string
let server: RtspServer

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-seek-'))
  clip = join(dir, 'clip.mp4')
  // 12 s, 25 fps, a key frame every 25 frames (every second), no B-frames, AAC beside it.
  const made = await runProcess('ffmpeg', [
    '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '12', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0', '-c:a', 'aac', '-shortest', '-y', clip,
  ], { timeoutMs: 30_000 })
  assert.equal(made.code, 0, made.stderr)
  server = new RtspServer({ port: 0 })
  await server.listen()
  await server.addFile('clip', clip)
})

after(async () => {
  await server?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** framemd5 of the first picture of `file` (after an input seek of `ss` seconds). */
async function firstPictureMd5(file: string, ss?: number): Promise<string> {
  const args = ['-nostdin', '-v', 'error', ...(ss !== undefined ? ['-ss', String(ss)] : []), '-i', file, '-map', '0:v', '-frames:v', '1', '-fps_mode', 'passthrough', '-f', 'framemd5', '-']
  const r = await runProcess('ffmpeg', args, { timeoutMs: 20_000 })
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim().split('\n').at(-1)!.split(',').at(-1)!.trim()
}

describe('rtspkit serve: seek in a file', () => {
  it('ffmpeg -ss 5.5 decodes from a key frame within a second of 5.5 s, every picture clean', { timeout: 60_000 }, async () => {
    // ffmpeg sends PLAY npt=0.000-, PAUSE, then PLAY npt=5.500-; the server starts at the key
    // frame before and answers where that is (Range, RTP-Info). ffmpeg 5.1 over RTSP outputs
    // what arrives from there on (its first picture: the 5 s key frame, or the 6 s one when it
    // drops pictures it still places before 5.5 s); a server that ignored the Range would give
    // the shared pass's picture of the moment.
    const rec = await runProcess('ffmpeg', [
      '-nostdin', '-v', 'error', '-ss', '5.5', '-rtsp_transport', 'tcp', '-i', server.url('clip'),
      '-t', '2', '-map', '0:v', '-fps_mode', 'passthrough', '-f', 'framemd5', '-',
    ], { timeoutMs: 40_000 })
    assert.equal(rec.code, 0, rec.stderr)
    assert.equal(rec.stderr, '', 'no decoding error')
    const pictures = rec.stdout.split('\n').filter((l) => /^0,/.test(l))
    assert.ok(pictures.length >= 40, `${pictures.length} pictures in 2 s at 25 fps`)
    const first = pictures[0]!.split(',').at(-1)!.trim()
    const near = [await firstPictureMd5(clip, 5), await firstPictureMd5(clip, 6)]
    assert.ok(near.includes(first), 'the first picture is the key frame at 5 s or 6 s')
  })

  it('PLAY with Range starts at the key frame before, PAUSE stops the flow, PLAY resumes near where it paused', { timeout: 30_000 }, async () => {
    const c = await RawRtspClient.connect(server.port)
    try {
      const url = server.url('clip')
      assert.equal((await c.request('DESCRIBE', url)).status, 200)
      const s0 = await c.request('SETUP', `${url}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1' })
      const session = s0.headers['session']!.split(';')[0]!
      assert.equal((await c.request('SETUP', `${url}/trackID=1`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=2-3', Session: session })).status, 200)

      const play = await c.request('PLAY', url, { Session: session, Range: 'npt=5-' })
      assert.equal(play.status, 200)
      const range = parseRange(play.headers['range']!)
      // The key frame at or before 5 s (the file's timeline starts at the AAC priming, ~21 ms earlier).
      assert.ok(typeof range.start === 'number' && range.start > 4 && range.start <= 5, play.headers['range'])
      const info = parseRtpInfo(play.headers['rtp-info']!)
      assert.equal(info.length, 2)
      const first = await nextFrame(c, 0, 1)
      // RFC 2326 §12.33: rtptime is the RTP timestamp of the position in Range: the first packet's.
      assert.equal(first.payload.readUInt32BE(4), info[0]!.rtptime)
      assert.equal(first.payload[12]! & 0x1f, 24, 'the first packet is the key frame (STAP-A with SPS and PPS)')

      await new Promise((r) => setTimeout(r, 1500))
      assert.equal((await c.request('PAUSE', url, { Session: session })).status, 200)
      const pausedAt = c.replies.length
      await new Promise((r) => setTimeout(r, 500))
      assert.equal(c.framesAfter(pausedAt).length, 0, 'nothing is sent after the PAUSE reply')

      // §10.6: PLAY without Range resumes where it paused (from the key frame before that point).
      const resume = await c.request('PLAY', url, { Session: session })
      assert.equal(resume.status, 200)
      const at = parseRange(resume.headers['range']!).start as number
      assert.ok(at >= (range.start as number) && at <= (range.start as number) + 2.1, `resumed at ${at}`)
      const again = await nextFrame(c, 0, c.replies.length)
      assert.equal(again.payload.readUInt32BE(4), parseRtpInfo(resume.headers['rtp-info']!)[0]!.rtptime)

      // A seek while playing (a PLAY with another Range) and ranges the server cannot serve.
      const seek = await c.request('PLAY', url, { Session: session, Range: 'npt=10.2-' })
      assert.equal(seek.status, 200)
      const to = parseRange(seek.headers['range']!).start as number
      assert.ok(to > 9 && to <= 10.2, seek.headers['range'])
      assert.equal((await c.request('PLAY', url, { Session: session, Range: 'clock=20261201T100000Z-' })).status, 457)
      assert.equal((await c.request('PLAY', url, { Session: session, Range: 'npt=abc-' })).status, 457)
      assert.equal((await c.request('TEARDOWN', url, { Session: session })).status, 200)
    } finally {
      c.destroy()
    }
  })
})

/** The first RTP packet on `channel` sent after `replies` replies. */
async function nextFrame(c: RawRtspClient, channel: number, replies: number): Promise<RawFrame> {
  const end = Date.now() + 5000
  for (;;) {
    const f = c.framesAfter(replies, channel)[0]
    if (f !== undefined) return f
    if (Date.now() > end) throw new Error(`no packet on channel ${channel} after reply ${replies}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
