import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ZIGZAG, buildJpegHeader, jpegSize, parseJpeg, rfc2435QuantTables } from '../../../src/codec/jpeg.js'
import { MediaError, RtspError, UnsupportedError } from '../../../src/errors.js'
import { resolveFormat } from '../../../src/formats/index.js'
import { MjpegDepacketizer } from '../../../src/formats/mjpeg/depacketizer.js'
import { mjpegUpdateDetails } from '../../../src/formats/mjpeg/index.js'
import { MjpegPacketizer } from '../../../src/formats/mjpeg/packetizer.js'
import type { AccessUnit, CodecDetails } from '../../../src/formats/types.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { LIBJPEG_Q30, LIBJPEG_Q85, jfif, mjpegDecodeOnly, mjpegRoundTrip } from '../../vectors/mjpeg.js'
import { h, parseRtp, toPackets } from '../../vectors/rtp.js'

const hexUnits = (units: readonly AccessUnit[]) => units.map((u) => ({ ts: u.rtpTimestamp, key: u.keyFrame, data: u.data.map((b) => b.toString('hex')) }))

function run(d: MjpegDepacketizer, packets: ReturnType<typeof toPackets>): AccessUnit[] {
  const out: AccessUnit[] = []
  for (const p of packets) out.push(...d.push(p))
  return out
}

describe('MJPEG round-trip vectors', () => {
  for (const v of mjpegRoundTrip) {
    test(`packetize: ${v.name}`, () => {
      const p = new MjpegPacketizer({ payloadType: 26, ssrc: 7, mtu: v.mtu, initialSequenceNumber: 65535 })
      const packets = p.packetize({ data: [v.jpeg], rtpTimestamp: v.rtpTimestamp }).map(parseRtp)
      assert.deepEqual(
        packets.map((x) => ({ marker: x.marker, payload: x.payload.toString('hex') })),
        v.packets.map((x) => ({ marker: x.marker, payload: x.payload.toString('hex') })),
      )
      packets.forEach((x, i) => {
        assert.equal(x.sequenceNumber, (65535 + i) & 0xffff)
        assert.equal(x.timestamp, v.rtpTimestamp)
        assert.equal(x.payloadType, 26)
      })
    })
    test(`depacketize: ${v.name}`, () => {
      const d = new MjpegDepacketizer()
      assert.deepEqual(hexUnits(run(d, toPackets(v.packets, v.rtpTimestamp))), hexUnits([{ rtpTimestamp: v.rtpTimestamp, keyFrame: true, data: [v.jpeg] }]))
      assert.equal(d.dropped, 0)
    })
  }
})

describe('MJPEG decode-only vectors', () => {
  for (const v of mjpegDecodeOnly) {
    test(v.name, () => {
      const d = new MjpegDepacketizer()
      assert.deepEqual(hexUnits(run(d, toPackets(v.packets, 0))), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped, 'dropped')
    })
  }
})

describe('MjpegDepacketizer', () => {
  test('reset drops the partial frame once; a frame over the size limit is dropped', () => {
    const d = new MjpegDepacketizer({ maxFrameSize: 20 })
    const [first] = mjpegRoundTrip[0]!.packets
    d.push({ ...toPackets([{ ...first!, marker: false }], 0)[0]! })
    d.reset()
    d.reset()
    assert.equal(d.dropped, 1)
    const big = new MjpegDepacketizer({ maxFrameSize: 4 })
    assert.deepEqual(run(big, toPackets(mjpegRoundTrip[0]!.packets, 0)), [])
    assert.equal(big.dropped, 1)
    assert.throws(() => new MjpegDepacketizer({ maxFrameSize: 0 }), RtspError)
  })
})

