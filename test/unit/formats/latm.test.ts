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
import { latmUpdateDetails } from '../../../src/formats/latm/index.js'
import type { CodecDetails } from '../../../src/formats/types.js'
import { FFMPEG_LOAS, inBandElement, latmDecodeOnly, latmInBand, latmRoundTrip } from '../../vectors/latm.js'
import { payloadArb } from '../../helpers/payload-arb.js'
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

describe('LATM depacketizer, cpresent=1 (StreamMuxConfig in-band)', () => {
  for (const v of latmInBand) {
    test(v.name, () => {
      const config = v.sdpAsc !== undefined ? parseStreamMuxConfig(buildStreamMuxConfig(v.sdpAsc)) : undefined
      const d = new LatmDepacketizer({ ...v.options, ...(config ? { config } : {}) })
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped)
      if (v.asc !== undefined) assert.equal(d.streamMuxConfig?.audioSpecificConfig.toString('hex'), v.asc.toString('hex'))
    })
  }
  test('a repeated config keeps the config object; a changed one replaces it', () => {
    const d = new LatmDepacketizer({ muxConfigPresent: true, clockRate: 16000 })
    const push = (payload: Buffer, ts: number) => d.push({ marker: true, payloadType: 96, sequenceNumber: ts / 1024, timestamp: ts, ssrc: 1, payload })
    push(FFMPEG_LOAS.elements[0]!, 0)
    const first = d.streamMuxConfig
    push(inBandElement({ asc: 0x1408 }, [h('aa')]), 1024)
    assert.equal(d.streamMuxConfig, first)
    push(inBandElement({ asc: 0x1410 }, [h('aa')]), 2048)
    assert.notEqual(d.streamMuxConfig, first)
    assert.equal(d.streamMuxConfig?.asc.channels, 2)
  })
  test('latmUpdateDetails: the first in-band config and each change fill the track details once', () => {
    const d = new LatmDepacketizer({ muxConfigPresent: true, clockRate: 16000 })
    const details: CodecDetails = { sampleRate: 16000 }
    const push = (payload: Buffer, ts: number) => d.push({ marker: true, payloadType: 96, sequenceNumber: ts / 1024, timestamp: ts, ssrc: 1, payload })
    assert.equal(latmUpdateDetails(details, d), false)
    push(FFMPEG_LOAS.elements[0]!, 0)
    assert.equal(latmUpdateDetails(details, d), true)
    assert.deepEqual({ ...details, audioSpecificConfig: details.audioSpecificConfig?.toString('hex') }, {
      audioSpecificConfig: '1408',
      objectType: 2,
      sampleRate: 16000,
      channels: 1,
      codecString: 'mp4a.40.2',
    })
    push(FFMPEG_LOAS.elements[1]!, 1024)
    assert.equal(latmUpdateDetails(details, d), false)
    push(inBandElement({ asc: 0x1410 }, [h('aa')]), 2048)
    assert.equal(latmUpdateDetails(details, d), true)
    assert.equal(details.channels, 2)
    assert.equal(latmUpdateDetails(details, new LatmDepacketizer()), false)
  })
  test('in-band elements at every bit offset and frame size → the frames (encoder from the vectors file)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.array(fc.uint8Array({ minLength: 1, maxLength: 700 }), { minLength: 1, maxLength: 3 })), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 2 }),
        fc.nat(),
        (elements, other, ts) => {
          const d = new LatmDepacketizer({ muxConfigPresent: true, clockRate: 16000 })
          const expected: AccessUnit[] = []
          let t = ts
          elements.forEach(([withConfig, frames], i) => {
            // The first element always carries the config; the number of subframes is fixed by it.
            const n = elements[0]![1].length
            const fs: Buffer[] = frames.slice(0, n).map((f) => Buffer.from(f))
            while (fs.length < n) fs.push(h('77'))
            const config = i === 0 || withConfig ? { asc: 0x1408, subFrames: n, otherDataBytes: other } : undefined
            const payload = inBandElement(config, fs)
            const out = d.push({ marker: true, payloadType: 96, sequenceNumber: i, timestamp: t >>> 0, ssrc: 1, payload })
            fs.forEach((f, k) => expected.push({ rtpTimestamp: (t + k * 1024) >>> 0, keyFrame: true, data: [f] }))
            assert.deepEqual(hexUnits(out), hexUnits(expected.slice(-n)))
            t += n * 1024
          })
          assert.equal(d.dropped, 0)
        },
      ),
      { numRuns: 200 },
    )
  })
  test('random in-band packets never throw anything but RtspError', () => {
    const seeds = latmInBand.flatMap((v) => v.packets.map((p) => p.payload))
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(255), fc.nat(40)), { maxLength: 20 }), (packets) => {
        const d = new LatmDepacketizer({ muxConfigPresent: true })
        let seq = 0
        for (const [seed, i, v, cut] of packets) {
          const b = Buffer.from(seed.subarray(0, Math.max(1, seed.length - cut)))
          b[i % b.length] = v
          try {
            for (const u of d.push({ marker: true, payloadType: 96, sequenceNumber: seq++, timestamp: seq * 1024, ssrc: 1, payload: b })) assert.ok(u.data[0]!.length > 0)
          } catch (err) {
            assert.ok(err instanceof RtspError, String(err))
          }
        }
      }),
      { numRuns: 300 },
    )
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
  test('cpresent=0 without a usable config: not consumed', () => {
    for (const fmtp of ['cpresent=0', 'cpresent=0;config=4010']) {
      assert.equal(resolveFormat(media(`m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000\r\na=fmtp:96 ${fmtp}\r\n`), 96), undefined, fmtp)
    }
  })
  test('cpresent=1 (or absent) without config: taken with the rtpmap details, config read in-band', () => {
    for (const fmtp of ['cpresent=1', 'profile-level-id=15;object=2', 'cpresent=1;config=4010']) {
      const f = resolveFormat(media(`m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/16000/1\r\na=fmtp:96 ${fmtp}\r\n`), 96)
      assert.equal(f?.codec, 'MP4A-LATM', fmtp)
      assert.equal(f.clockRate, 16000)
      assert.deepEqual(f.details, { sampleRate: 16000, channels: 1 })
      const d = f.createDepacketizer()
      const out = d.push(parseRtp(Buffer.concat([h('80e0 0001 00000000 00000001'), FFMPEG_LOAS.elements[0]!])))
      assert.deepEqual(hexUnits(out), hexUnits([{ rtpTimestamp: 0, keyFrame: true, data: [FFMPEG_LOAS.frames[0]!] }]))
    }
    assert.deepEqual(resolveFormat(media('m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000\r\n'), 96)?.details, { sampleRate: 48000 })
  })
  test('cpresent=1 with config: SDP details until the in-band config says otherwise', () => {
    const f = resolveFormat(media('m=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000/2\r\na=fmtp:96 cpresent=1;config=400023203fc0\r\n'), 96)
    assert.equal(f?.details.audioSpecificConfig?.toString('hex'), '1190')
    const d = f.createDepacketizer()
    // An element with useSameStreamMux 1 is read with the SDP's config.
    const out = d.push(parseRtp(Buffer.concat([h('80e0 0001 00000000 00000001'), inBandElement(undefined, [h('abcd')])])))
    assert.deepEqual(hexUnits(out), hexUnits([{ rtpTimestamp: 0, keyFrame: true, data: [h('abcd')] }]))
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
    const payloads = payloadArb(seeds)
    fc.assert(
      fc.property(fc.array(fc.tuple(payloads, fc.boolean(), fc.nat(2), fc.nat(2)), { maxLength: 30 }), fc.integer({ min: 1, max: 3 }), fc.uint8Array({ maxLength: 12 }), (packets, subFrames, config) => {
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
