// Fuzzing with fast-check: every parser that reads what a peer sends is fed random and
// mutated inputs (seeded from the real vectors and fixtures) and must throw nothing but
// rtspkit's typed errors, and finish each input quickly (no endless loop).
// FUZZ_RUNS=100000 npm test -- test/fuzz for a longer run outside CI.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { RtspError } from '../../src/errors.js'
import { RtspReader } from '../../src/rtsp/reader.js'
import { parseTransport } from '../../src/rtsp/headers/transport.js'
import { parseSession } from '../../src/rtsp/headers/session.js'
import { parseWwwAuthenticate } from '../../src/rtsp/headers/www-authenticate.js'
import { parseRtpInfo } from '../../src/rtsp/headers/rtp-info.js'
import { parseRange } from '../../src/rtsp/headers/range.js'
import { parseSdp } from '../../src/sdp/parse.js'
import { resolveFormat } from '../../src/formats/index.js'
import { parseRtpPacket } from '../../src/rtp/packet.js'
import { parseRtcpPacket } from '../../src/rtcp/packets.js'
import { parseH264Sps } from '../../src/codec/h264-sps.js'
import { parseAudioSpecificConfig } from '../../src/codec/aac-config.js'
import { h264DecodeOnly, h264RoundTrip } from '../vectors/h264.js'

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 5000)
/** Most CPU time any single input may take (an endless loop shows up as a blown budget). */
const PER_INPUT_MS = 250

let total = 0

/**
 * Run `fn`; it may throw only RtspError subclasses, and must be quick. Quick in CPU time, not
 * in wall time: on a loaded machine this process is descheduled for hundreds of milliseconds
 * at a time (one input "took 553 ms" under stress-ng), which says nothing about the parser.
 */
function tolerate(fn: () => void): void {
  const c0 = process.cpuUsage()
  try {
    fn()
  } catch (err) {
    if (!(err instanceof RtspError)) throw err
  }
  const c = process.cpuUsage(c0)
  const ms = (c.user + c.system) / 1000
  if (ms > PER_INPUT_MS) throw new Error(`one input took ${ms.toFixed(0)} ms of CPU`)
}

/** Random bytes, and seeds with bytes flipped, cut, duplicated or spliced together. */
function mutated(seeds: readonly Buffer[]): fc.Arbitrary<Buffer> {
  const random = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a))
  if (seeds.length === 0) return random
  const mutation = fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert', 'dup')), { maxLength: 8 }),
    )
    .map(([seed, edits]) => {
      let b = Buffer.from(seed)
      for (const [pos, byte, kind] of edits) {
        const at = b.length === 0 ? 0 : pos % b.length
        if (kind === 'flip') b[at] = byte
        else if (kind === 'cut') b = b.subarray(0, at)
        else if (kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)])
        else b = Buffer.concat([b, b.subarray(at)])
      }
      return b
    })
  return fc.oneof(random, mutation, mutation)
}

function fuzz(name: string, seeds: readonly Buffer[], target: (input: Buffer) => void): void {
  it(`${name}: ${RUNS} inputs`, () => {
    fc.assert(fc.property(mutated(seeds), (input) => tolerate(() => target(input))), { numRuns: RUNS })
    total += RUNS
    console.log(`# fuzz ${name}: ${RUNS} inputs, no untyped throw`)
  })
}

const sdpDir = path.join(import.meta.dirname, '..', 'fixtures', 'sdp')
const sdpSeeds = readdirSync(sdpDir).map((f) => readFileSync(path.join(sdpDir, f)))
const wireSeeds = [
  Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://h/s/\r\nContent-Length: 10\r\n\r\nv=0\r\ns=x\r\n'),
  Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n$\x00\x00\x04\x80\x60\x00\x01'),
  Buffer.from('$\x01\x00\x08\x81\xc9\x00\x01\x00\x00\x00\x01RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm="r", nonce="n"\r\n\r\n'),
]
const headerSeeds = [
  'RTP/AVP/TCP;unicast;interleaved=0-1;ssrc= 1a2B;mode="PLAY"',
  'RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;source=10.0.0.1',
  '12345678;timeout=60',
  'Digest realm="a, b", nonce="x", qop="auth,auth-int", Basic realm="y"',
  'url=rtsp://h/s/stream=0;seq=1;rtptime=3000,url=rtsp://h/s/stream=1;seq=5;rtptime=48000',
  'npt=0.000-',
].map((s) => Buffer.from(s))

