import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { BackChannel, backChannelFormat, backChannelMedia } from '../../../src/client/backchannel.js'
import type { RtspConnection } from '../../../src/client/connection.js'
import { linearToUlaw } from '../../../src/codec/g711.js'
import { parseRtcpPacket } from '../../../src/rtcp/packets.js'
import { parseRtpPacket } from '../../../src/rtp/packet.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import type { MediaDescription } from '../../../src/sdp/types.js'

const sdp = parseSdp(readFileSync(new URL('../../fixtures/sdp/gstreamer-onvif-backchannel.sdp', import.meta.url)))

test('back-channel: GStreamer\'s RTSPOnvifMediaFactory marks it a=sendonly audio, PCMU static type 0', () => {
  const media = backChannelMedia(sdp)
  assert.equal(media.length, 1)
  assert.equal(media[0]!.control, 'stream=1')
  assert.deepEqual(backChannelFormat(media[0]!), { codec: 'PCMU', payloadType: 0, clockRate: 8000 })
})

test('back-channel: the first G.711 format is taken; AAC only is refused naming what the camera takes', () => {
  const media = (formats: number[], maps: Array<[number, string, number]>): MediaDescription => ({
    type: 'audio', port: 0, protocol: 'RTP/AVP', formats, fmtp: new Map(), attributes: [], direction: 'sendonly',
    rtpmap: new Map(maps.map(([pt, encoding, clockRate]) => [pt, { payloadType: pt, encoding, clockRate }])),
  })
  assert.deepEqual(backChannelFormat(media([97, 8], [[97, 'MPEG4-GENERIC', 16000]])), { codec: 'PCMA', payloadType: 8, clockRate: 8000 })
  assert.deepEqual(backChannelFormat(media([98], [[98, 'pcmu', 16000]])), { codec: 'PCMU', payloadType: 98, clockRate: 16000 })
  assert.throws(() => new BackChannel(media([97], [[97, 'MPEG4-GENERIC', 16000]]), 'rtsp://h/x'), { code: 'RTSP_ERR_UNSUPPORTED', message: /MPEG4-GENERIC.*G\.711/ })
})

