import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { buildOpusHead, opusPacketSamples } from '../../../src/codec/opus.js'
import { InvalidArgumentError, RtspError } from '../../../src/errors.js'
import { resolveFormat } from '../../../src/formats/index.js'
import { OpusDepacketizer } from '../../../src/formats/opus/depacketizer.js'
import { OpusPacketizer } from '../../../src/formats/opus/packetizer.js'
import { opusMediaDescription } from '../../../src/formats/opus/sdp.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { opusDecodeOnly, opusRoundTrip } from '../../vectors/opus.js'
import { hexUnits, parseRtp, toPackets } from '../../vectors/rtp.js'

const media = (sdp: string) => parseSdp(`v=0\r\ns=x\r\nt=0 0\r\n${sdp}`).media[0]!

describe('Opus packetizer', () => {
  for (const v of opusRoundTrip) {
    test(v.name, () => {
      const p = new OpusPacketizer({ payloadType: 111, ssrc: 7, initialSequenceNumber: 1 })
      const packets = p.packetize(v.units).map(parseRtp)
      assert.deepEqual(
        packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
        v.packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
      )
    })
  }
  test('an Opus packet larger than the MTU is refused (no fragmentation in RFC 7587)', () => {
    const p = new OpusPacketizer({ payloadType: 111, ssrc: 7, mtu: 10 })
    assert.throws(() => p.packetize({ rtpTimestamp: 0, data: [Buffer.alloc(11, 0xfc)] }), InvalidArgumentError)
  })
})

describe('Opus depacketizer', () => {
  for (const v of opusRoundTrip) {
    test(v.name, () => {
      const d = new OpusDepacketizer()
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, 0)
    })
  }
  for (const v of opusDecodeOnly) {
    test(v.name, () => {
      const d = new OpusDepacketizer()
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped)
    })
  }
})

describe('Opus format and codec helpers', () => {
  test('48 kHz clock always; sprop-stereo, then stereo, decide the channels', () => {
    const cases: Array<[string, number]> = [
      ['sprop-stereo=1', 2],
      ['sprop-stereo=0;stereo=1', 1],
      ['stereo=1', 2],
      ['stereo=0', 1],
      ['', 2],
    ]
    for (const [fmtp, channels] of cases) {
      const m = media(`m=audio 0 RTP/AVP 96\r\na=rtpmap:96 OPUS/48000/2\r\n${fmtp ? `a=fmtp:96 ${fmtp}\r\n` : ''}`)
      const f = resolveFormat(m, 96)
      assert.deepEqual([f?.codec, f?.clockRate, f?.details], ['OPUS', 48000, { sampleRate: 48000, channels, codecString: 'opus' }], fmtp)
    }
    // RFC 7587 §4.1: a sender that writes opus/16000 still counts at 48 kHz.
    assert.equal(resolveFormat(media('m=audio 0 RTP/AVP 96\r\na=rtpmap:96 opus/16000\r\n'), 96)?.clockRate, 48000)
  })
  test('opusMediaDescription writes opus/48000/2 with sprop-stereo', () => {
    const m = opusMediaDescription({ channels: 1 })
    assert.deepEqual(m.rtpmap.get(111), { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2 })
    assert.equal(m.fmtp.get(111)?.['sprop-stereo'], '0')
  })
  test('opusPacketSamples reads the TOC (RFC 6716 §3.1)', () => {
    assert.equal(opusPacketSamples(Buffer.from([0xfc])), 960) // CELT FB 20 ms, 1 frame
    assert.equal(opusPacketSamples(Buffer.from([0x79, 0])), 1920) // SILK WB 20 ms, 2 frames
    assert.equal(opusPacketSamples(Buffer.from([0x03 | (16 << 3), 0x05])), 600) // CELT 2.5 ms × 5
    assert.equal(opusPacketSamples(Buffer.from([0x1b, 0x03])), undefined) // SILK 60 ms × 3 frames > the 120 ms limit
    assert.equal(opusPacketSamples(Buffer.alloc(0)), undefined)
  })
  test('buildOpusHead: 19 bytes, pre-skip 0', () => {
    assert.equal(buildOpusHead({ channels: 2 }).toString('hex'), '4f7075734865616401020000' + '80bb0000' + '0000' + '00')
    assert.throws(() => buildOpusHead({ channels: 3 }), InvalidArgumentError)
  })
})

describe('Opus properties', () => {
  test('packetize → depacketize is the identity', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 1400 }), { minLength: 1, maxLength: 10 }), fc.nat(), (frames, ts) => {
        const units: AccessUnit[] = frames.map((f, i) => ({ rtpTimestamp: (ts + i * 960) >>> 0, keyFrame: true, data: [Buffer.from(f)] }))
        const p = new OpusPacketizer({ payloadType: 111, ssrc: 1 })
        const d = new OpusDepacketizer()
        const out = p.packetize(units).flatMap((pkt) => [...d.push(parseRtp(pkt))])
        assert.deepEqual(hexUnits(out), hexUnits(units))
      }),
      { numRuns: 200 },
    )
  })
  test('random packets never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.nat(0xffff), fc.nat()), { maxLength: 30 }), (packets) => {
        const d = new OpusDepacketizer()
        for (const [payload, marker, sequenceNumber, timestamp] of packets) {
          try {
            d.push({ marker, payloadType: 96, sequenceNumber, timestamp, ssrc: 1, payload: Buffer.from(payload) })
          } catch (err) {
            assert.ok(err instanceof RtspError, String(err))
          }
          try {
            opusPacketSamples(payload)
          } catch (err) {
            assert.fail(String(err))
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})
