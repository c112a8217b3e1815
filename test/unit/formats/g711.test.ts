import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { RtspError } from '../../../src/errors.js'
import { resolveFormat } from '../../../src/formats/index.js'
import { G711Depacketizer } from '../../../src/formats/g711/depacketizer.js'
import { G711Packetizer } from '../../../src/formats/g711/packetizer.js'
import { g711MediaDescription } from '../../../src/formats/g711/sdp.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { g711DecodeOnly, g711RoundTrip } from '../../vectors/g711.js'
import { hexUnits, parseRtp, toPackets } from '../../vectors/rtp.js'

const media = (sdp: string) => parseSdp(`v=0\r\ns=x\r\nt=0 0\r\n${sdp}`).media[0]!

describe('G.711 packetizer', () => {
  for (const v of g711RoundTrip) {
    test(v.name, () => {
      const p = new G711Packetizer({ payloadType: 8, ssrc: 0x1234, initialSequenceNumber: 65535, ...v.options })
      const packets = p.packetize(v.input).map(parseRtp)
      assert.deepEqual(
        packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
        v.packets.map((x) => ({ marker: x.marker, timestamp: x.timestamp, payload: x.payload.toString('hex') })),
      )
      assert.deepEqual(packets.map((x) => x.sequenceNumber), packets.map((_, i) => (65535 + i) & 0xffff))
      assert.ok(packets.every((x) => x.payloadType === 8))
    })
  }
})

describe('G.711 depacketizer', () => {
  for (const v of g711RoundTrip) {
    test(v.name, () => {
      const d = new G711Depacketizer()
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.packets.map((p) => ({ rtpTimestamp: p.timestamp, keyFrame: true, data: [p.payload] }))))
      assert.equal(d.dropped, 0)
    })
  }
  for (const v of g711DecodeOnly) {
    test(v.name, () => {
      const d = new G711Depacketizer()
      const out = toPackets(v.packets, 0).flatMap((pkt) => [...d.push(pkt)])
      assert.deepEqual(hexUnits(out), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped)
    })
  }
  test('units are views over the packet (no copy)', () => {
    const payload = Buffer.from('d5d5d5', 'hex')
    const [u] = new G711Depacketizer().push({ marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload })
    assert.equal(u!.data[0]!.buffer, payload.buffer)
  })
})

describe('G.711 formats', () => {
  test('static payload types 0 and 8 need no rtpmap: 8 kHz mono', () => {
    const m = media('m=audio 0 RTP/AVP 0 8\r\n')
    const pcmu = resolveFormat(m, 0)
    const pcma = resolveFormat(m, 8)
    assert.deepEqual([pcmu?.codec, pcmu?.clockRate, pcmu?.details], ['PCMU', 8000, { sampleRate: 8000, channels: 1, codecString: 'ulaw' }])
    assert.deepEqual([pcma?.codec, pcma?.clockRate, pcma?.details], ['PCMA', 8000, { sampleRate: 8000, channels: 1, codecString: 'alaw' }])
  })
  test('a dynamic rtpmap gives other rates and channels (PCMA/16000/2)', () => {
    const f = resolveFormat(media('m=audio 0 RTP/AVP 97\r\na=rtpmap:97 pcma/16000/2\r\n'), 97)
    assert.deepEqual([f?.codec, f?.clockRate, f?.details.sampleRate, f?.details.channels], ['PCMA', 16000, 16000, 2])
  })
  test('g711MediaDescription: static type at 8 kHz mono, dynamic otherwise', () => {
    assert.deepEqual(g711MediaDescription({ codec: 'PCMU' }).formats, [0])
    const m = g711MediaDescription({ codec: 'PCMA', sampleRate: 16000, channels: 2 })
    assert.deepEqual(m.rtpmap.get(97), { payloadType: 97, encoding: 'PCMA', clockRate: 16000, channels: 2 })
  })
})

describe('G.711 properties', () => {
  test('packetize → depacketize gives back every sample, timestamps per frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.constantFrom(1, 2), fc.integer({ min: 2, max: 1500 }), fc.nat(), (bytes, channels, mtu, ts) => {
        const n = bytes.length - (bytes.length % channels)
        if (n === 0) return
        const data = Buffer.from(bytes.subarray(0, n))
        const p = new G711Packetizer({ payloadType: 8, ssrc: 1, mtu, channels, sampleRate: 8000 })
        const d = new G711Depacketizer()
        const out: AccessUnit[] = []
        for (const pkt of p.packetize({ data: [data], rtpTimestamp: ts })) out.push(...d.push(parseRtp(pkt)))
        assert.equal(Buffer.concat(out.map((u) => u.data[0]!)).toString('hex'), data.toString('hex'))
        let off = 0
        for (const u of out) {
          assert.equal(u.rtpTimestamp, (ts + off / channels) >>> 0)
          assert.ok(u.data[0]!.length <= mtu && u.data[0]!.length % channels === 0)
          off += u.data[0]!.length
        }
      }),
      { numRuns: 200 },
    )
  })
  test('random packets never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.nat(0xffff), fc.nat()), { maxLength: 30 }), (packets) => {
        const d = new G711Depacketizer()
        for (const [payload, marker, sequenceNumber, timestamp] of packets) {
          try {
            for (const u of d.push({ marker, payloadType: 8, sequenceNumber, timestamp, ssrc: 1, payload: Buffer.from(payload) })) assert.ok(u.data[0]!.length > 0)
          } catch (err) {
            assert.ok(err instanceof RtspError, String(err))
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})
