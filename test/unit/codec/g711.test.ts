import { test } from 'node:test'
import assert from 'node:assert/strict'
import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, transcodeG711, ulawToLinear } from '../../../src/codec/g711.js'

// Decoder output values of ITU-T G.711 table 1a (A-law, 13-bit scale, ×8 for 16 bits) and
// table 2a (µ-law, 14-bit scale, ×4), per segment and quantisation step q (0..15).
function alawTableValue(seg: number, q: number): number {
  if (seg === 0) return 2 * q + 1
  if (seg === 1) return 2 * q + 33
  return (2 * q + 33) << (seg - 1)
}
function ulawTableValue(seg: number, q: number): number {
  return ((2 * q + 33) << seg) - 33
}

test('G.711 A-law: every code decodes to its table 1a value (even bits inverted, sign set = positive)', () => {
  for (let code = 0; code < 256; code++) {
    const a = code ^ 0x55
    const magnitude = alawTableValue((a >> 4) & 7, a & 15) * 8
    assert.equal(alawToLinear(code), (a & 0x80) !== 0 ? magnitude : -magnitude, `code 0x${code.toString(16)}`)
  }
  assert.equal(alawToLinear(0xd5), 8)
  assert.equal(alawToLinear(0x55), -8)
  assert.equal(alawToLinear(0xaa), 32256)
  assert.equal(alawToLinear(0x2a), -32256)
})

test('G.711 µ-law: every code decodes to its table 2a value (all bits inverted, sign clear = negative)', () => {
  for (let code = 0; code < 256; code++) {
    const u = ~code & 0xff
    const magnitude = ulawTableValue((u >> 4) & 7, u & 15) * 4 // (+ 0 below: 0x7f is 0, not -0)
    assert.equal(ulawToLinear(code), (u & 0x80) !== 0 ? -magnitude + 0 : magnitude, `code 0x${code.toString(16)}`)
  }
  assert.equal(ulawToLinear(0xff), 0)
  assert.equal(ulawToLinear(0x7f), 0)
  assert.equal(ulawToLinear(0x80), 32124)
  assert.equal(ulawToLinear(0x00), -32124)
})

test('G.711: encoding a decoded value gives the code back (µ-law 0x7f, negative zero, becomes 0xff)', () => {
  for (let code = 0; code < 256; code++) {
    assert.equal(linearToAlaw(alawToLinear(code)), code, `A-law 0x${code.toString(16)}`)
    assert.equal(linearToUlaw(ulawToLinear(code)), code === 0x7f ? 0xff : code, `µ-law 0x${code.toString(16)}`)
  }
})

test('G.711: every 16-bit sample lands in the interval whose decoded value is nearest from below or above', () => {
  for (let s = -32768; s <= 32767; s++) {
    for (const [enc, dec, step] of [[linearToAlaw, alawToLinear, 1024], [linearToUlaw, ulawToLinear, 1024]] as const) {
      const d = dec(enc(s))
      // Within one quantisation step of the sample (the largest step is 1024 at full scale).
      assert.ok(Math.abs(d - s) <= step, `${s} → ${d}`)
      assert.equal(Math.sign(d) === -Math.sign(s) && d !== 0, false, `${s} changed sign (${d})`)
    }
  }
})

// Codes ffmpeg's pcm_alaw / pcm_mulaw encoders give for these samples (away from the
// decision boundaries, where table-building implementations round differently).
const FFMPEG_VECTORS: Array<[sample: number, ulaw: number, alaw: number]> = [
  [0, 0xff, 0xd5], [1, 0xff, 0xd5], [-1, 0x7e, 0x55], [100, 0xf2, 0xd3], [-100, 0x72, 0x53],
  [1000, 0xce, 0xfa], [-1000, 0x4e, 0x7a], [4000, 0xaf, 0x9a], [-4000, 0x2f, 0x1a],
  [12345, 0x97, 0xbd], [-12345, 0x17, 0x3d], [30000, 0x82, 0xa8], [-30000, 0x02, 0x28],
  [32767, 0x80, 0xaa], [-32768, 0x00, 0x2a],
]

test('G.711: codes for reference samples match ffmpeg pcm_mulaw / pcm_alaw', () => {
  for (const [s, u, a] of FFMPEG_VECTORS) {
    assert.equal(linearToUlaw(s), u, `µ-law ${s}`)
    assert.equal(linearToAlaw(s), a, `A-law ${s}`)
  }
})

test('encodeG711 / decodeG711 / transcodeG711 work on little-endian buffers', () => {
  const pcm = Buffer.alloc(FFMPEG_VECTORS.length * 2)
  FFMPEG_VECTORS.forEach(([s], i) => pcm.writeInt16LE(s, i * 2))
  const ulaw = encodeG711('PCMU', pcm)
  const alaw = encodeG711('PCMA', pcm)
  assert.deepEqual([...ulaw], FFMPEG_VECTORS.map((v) => v[1]))
  assert.deepEqual([...alaw], FFMPEG_VECTORS.map((v) => v[2]))
  const back = decodeG711('PCMA', alaw)
  assert.equal(back.length, pcm.length)
  assert.equal(back.readInt16LE(0), 8)
  // A trailing odd byte is not a sample.
  assert.equal(encodeG711('PCMU', Buffer.alloc(5)).length, 2)
  // A-law → µ-law → A-law keeps the value within a step.
  const there = transcodeG711('PCMA', 'PCMU', alaw)
  const again = transcodeG711('PCMU', 'PCMA', there)
  for (let i = 0; i < alaw.length; i++) assert.ok(Math.abs(alawToLinear(again[i]!) - alawToLinear(alaw[i]!)) <= 1024)
  const out = Buffer.alloc(64)
  assert.equal(encodeG711('PCMU', pcm, out).length, FFMPEG_VECTORS.length)
})
