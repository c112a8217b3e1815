import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { buildStreamMuxConfig, parseStreamMuxConfig } from '../../../src/codec/latm.js'
import { RtspError, UnsupportedError } from '../../../src/errors.js'
import { resolveFormat } from '../../../src/formats/index.js'
import { LatmDepacketizer } from '../../../src/formats/latm/depacketizer.js'
import { LatmPacketizer } from '../../../src/formats/latm/packetizer.js'
import { latmMediaDescription } from '../../../src/formats/latm/sdp.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { adtsHeaderTemplate } from '../../../src/output/adts-recorder.js'
import { latmDecodeOnly, latmRoundTrip } from '../../vectors/latm.js'
import { h, hexUnits, parseRtp, toPackets } from '../../vectors/rtp.js'

const media = (sdp: string) => parseSdp(`v=0\r\ns=x\r\nt=0 0\r\n${sdp}`).media[0]!

describe('LATM packetizer', () => {
  for (const v of latmRoundTrip) {
    test(v.name, () => {
      const p = new LatmPacketizer({ payloadType: 96, ssrc: 7, initialSequenceNumber: 1, ...(v.mtu ? { mtu: v.mtu } : {}) })
      const packets = p.packetize(v.units).map(parseRtp)
      assert.deepEqual(
        packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
        v.packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
      )
    })
  }
})

describe('LATM depacketizer', () => {
  for (const v of latmRoundTrip) {
    test(v.name, () => {
      const d = new LatmDepacketizer()
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, 0)
    })
  }
  for (const v of latmDecodeOnly) {
    test(v.name, () => {
      const d = new LatmDepacketizer(v.options)
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped)
    })
  }
  test('reset() after loss drops the partial element and skips its other fragments', () => {
    const d = new LatmDepacketizer()
    d.push({ marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('05 aabb') })
    d.reset()
    assert.deepEqual(d.push({ marker: true, payloadType: 96, sequenceNumber: 5, timestamp: 0, ssrc: 1, payload: h('ccdd') }), [])
    assert.equal(hexUnits(d.push({ marker: true, payloadType: 96, sequenceNumber: 6, timestamp: 1024, ssrc: 1, payload: h('01 ee') })).length, 1)
    assert.equal(d.dropped, 1)
  })
  test('a frame in a single packet is a view over it (no copy)', () => {
    const payload = h('02 aabb')
    const [u] = new LatmDepacketizer().push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload })
    assert.equal(u!.data[0]!.buffer, payload.buffer)
  })
})

describe('StreamMuxConfig', () => {
  test('GStreamer avenc_aac ! rtpmp4apay (ASC with the 0x2b7 no-SBR extension, tail cut short)', () => {
    const c = parseStreamMuxConfig(h('40002410adca00'))
    assert.equal(c.audioSpecificConfig.toString('hex'), '120856e500')
    assert.deepEqual([c.asc.objectType, c.asc.sampleRate, c.asc.channels, c.subFrames, c.frameLengthType], [2, 44100, 1, 1, 0])
  })
  test('build → parse round trip (LC 48 kHz stereo, HE-AAC 44.1 kHz)', () => {
    assert.equal(buildStreamMuxConfig(h('1190')).toString('hex'), '400023203fc0')
    const lc = parseStreamMuxConfig(buildStreamMuxConfig(h('1190')))
    assert.deepEqual([lc.audioSpecificConfig.toString('hex'), lc.asc.sampleRate, lc.asc.channels, lc.otherDataPresent, lc.crcCheckPresent], ['1190', 48000, 2, false, false])
    // explicit SBR: object type 5, core 22.05 kHz, extension 44.1 kHz, core LC
    const he = parseStreamMuxConfig(buildStreamMuxConfig(h('2b 92 08 00')))
    assert.deepEqual([he.asc.objectType, he.asc.sampleRate, he.asc.frameLength], [5, 44100, 2048])
  })
  test('audioMuxVersion 1 with an explicit ASC length', () => {
    // 1 | A 0 | tara: 00 ff | same 1 | sub 000000 | prog 0000 | layer 000 | ascLen: 00 00010000 (16) | 1190 | flt 000 | full ff | other 0 | crc 0
    const bits = '1' + '0' + '00' + '11111111' + '1' + '000000' + '0000' + '000' + '00' + '00010000' + '0001000110010000' + '000' + '11111111' + '0' + '0'
    const c = parseStreamMuxConfig(Buffer.from((bits + '0'.repeat(-bits.length & 7)).match(/.{8}/g)!.map((b) => Number.parseInt(b, 2))))
    assert.deepEqual([c.audioMuxVersion, c.audioSpecificConfig.toString('hex'), c.asc.sampleRate], [1, '1190', 48000])
  })
  test('refuses several programs and non-AAC frame length types', () => {
    assert.throws(() => parseStreamMuxConfig(h('4010')), UnsupportedError) // numProgram 1
    assert.throws(() => parseStreamMuxConfig(h('40002320 7fc0')), UnsupportedError) // frameLengthType 1... (CELP)
  })
})