describe('JPEG helpers', () => {
  test('zigzag order is a permutation that starts 0, 1, 8, 16, 9, 2 and ends 63', () => {
    assert.deepEqual(ZIGZAG.slice(0, 6), [0, 1, 8, 16, 9, 2])
    assert.equal(ZIGZAG[63], 63)
    assert.equal(new Set(ZIGZAG).size, 64)
  })

  test('RFC 2435 Q scaling gives the tables libjpeg writes for the same quality', () => {
    assert.equal(rfc2435QuantTables(85).toString('hex'), Buffer.concat([LIBJPEG_Q85.luma, LIBJPEG_Q85.chroma]).toString('hex'))
    assert.equal(rfc2435QuantTables(30).toString('hex'), Buffer.concat([LIBJPEG_Q30.luma, LIBJPEG_Q30.chroma]).toString('hex'))
    assert.ok(rfc2435QuantTables(99).every((v) => v >= 1))
  })

  test('buildJpegHeader matches the independently assembled vector header', () => {
    const jpeg = jfif({ type: 0, width: 320, height: 240, ...LIBJPEG_Q30, dri: 20, scan: h('aa') })
    const header = buildJpegHeader({ type: 0, width: 320, height: 240, tables: [LIBJPEG_Q30.luma, LIBJPEG_Q30.chroma], restartInterval: 20 })
    assert.equal(header.toString('hex'), jpeg.subarray(0, jpeg.length - 3).toString('hex'))
    assert.deepEqual(jpegSize(jpeg), { width: 320, height: 240 })
  })

  test('parseJpeg refuses what RFC 2435 cannot carry', () => {
    const good = mjpegRoundTrip[0]!.jpeg
    assert.equal(parseJpeg(good).type, 1)
    assert.throws(() => parseJpeg(h('0000')), MediaError)
    assert.throws(() => parseJpeg(good.subarray(0, 60)), MediaError)
    // 4:4:4: luma sampling 0x11
    const yuv444 = Buffer.from(good)
    yuv444[yuv444.indexOf(h('ffc0')) + 11] = 0x11
    assert.throws(() => parseJpeg(yuv444), UnsupportedError)
    // progressive (SOF2)
    const progressive = Buffer.from(good)
    progressive[progressive.indexOf(h('ffc0')) + 1] = 0xc2
    assert.throws(() => parseJpeg(progressive), UnsupportedError)
    // a non-standard Huffman table
    const optimized = Buffer.from(good)
    const at = optimized.indexOf(h('ffc4')) + 30
    optimized[at] = optimized[at]! ^ 1
    assert.throws(() => parseJpeg(optimized), UnsupportedError)
  })

  test('packetizer: every payload within the MTU, marker on the last; bad JPEG → typed error', () => {
    const jpeg = jfif({ type: 1, width: 640, height: 480, ...LIBJPEG_Q85, scan: Buffer.alloc(10_000, 0x5a) })
    const packets = new MjpegPacketizer({ payloadType: 26, ssrc: 1 }).packetize({ data: [jpeg], rtpTimestamp: 0 })
    assert.ok(packets.every((b) => b.length - 12 <= 1400))
    assert.deepEqual(packets.map((b) => (b[1]! & 0x80) !== 0), packets.map((_, i) => i === packets.length - 1))
    assert.throws(() => new MjpegPacketizer({ payloadType: 26, ssrc: 1 }).packetize({ data: [h('ffd8ffd9')], rtpTimestamp: 0 }), RtspError)
    assert.throws(() => new MjpegPacketizer({ payloadType: 26, ssrc: 1, mtu: 100 }), RtspError)
  })
})

describe('MJPEG format', () => {
  test('static payload type 26 without rtpmap resolves to JPEG at 90 kHz', () => {
    const media = parseSdp('v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n').media[0]!
    const handler = resolveFormat(media, 26)!
    assert.equal(handler.codec, 'JPEG')
    assert.equal(handler.clockRate, 90000)
    assert.ok(handler.createDepacketizer() instanceof MjpegDepacketizer)
  })

  test('width and height come from the frames', () => {
    const details: CodecDetails = {}
    assert.equal(mjpegUpdateDetails(details, [mjpegRoundTrip[1]!.jpeg]), true)
    assert.deepEqual(details, { width: 320, height: 240 })
    assert.equal(mjpegUpdateDetails(details, [mjpegRoundTrip[1]!.jpeg]), false)
    assert.equal(mjpegUpdateDetails(details, [h('00')]), false)
  })
})
