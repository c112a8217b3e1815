/**
 * keyframe.ts: which RTP payloads start a random access point, checked on hand-made
 * payloads of every packetization mode and on real x264 pictures packetized by rtspkit.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { H264Packetizer } from '../../../src/formats/h264/packetizer.js'
import { H265Packetizer } from '../../../src/formats/h265/packetizer.js'
import { parseRtpPacket } from '../../../src/rtp/packet.js'
import { h264PayloadHasKey, h265PayloadHasKey, keyFrameProbe } from '../../../src/server/keyframe.js'
import { makeFixtureClip, type FixtureClip } from '../../helpers/media-fixture.js'

const b = (...bytes: number[]) => Buffer.from(bytes)
/** H.265 NAL header (RFC 7798 §1.1.4): F(1) Type(6) LayerId(6) TID(3). */
const h265 = (type: number) => [type << 1, 1]

describe('h264PayloadHasKey (RFC 6184)', () => {
  it('single NAL units: IDR and SPS start a key frame, other slices and PPS/SEI do not', () => {
    assert.equal(h264PayloadHasKey(b(0x65, 0x88, 0x80)), true) // IDR
    assert.equal(h264PayloadHasKey(b(0x67, 0x42, 0x00, 0x1e)), true) // SPS
    assert.equal(h264PayloadHasKey(b(0x41, 0x9a)), false) // non-IDR slice
    assert.equal(h264PayloadHasKey(b(0x68, 0xce)), false) // PPS
    assert.equal(h264PayloadHasKey(b(0x06, 0x05)), false) // SEI
    assert.equal(h264PayloadHasKey(b(0x09, 0xf0)), false) // AUD
  })

  it('STAP-A (§5.7.1): a key NAL anywhere in the aggregate', () => {
    // STAP-A header, then [size16, NAL]...
    assert.equal(h264PayloadHasKey(b(0x78, 0, 2, 0x09, 0xf0, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce)), true)
    assert.equal(h264PayloadHasKey(b(0x78, 0, 2, 0x09, 0xf0, 0, 3, 0x65, 0x88, 0x80)), true)
    assert.equal(h264PayloadHasKey(b(0x78, 0, 2, 0x06, 0x05, 0, 2, 0x41, 0x9a)), false)
  })

  it('FU-A (§5.8): only the first fragment of an IDR', () => {
    assert.equal(h264PayloadHasKey(b(0x7c, 0x85, 0x88)), true) // S=1, type 5
    assert.equal(h264PayloadHasKey(b(0x7c, 0x05, 0x88)), false) // middle fragment
    assert.equal(h264PayloadHasKey(b(0x7c, 0x45, 0x88)), false) // end fragment
    assert.equal(h264PayloadHasKey(b(0x5c, 0x81, 0x9a)), false) // S=1, non-IDR
  })

  it('never throws on empty or truncated payloads', () => {
    for (const p of [b(), b(0x78), b(0x78, 0), b(0x78, 0xff, 0xff), b(0x78, 0, 9, 0x41), b(0x7c), b(0x18)]) {
      assert.equal(typeof h264PayloadHasKey(p), 'boolean')
    }
    assert.equal(h264PayloadHasKey(b(0x78, 0xff, 0xff)), false)
  })
})