describe('MP4A-LATM format', () => {
  test('cpresent=0 with config: AAC details from the StreamMuxConfig', () => {
    const f = resolveFormat(media('m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/44100/1\r\na=fmtp:96 cpresent=0;config=40002410adca00\r\n'), 96)
    assert.equal(f?.codec, 'MP4A-LATM')
    assert.equal(f.clockRate, 44100)
    assert.deepEqual({ ...f.details, audioSpecificConfig: f.details.audioSpecificConfig?.toString('hex') }, {
      audioSpecificConfig: '120856e500',
      objectType: 2,
      sampleRate: 44100,
      channels: 1,
      codecString: 'mp4a.40.2',
    })
  })
  test('in-band config (cpresent=1 or absent), no config, a broken one: not consumed', () => {
    for (const fmtp of ['cpresent=1;config=400023203fc0', 'config=400023203fc0', 'cpresent=0', 'cpresent=0;config=4010']) {
      assert.equal(resolveFormat(media(`m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000\r\na=fmtp:96 ${fmtp}\r\n`), 96), undefined, fmtp)
    }
  })
  test('latmMediaDescription writes cpresent=0 and the config', () => {
    const m = latmMediaDescription({ config: h('1190') })
    assert.deepEqual(m.rtpmap.get(97), { payloadType: 97, encoding: 'MP4A-LATM', clockRate: 48000, channels: 2 })
    assert.equal(m.fmtp.get(97)?.['config'], '400023203fc0')
    assert.equal(resolveFormat(m, 97)?.details.codecString, 'mp4a.40.2')
  })
})

describe('LATM properties', () => {
  test('packetize → depacketize is the identity, for any MTU', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 2, max: 1500 }), fc.nat(), (frames, mtu, ts) => {
        const units: AccessUnit[] = frames.map((f, i) => ({ rtpTimestamp: (ts + i * 1024) >>> 0, keyFrame: true, data: [Buffer.from(f)] }))
        const p = new LatmPacketizer({ payloadType: 96, ssrc: 1, mtu })
        const d = new LatmDepacketizer()
        const out = p.packetize(units).flatMap((pkt) => [...d.push(parseRtp(pkt))])
        assert.deepEqual(hexUnits(out), hexUnits(units))
        assert.equal(d.dropped, 0)
      }),
      { numRuns: 200 },
    )
  })
  test('random packets and configs never throw anything but RtspError', () => {
    const seeds = [...latmRoundTrip, ...latmDecodeOnly].flatMap((v) => v.packets.map((p) => p.payload))
    const payloadArb = fc.oneof(
      fc.constantFrom(...seeds),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255)).map(([s, i, v]) => {
        const b = Buffer.from(s)
        if (b.length > 0) b[i % b.length] = v
        return b
      }),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(payloadArb, fc.boolean(), fc.nat(2), fc.nat(2)), { maxLength: 30 }), fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 12 }), (packets, subFrames, config) => {
        const d = new LatmDepacketizer({ subFrames, maxAccessUnitSize: 500 })
        let seq = 0
        let ts = 0
        for (const [payload, marker, seqStep, tsStep] of packets) {
          seq = (seq + seqStep) & 0xffff
          ts = (ts + tsStep * 1024) >>> 0
          if (seqStep === 2) d.reset()
          try {
            for (const u of d.push({ marker, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 1, payload })) assert.ok(u.data[0]!.length > 0)
          } catch (err) {
            assert.ok(err instanceof RtspError, String(err))
          }
        }
        try {
          parseStreamMuxConfig(config)
        } catch (err) {
          assert.ok(err instanceof RtspError, String(err))
        }
      }),
      { numRuns: 300 },
    )
  })
})

describe('ADTS header for AAC from LATM', () => {
  const track = (asc: string) => ({ type: 'audio' as const, codec: 'MP4A-LATM', clockRate: 48000, details: { audioSpecificConfig: h(asc) } })
  test('LC 48 kHz stereo: profile 1, index 3, channels 2', () => {
    const t = adtsHeaderTemplate(track('1190'))
    assert.ok(Buffer.isBuffer(t))
    assert.equal(t.toString('hex'), 'fff14c80001ffc')
  })
  test('HE-AAC names its LC core at the core rate; 960-sample frames are refused', () => {
    const he = adtsHeaderTemplate(track('2b920800'))
    assert.ok(Buffer.isBuffer(he))
    assert.equal(he[2], (1 << 6) | (7 << 2)) // LC, 22.05 kHz
    assert.match(String(adtsHeaderTemplate(track('1194'))), /960-sample frames/)
  })
})