describe('fuzz', () => {
  fuzz('RTSP/interleaved reader, fed in random splits', wireSeeds, (input) => {
    const reader = new RtspReader({ onResponse() {}, onRequest() {}, onInterleaved() {} }, { maxGarbage: 4096 })
    for (let i = 0; i < input.length; i += 1 + (input[i]! % 64)) reader.push(input.subarray(i, i + 1 + (input[i]! % 64)))
  })
  fuzz('header parsers (Transport, Session, WWW-Authenticate, RTP-Info, Range)', headerSeeds, (input) => {
    const text = input.toString('latin1')
    for (const parse of [parseTransport, parseSession, parseWwwAuthenticate, parseRtpInfo, parseRange]) tolerate(() => parse(text))
  })
  fuzz('SDP parser and format registry', sdpSeeds, (input) => {
    const sdp = parseSdp(input)
    for (const m of sdp.media) for (const pt of m.formats) resolveFormat(m, pt)?.createDepacketizer()
  })
  fuzz('RTP and RTCP parsers', [Buffer.from('8060000100000bb8deadbeef6588', 'hex'), Buffer.from('80c8000600000001e0000000000000000000000000000000', 'hex')], (input) => {
    parseRtpPacket(input)
    parseRtcpPacket(input)
  })
  fuzz('H.264 SPS and AudioSpecificConfig parsers', [Buffer.from('6742c00dd90141fb0110000003001000000303c0f142a480', 'hex'), Buffer.from('1190', 'hex')], (input) => {
    tolerate(() => parseH264Sps(input))
    tolerate(() => parseAudioSpecificConfig(input))
  })

  // Every depacketizer the registry knows, fed packets built from mutated payloads.
  const depacketizerSdp = (rtpmap: string, fmtp: string) =>
    parseSdp(`v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 ${rtpmap}\r\n${fmtp ? `a=fmtp:96 ${fmtp}\r\n` : ''}`).media[0]!
  const codecs: Array<[string, string, string]> = [
    ['H264', 'H264/90000', 'packetization-mode=1'],
    ['AAC hbr', 'mpeg4-generic/48000/2', 'streamtype=5;mode=AAC-hbr;config=1190;sizelength=13;indexlength=3;indexdeltalength=3'],
    ['AAC lbr', 'mpeg4-generic/48000/2', 'streamtype=5;mode=AAC-lbr;config=1190;sizelength=6;indexlength=2;indexdeltalength=2'],
    ['H265', 'H265/90000', ''],
    ['PCMA', 'PCMA/8000', ''],
    ['opus', 'opus/48000/2', 'sprop-stereo=1'],
    ['MP4A-LATM', 'MP4A-LATM/48000/2', 'cpresent=0;config=400023103fc0'],
    ['JPEG', 'JPEG/90000', ''],
  ]
  const payloadSeeds = [...h264RoundTrip.flatMap((v) => v.packets.map((p) => p.payload)), ...h264DecodeOnly.flatMap((v) => v.packets.map((p) => p.payload))]
  for (const [name, rtpmap, fmtp] of codecs) {
    const handler = resolveFormat(depacketizerSdp(rtpmap, fmtp), 96)
    if (handler === undefined) continue // a codec folder not written yet
    it(`${name} depacketizer: ${RUNS} packet sequences`, () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(mutated(payloadSeeds), fc.boolean(), fc.nat({ max: 3 }), fc.nat({ max: 2 })), { maxLength: 20 }), (packets) => {
          const d = handler.createDepacketizer()
          let seq = 0
          let ts = 0
          for (const [payload, marker, seqStep, tsStep] of packets) {
            seq = (seq + seqStep) & 0xffff
            ts = (ts + tsStep * 3000) >>> 0
            tolerate(() => d.push({ marker, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 1, payload }))
          }
        }),
        { numRuns: RUNS },
      )
      total += RUNS
      console.log(`# fuzz ${name} depacketizer: ${RUNS} packet sequences, no untyped throw`)
    })
  }

  it('reports the total', () => {
    console.log(`# fuzz total: ${total} inputs`)
    assert.ok(total > 0)
  })
})
