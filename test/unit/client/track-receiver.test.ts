import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TrackReceiver } from '../../../src/client/track-receiver.js'
import type { TrackReceiverSink } from '../../../src/client/track-receiver.js'
import type { Track } from '../../../src/client/track.js'
import { resolveFormat } from '../../../src/formats/registry.js'
import type { AccessUnit, Depacketizer } from '../../../src/formats/types.js'
import { buildRtpPacket } from '../../../src/rtp/packet.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { buildSenderReport, ntpFromDate } from '../../../src/rtcp/packets.js'
import { parseSdp } from '../../../src/sdp/parse.js'

/** One packet = one unit: the payload's first byte says which packet it was. */
class OnePerPacket implements Depacketizer {
  dropped = 0
  resets = 0
  push(p: RtpPacket): readonly AccessUnit[] {
    return [{ rtpTimestamp: p.timestamp, data: [Buffer.from(p.payload)], keyFrame: p.marker }]
  }
  reset(): void {
    this.resets++
  }
}

const track = (codec = 'TEST'): Track =>
  ({ index: 0, type: 'video', codec, payloadType: 96, clockRate: 90000, control: 'rtsp://cam/t0', fmtp: {}, details: {}, transport: { protocol: 'tcp' } }) as unknown as Track

const rtp = (seq: number, ts = seq * 3000, marker = true): Buffer =>
  buildRtpPacket({ payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: ts, ssrc: 0x1234, marker }, Buffer.from([seq & 0xff, 0xaa]))

/** A sink that records what comes out, in order. */
function recorder() {
  const out = {
    units: [] as number[],
    packets: [] as RtpPacket[],
    seqs: [] as number[],
    losses: [] as Array<[number, number]>,
    srs: [] as Array<[number, number]>,
  }
  const sink: TrackReceiverSink = {
    packet: (_rx, p) => {
      out.packets.push(p)
      out.seqs.push(p.sequenceNumber)
    },
    loss: (_rx, expected, got) => out.losses.push([expected, got]),
    unit: (_rx, au) => out.units.push(au.data[0]![0]!),
    senderReport: (_rx, unixMs, ts) => out.srs.push([unixMs, ts]),
  }
  return { out, sink }
}

const onePerPacket = () => ({ createDepacketizer: () => new OnePerPacket() })

describe('TrackReceiver (RTP in → reorder → depacketize → units out)', () => {
  it('TCP: packets in order become units; one packet object is refilled for every packet', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink)
    for (let s = 10; s < 15; s++) rx.receive(rtp(s), s)
    assert.deepEqual(out.units, [10, 11, 12, 13, 14])
    assert.equal(rx.packetsReceived, 5)
    assert.equal(rx.lastPacketAt, 14)
    assert.ok(out.packets.every((p) => p === rx.packet), 'no packet object per packet')
  })

  it('a gap resets the depacketizer and reports the loss; a duplicate or late packet is dropped', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink)
    rx.receive(rtp(65534), 0)
    rx.receive(rtp(65535), 1)
    rx.receive(rtp(2), 2) // 0 and 1 lost across the wrap
    rx.receive(rtp(2), 3) // duplicate
    rx.receive(rtp(1), 4) // late
    assert.deepEqual(out.units, [254, 255, 2])
    assert.deepEqual(out.losses, [[0, 2]])
    assert.equal((rx.depacketizer as OnePerPacket).resets, 1)
    assert.equal(rx.packetsReceived, 5, 'duplicates are counted as received (RFC 3550 A.3)')
  })

  it('UDP: datagrams out of order are put back in order before the depacketizer sees them', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink, { maxPackets: 8, maxDelayMs: 100 })
    for (const s of [100, 102, 103, 101, 104]) rx.receiveDatagram(rtp(s), 0)
    assert.deepEqual(out.units, [100, 101, 102, 103, 104])
    assert.deepEqual(out.losses, [])
    assert.equal(rx.waiting, 0)
  })

  it('UDP: a gap is given up when the session flushes after the delay; the loss reaches the sink', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink, { maxPackets: 8, maxDelayMs: 100 })
    rx.receiveDatagram(rtp(1), 0)
    rx.receiveDatagram(rtp(3), 10)
    rx.receiveDatagram(rtp(4), 20)
    assert.deepEqual(out.units, [1])
    assert.equal(rx.waiting, 2)
    assert.equal(rx.flushExpired(50), 2, 'nothing waited 100 ms yet')
    assert.equal(rx.flushExpired(110), 0)
    assert.deepEqual(out.units, [1, 3, 4])
    assert.deepEqual(out.losses, [[2, 3]])
  })

  it('UDP without a reorder buffer goes straight through', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink)
    for (const s of [5, 7, 6]) rx.receiveDatagram(rtp(s), 0)
    assert.deepEqual(out.units, [5, 7])
    assert.equal(rx.flushExpired(1000), 0)
  })

  it('a datagram that is not RTP version 2 or shorter than a header is counted as malformed', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink, {})
    rx.receiveDatagram(Buffer.alloc(8), 0)
    const v1 = rtp(1)
    v1[0] = 0x40
    rx.receiveDatagram(v1, 0)
    assert.equal(rx.malformed, 2)
    assert.deepEqual(out.units, [])
  })

  it('RTCP sender reports, on the RTCP channel or muxed on the RTP one (RFC 5761 §4), reach the sink', () => {
    const { out, sink } = recorder()
    const rx = new TrackReceiver(track(), onePerPacket(), sink, {})
    const sr = buildSenderReport({ ssrc: 0x1234, ntp: ntpFromDate(1_700_000_000_000), rtpTimestamp: 9000, packetCount: 1, octetCount: 2, cname: 'cam' })
    rx.receiveRtcp(sr, 0)
    rx.receiveDatagram(sr, 1)
    rx.receive(sr, 2)
    assert.equal(rx.rtcpPacketsReceived, 3)
    assert.equal(out.srs.length, 3)
    assert.equal(out.srs[0]![1], 9000)
    assert.ok(Math.abs(out.srs[0]![0] - 1_700_000_000_000) < 1)
    assert.deepEqual(out.units, [])
  })

  it("codec details come from the format's hook: an in-band H.264 SPS in a key frame updates the track", () => {
    const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:t0\r\n')
    const handler = resolveFormat(sdp.media[0]!, 96)!
    const t = track('H264')
    const rx = new TrackReceiver(t, handler, recorder().sink)
    const sps = Buffer.from('6764001eacd940a03db011000003000100000300320f162d96', 'hex')
    const pps = Buffer.from('68ebe3cb22c0', 'hex')
    assert.equal(rx.updateDetails({ data: [sps, pps], keyFrame: false }), false, 'only key frames are looked at')
    assert.equal(rx.updateDetails({ data: [sps, pps], keyFrame: true }), true)
    assert.deepEqual([t.details.width, t.details.height, t.details.profile, t.details.codecString], [640, 480, 'High', 'avc1.64001e'])
    assert.ok(t.details.pps?.equals(pps))
    assert.equal(rx.updateDetails({ data: [sps, pps], keyFrame: true }), false, 'the same SPS again is no update')
  })

  it('a format without a hook leaves the details as the SDP gave them', () => {
    const rx = new TrackReceiver(track(), onePerPacket(), recorder().sink)
    assert.equal(rx.updateDetails({ data: [Buffer.from([0x67])], keyFrame: true }), false)
  })
})
