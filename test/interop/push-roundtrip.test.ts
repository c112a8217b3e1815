/**
 * Push through a scripted receiver that depacketizes with rtspkit's own depacketizers,
 * set up from the ANNOUNCE SDP: every access unit arrives byte for byte, every RTP
 * timestamp follows pts (B-frames: in decode order, timestamps out of order). Also: a
 * receiver that goes away ends the push with a clear error at once.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import { H264NalType, nalType } from '../../src/codec/h264-nal.js'
import { ClosedError } from '../../src/errors.js'
import { resolveFormat } from '../../src/formats/index.js'
import type { Depacketizer } from '../../src/formats/types.js'
import { openFileSource, paceFrames, type SourceFrame } from '../../src/input/file-source.js'
import { parseRtpPacket } from '../../src/rtp/packet.js'
import { parseSdp } from '../../src/sdp/parse.js'
import { startFakeServer, type FakeContext, type FakeRequest } from '../helpers/fake-rtsp-server.js'

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-rt-'))
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=44100',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '3', '-g', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(dir, 'bf.mp4')])
})
after(() => rmSync(dir, { recursive: true, force: true }))

interface Received { rtpTimestamp: number; data: Buffer[]; keyFrame: boolean }

function recordingReceiver(onRecord?: (ctx: FakeContext) => void) {
  const depack: Depacketizer[] = []
  const received: Received[][] = []
  const clockRates: number[] = []
  const handler = (req: FakeRequest, ctx: FakeContext) => {
    switch (req.method) {
      case 'OPTIONS': return ctx.reply(200, { Public: 'OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN' })
      case 'ANNOUNCE': {
        const sdp = parseSdp(req.body)
        for (const m of sdp.media) {
          const h = resolveFormat(m, m.formats[0]!)!
          depack.push(h.createDepacketizer())
          received.push([])
          clockRates.push(h.clockRate)
        }
        return ctx.reply(200)
      }
      case 'SETUP':
        assert.match(req.headers['transport'] ?? '', /mode=record/)
        return ctx.reply(200, { Session: '12345678;timeout=60', Transport: req.headers['transport']! })
      case 'RECORD':
        ctx.reply(200, { Session: '12345678' })
        return onRecord?.(ctx)
      default: return ctx.reply(200, { Session: '12345678' })
    }
  }
  const onInterleaved = (channel: number, payload: Buffer) => {
    if (channel % 2 === 1) return
    const pkt = parseRtpPacket(payload)!
    for (const au of depack[channel / 2]!.push(pkt)) received[channel / 2]!.push({ rtpTimestamp: au.rtpTimestamp, keyFrame: au.keyFrame, data: au.data.map((d) => Buffer.from(d)) })
  }
  return { handler, onInterleaved, received, clockRates }
}

test('every access unit and timestamp survives the round trip (B-frames, unpaced)', async (t) => {
  const rx = recordingReceiver()
  const server = await startFakeServer(rx.handler, { onInterleaved: rx.onInterleaved })
  t.after(() => server.stop())
  const src = await openFileSource(join(dir, 'bf.mp4'))
  t.after(() => src.close())
  const session = await new RtspClient().push(server.url('/live'), src.tracks, { transport: 'tcp' })
  const sent: SourceFrame[] = []
  for await (const f of paceFrames(src, { loop: false, realtime: false })) {
    sent.push({ ...f, data: [...f.data] })
    await session.write(f.trackIndex, f)
  }
  await session.close()
  assert.ok(server.requests.some((r) => r.method === 'TEARDOWN'))
  for (const track of [0, 1]) {
    const mine = sent.filter((f) => f.trackIndex === track)
    const got = rx.received[track]!
    assert.equal(got.length, mine.length, `track ${track} count`)
    const clock = rx.clockRates[track]!
    for (let i = 0; i < mine.length; i++) {
      const ps = (n: Buffer) => track === 0 && [H264NalType.Sps, H264NalType.Pps].includes(nalType(n[0]!) as 7 | 8)
      assert.deepEqual(got[i]!.data.filter((n) => !ps(n)), mine[i]!.data.filter((n) => !ps(n)), `track ${track} unit ${i}`)
      const dt = (got[i]!.rtpTimestamp - got[0]!.rtpTimestamp) >>> 0
      assert.equal(dt, Math.round(mine[i]!.pts * clock) - Math.round(mine[0]!.pts * clock), `track ${track} ts ${i}`)
      if (track === 0 && mine[i]!.keyFrame) {
        // Parameter sets in-band before every key frame.
        assert.deepEqual(got[i]!.data.slice(0, 2).map((n) => nalType(n[0]!)), [H264NalType.Sps, H264NalType.Pps])
      }
    }
  }
})

test('a receiver that drops the connection ends the push with a clear error', async (t) => {
  let drop: FakeContext | undefined
  const rx = recordingReceiver((ctx) => { drop = ctx })
  const server = await startFakeServer(rx.handler, { onInterleaved: rx.onInterleaved })
  t.after(() => server.stop())
  const src = await openFileSource(join(dir, 'bf.mp4'))
  t.after(() => src.close())
  const session = await new RtspClient().push(server.url('/live'), src.tracks, { transport: 'tcp', readTimeoutMs: 2000 })
  const t0 = performance.now()
  drop!.destroy()
  const err = await session.closed
  assert.ok(err instanceof ClosedError, String(err))
  assert.ok(performance.now() - t0 < 2000)
  assert.equal(session.state, 'closed')
  await assert.rejects(session.write(0, { pts: 0, keyFrame: true, data: [Buffer.from([0x65, 0])] }), ClosedError)
})