describe('h265PayloadHasKey (RFC 7798)', () => {
  it('single NAL units: IRAP pictures (BLA, IDR, CRA), VPS and SPS', () => {
    for (const type of [16, 19, 20, 21, 32, 33]) assert.equal(h265PayloadHasKey(b(...h265(type), 0xaf)), true, `type ${type}`)
    for (const type of [0, 1, 9, 34, 35, 39]) assert.equal(h265PayloadHasKey(b(...h265(type), 0xaf)), false, `type ${type}`)
  })

  it('aggregation packets (§4.4.2)', () => {
    assert.equal(h265PayloadHasKey(b(...h265(48), 0, 3, ...h265(35), 0x10, 0, 3, ...h265(32), 0x0c)), true)
    assert.equal(h265PayloadHasKey(b(...h265(48), 0, 3, ...h265(35), 0x10, 0, 3, ...h265(1), 0x0c)), false)
  })

  it('fragmentation units (§4.4.3): first fragment of an IRAP only', () => {
    assert.equal(h265PayloadHasKey(b(...h265(49), 0x80 | 19, 0xaf)), true)
    assert.equal(h265PayloadHasKey(b(...h265(49), 0x80 | 21, 0xaf)), true)
    assert.equal(h265PayloadHasKey(b(...h265(49), 19, 0xaf)), false)
    assert.equal(h265PayloadHasKey(b(...h265(49), 0x40 | 19, 0xaf)), false)
    assert.equal(h265PayloadHasKey(b(...h265(49), 0x80 | 1, 0xaf)), false)
  })

  it('never throws on empty or truncated payloads', () => {
    for (const p of [b(), b(0x60), b(...h265(48)), b(...h265(48), 0xff, 0xff), b(...h265(49))]) {
      assert.equal(typeof h265PayloadHasKey(p), 'boolean')
    }
  })
})

describe('keyFrameProbe', () => {
  it('gates H.264 and H.265 (any case), not audio or MJPEG', () => {
    assert.equal(keyFrameProbe('H264'), h264PayloadHasKey)
    assert.equal(keyFrameProbe('h264'), h264PayloadHasKey)
    assert.equal(keyFrameProbe('H265'), h265PayloadHasKey)
    assert.equal(keyFrameProbe('HEVC'), h265PayloadHasKey)
    for (const codec of ['AAC', 'MPEG4-GENERIC', 'OPUS', 'PCMA', 'JPEG', '']) assert.equal(keyFrameProbe(codec), undefined, codec)
  })
})

describe('on pictures packetized by rtspkit', () => {
  let clip: FixtureClip
  before(async () => {
    // A large picture at a high bitrate, so that key frames need FU-A fragments.
    clip = await makeFixtureClip({ seconds: 1, audio: false, gop: 10, size: '640x480', videoBitrate: '4M' })
  })

  for (const mtu of [200, 1400]) {
    it(`H.264, MTU ${mtu}: the first packet of each key frame and nothing else`, () => {
      const packetizer = new H264Packetizer({ payloadType: 96, ssrc: 1, mtu })
      let keys = 0
      for (const f of clip.videoFrames) {
        const data = f.keyFrame ? [clip.sps, clip.pps, ...f.data.filter((n) => (n[0]! & 0x1f) !== 7 && (n[0]! & 0x1f) !== 8)] : f.data
        const packets = packetizer.packetize({ data, rtpTimestamp: 0 }).map((p) => parseRtpPacket(p)!.payload)
        assert.equal(h264PayloadHasKey(packets[0]!), f.keyFrame)
        // After the first packet, only the IDR's first fragment (or the IDR itself) may say key.
        const flagged = packets.filter((p) => h264PayloadHasKey(p)).length
        if (!f.keyFrame) assert.equal(flagged, 0)
        else keys++
      }
      assert.ok(keys >= 2)
    })
  }

  it('H.265 FU and single NAL packets from the packetizer', () => {
    const packetizer = new H265Packetizer({ payloadType: 96, ssrc: 1, mtu: 100 })
    const idr = Buffer.concat([b(...h265(19)), Buffer.alloc(500, 0xab)])
    const trail = Buffer.concat([b(...h265(1)), Buffer.alloc(500, 0xab)])
    const key = packetizer.packetize({ data: [idr], rtpTimestamp: 0 }).map((p) => parseRtpPacket(p)!.payload)
    assert.ok(key.length > 1)
    assert.deepEqual(key.map((p) => h265PayloadHasKey(p)), key.map((_, i) => i === 0))
    const delta = packetizer.packetize({ data: [trail], rtpTimestamp: 0 }).map((p) => parseRtpPacket(p)!.payload)
    assert.ok(delta.every((p) => !h265PayloadHasKey(p)))
  })
})
