/**
 * Issue 11, on the wire: a pusher sends each track's first RTCP sender report before its
 * first RTP packet, and again (before the next packet) after a jump of the media clock,
 * with the RTP time of that packet's instant. A scripted RECORD server records the order of
 * interleaved frames per channel.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startFakeServer } from '../helpers/fake-rtsp-server.js'
import { RtspClient } from '../../src/index.js'

const SPS = Buffer.from('6742c00dd90141fb0110000003001000000303c0f142a480', 'hex')
const PPS = Buffer.from('68cb83cb20', 'hex')
const IDR = Buffer.concat([Buffer.from([0x65, 0x88]), Buffer.alloc(200, 7)])

test('push: SR before the first RTP packet of each track, and again after a clock jump', async (t) => {
  const frames: Array<{ channel: number; payload: Buffer }> = []
  const server = await startFakeServer(
    (req, ctx) => {
      const session = 'REC1'
      if (req.method === 'SETUP') {
        const m = /interleaved=(\d+)-(\d+)/.exec(req.headers['transport'] ?? '')!
        return ctx.reply(200, { Session: session, Transport: `RTP/AVP/TCP;unicast;interleaved=${m[1]}-${m[2]};mode=record` })
      }
      ctx.reply(200, { Session: session, Public: 'OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN' })
    },
    { onInterleaved: (channel, payload) => frames.push({ channel, payload: Buffer.from(payload) }) },
  )
  t.after(() => server.stop())
  const session = await new RtspClient().push(server.url('/rec'), [
    { type: 'video', codec: 'H264', details: { sps: SPS, pps: PPS } },
    { type: 'audio', codec: 'PCMA', details: {} },
  ])
  const jumpAt = 10
  for (let i = 0; i < 20; i++) {
    // The media clock jumps back 30 s at frame 10 (a source that restarted its timestamps).
    const pts = i < jumpAt ? 100 + i * 0.04 : 70 + i * 0.04
    await session.write(0, { pts, keyFrame: true, data: [IDR] })
    await session.write(1, { pts, data: [Buffer.alloc(320, 0xd5)] })
  }
  await session.close()
  await new Promise((r) => setTimeout(r, 100))

  const isSr = (p: Buffer) => p[1] === 200
  const rtpTs = (p: Buffer) => p.readUInt32BE(4)
  const srRtpTs = (p: Buffer) => p.readUInt32BE(16)
  for (const [rtp, rtcp, clockRate] of [[0, 1, 90000], [2, 3, 8000]] as const) {
    const mine = frames.filter((f) => f.channel === rtp || f.channel === rtcp)
    assert.equal(mine[0]!.channel, rtcp, `track on ${rtp}: the first frame is RTCP`)
    assert.ok(isSr(mine[0]!.payload), 'a sender report')
    const firstRtp = mine.find((f) => f.channel === rtp)!
    // The first SR maps the first packet's instant (the wall clock ran on by a few ms at most).
    assert.ok(Math.abs((srRtpTs(mine[0]!.payload) - rtpTs(firstRtp.payload)) | 0) <= clockRate / 2, "the SR maps the first packet (within the wall-clock time between writes)")
    // After the jump: an SR again before the first packet of the new clock, mapping it.
    const packets = mine.filter((f) => f.channel === rtp)
    const firstAfter = packets.find((p) => ((rtpTs(p.payload) - rtpTs(firstRtp.payload)) | 0) < 0)!
    const idx = mine.indexOf(firstAfter)
    const before = mine[idx - 1]!
    assert.equal(before.channel, rtcp, `track on ${rtp}: an SR right before the first packet after the jump`)
    assert.ok(isSr(before.payload))
    assert.ok(Math.abs((srRtpTs(before.payload) - rtpTs(firstAfter.payload)) | 0) <= clockRate / 2, "the SR maps the new clock, not the old one (30 s away)")
    // One SR at the start and one after the jump (the 5 s interval never came), plus the BYE's.
    assert.equal(mine.filter((f) => f.channel === rtcp).length, 3)
  }
})