/** A connection stand-in that records interleaved writes. */
function fakeConn(): { conn: RtspConnection; frames: Array<{ channel: number; payload: Buffer }> } {
  const frames: Array<{ channel: number; payload: Buffer }> = []
  const conn = { channels: [], localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', writeInterleaved: (channel: number, payload: Buffer) => frames.push({ channel, payload }) }
  return { conn: conn as unknown as RtspConnection, frames }
}

test('back-channel: talk() sends 20 ms G.711 packets with consecutive numbers and timestamps, an SR first, the marker on the first', async () => {
  const { conn, frames } = fakeConn()
  const bc = new BackChannel(backChannelMedia(sdp)[0]!, 'rtsp://127.0.0.1/x/stream=1')
  await bc.setup({ conn, transport: 'tcp', channel: 2, remoteHost: '127.0.0.1', setup: async () => ({ protocol: 'RTP/AVP', lowerTransport: 'TCP', interleaved: [4, 5] }) })
  assert.deepEqual(bc.info.transport, { protocol: 'tcp', interleaved: [4, 5], ssrc: undefined })
  // 0.1 s of a constant level as raw PCM: 5 packets of 160 bytes (800 samples), one a bit short.
  const pcm = Buffer.alloc(790 * 2)
  for (let i = 0; i < 790; i++) pcm.writeInt16LE(1000, i * 2)
  const result = await bc.talk(pcm, { format: 's16le' })
  assert.deepEqual(result, { packetsSent: 5, bytesSent: 790, durationS: 790 / 8000 })
  assert.equal(frames[0]!.channel, 5)
  const sr = parseRtcpPacket(frames[0]!.payload)![0]!
  assert.equal(sr.type, 'sr')
  const rtp = frames.filter((f) => f.channel === 4).map((f) => parseRtpPacket(f.payload)!)
  assert.equal(rtp.length, 5)
  assert.deepEqual(rtp.map((p) => p.payload.length), [160, 160, 160, 160, 150])
  assert.deepEqual(rtp.map((p) => p.marker), [true, false, false, false, false])
  for (let i = 1; i < rtp.length; i++) {
    assert.equal(rtp[i]!.sequenceNumber, (rtp[0]!.sequenceNumber + i) & 0xffff)
    assert.equal(rtp[i]!.timestamp, (rtp[0]!.timestamp + 160 * i) >>> 0)
  }
  assert.ok(rtp.every((p) => p.payloadType === 0 && p.ssrc === sr.ssrc && p.payload.every((b) => b === linearToUlaw(1000))))
  // The SR pairs its instant (at or just after the first packet's) with the RTP time of that instant.
  if (sr.type === 'sr') assert.ok(((sr.rtpTimestamp - rtp[0]!.timestamp) | 0) >= 0)
  // A second talk continues the numbers and starts a new talkspurt.
  await bc.talk([Buffer.alloc(160, 0xff)], { format: 'pcmu' })
  const next = parseRtpPacket(frames.at(-1)!.payload)!
  assert.equal(next.sequenceNumber, (rtp[0]!.sequenceNumber + 5) & 0xffff)
  assert.equal(next.marker, true)
  assert.deepEqual(bc.stats(), { packetsSent: 6, bytesSent: 950, rtcpPacketsSent: 2, rtcpPacketsReceived: 0 })
  bc.close()
  await assert.rejects(bc.talk(pcm, { format: 's16le' }), { code: 'RTSP_ERR_STATE' })
})

test('back-channel: talk() is one at a time; its signal or close() stops it with an AbortError', async () => {
  const { conn } = fakeConn()
  const bc = new BackChannel(backChannelMedia(sdp)[0]!, 'rtsp://127.0.0.1/x/stream=1')
  await bc.setup({ conn, transport: 'tcp', channel: 2, remoteHost: '127.0.0.1', setup: async () => undefined })
  const long = Buffer.alloc(8000 * 10, 0xff) // 10 s
  const ac = new AbortController()
  const talking = bc.talk(long, { format: 'pcmu', signal: ac.signal })
  await assert.rejects(bc.talk(long, { format: 'pcmu' }), { code: 'RTSP_ERR_STATE' })
  ac.abort()
  await assert.rejects(talking, { code: 'RTSP_ERR_ABORTED' })
  const again = bc.talk(long, { format: 'pcmu' })
  bc.close()
  await assert.rejects(again, { code: 'RTSP_ERR_ABORTED' })
})

test('back-channel: an AAC-hbr camera gets the ADTS input\'s frames, one per packet, 1024 ticks apart, AU headers per RFC 3640', async () => {
  const media: MediaDescription = {
    type: 'audio', port: 0, protocol: 'RTP/AVP', formats: [96], attributes: [], direction: 'sendonly',
    rtpmap: new Map([[96, { payloadType: 96, encoding: 'MPEG4-GENERIC', clockRate: 16000 }]]),
    fmtp: new Map([[96, { streamtype: '5', mode: 'AAC-hbr', config: '1408', sizelength: '13', indexlength: '3', indexdeltalength: '3' }]]),
  }
  assert.deepEqual(backChannelFormat(media), { codec: 'AAC', payloadType: 96, clockRate: 16000, config: Buffer.from([0x14, 0x08]) })
  const { conn, frames } = fakeConn()
  const bc = new BackChannel(media, 'rtsp://127.0.0.1/x/stream=1')
  await bc.setup({ conn, transport: 'tcp', channel: 2, remoteHost: '127.0.0.1', setup: async () => undefined })
  // Three ADTS frames (AAC-LC, 16 kHz, mono) of 10, 20 and 30 bytes: 3 × 64 ms.
  const adts = (payload: Buffer): Buffer => {
    const len = payload.length + 7
    return Buffer.concat([Buffer.from([0xff, 0xf1, (1 << 6) | (8 << 2), 0x40 | ((len >> 11) & 3), (len >> 3) & 0xff, ((len & 7) << 5) | 0x1f, 0xfc]), payload])
  }
  const result = await bc.talk(Buffer.concat([adts(Buffer.alloc(10, 1)), adts(Buffer.alloc(20, 2)), adts(Buffer.alloc(30, 3))]))
  assert.deepEqual(result, { packetsSent: 3, bytesSent: 60, durationS: 3072 / 16000 })
  const rtp = frames.filter((f) => f.channel === 2).map((f) => parseRtpPacket(f.payload)!)
  assert.deepEqual(rtp.map((p) => p.timestamp - rtp[0]!.timestamp), [0, 1024, 2048])
  assert.ok(rtp.every((p) => p.marker && p.payloadType === 96))
  // AU-headers-length 16 bits, then AU-size (13 bits) << 3 | index 0.
  assert.deepEqual([...rtp[1]!.payload.subarray(0, 4)], [0x00, 0x10, (20 << 3) >> 8, (20 << 3) & 0xff])
  assert.deepEqual([...rtp[1]!.payload.subarray(4)], [...Buffer.alloc(20, 2)])
  await assert.rejects(bc.talk(Buffer.alloc(320), { format: 's16le' }), { code: 'RTSP_ERR_UNSUPPORTED', message: /does not encode/ })
  bc.close()
})
