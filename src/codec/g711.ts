/**
 * G.711 (ITU-T G.711, 1988) companding between 16-bit linear PCM and 8-bit A-law / µ-law,
 * the segment-and-quantisation algorithm of the recommendation's tables 1a/2a (as in the
 * reference `g711.c` of Sun Microsystems that most implementations derive from).
 *
 *   code bit:  7     6 5 4    3 2 1 0
 *             sign  segment  quantisation step
 *
 * µ-law works on 14-bit magnitudes with a bias of 33 and complements every bit; A-law on
 * 13-bit magnitudes and inverts the even bits (XOR 0x55). Decoding returns the middle of
 * each quantisation interval, scaled back to 16 bits.
 */

const ULAW_BIAS = 0x84
/** 14-bit magnitude ceiling before the bias (8159 + 33 = 8192 = top of segment 7). */
const ULAW_CLIP = 8159
const ULAW_SEGMENT_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff] as const
const ALAW_SEGMENT_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff] as const

function segmentOf(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= ends[i]!) return i
  return ends.length
}

/** One 16-bit linear sample (-32768..32767) → µ-law code (G.711 table 2a). */
export function linearToUlaw(sample: number): number {
  let v = sample >> 2 // 14 bits
  let mask: number
  if (v < 0) {
    v = -v
    mask = 0x7f
  } else {
    mask = 0xff
  }
  if (v > ULAW_CLIP) v = ULAW_CLIP
  v += ULAW_BIAS >> 2
  const seg = segmentOf(v, ULAW_SEGMENT_END)
  if (seg >= 8) return 0x7f ^ mask
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask
}

/** µ-law code → 16-bit linear sample (the middle of its interval). */
export function ulawToLinear(code: number): number {
  const u = ~code & 0xff
  let t = ((u & 0x0f) << 3) + ULAW_BIAS
  t <<= (u & 0x70) >> 4
  return (u & 0x80) !== 0 ? ULAW_BIAS - t : t - ULAW_BIAS
}

/** One 16-bit linear sample (-32768..32767) → A-law code (G.711 table 1a). */
export function linearToAlaw(sample: number): number {
  let v = sample >> 3 // 13 bits
  let mask: number
  if (v >= 0) {
    mask = 0xd5 // sign bit set for positive values, even bits inverted
  } else {
    mask = 0x55
    v = -v - 1
  }
  const seg = segmentOf(v, ALAW_SEGMENT_END)
  if (seg >= 8) return 0x7f ^ mask
  const step = seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f
  return ((seg << 4) | step) ^ mask
}

/** A-law code → 16-bit linear sample (the middle of its interval). */
export function alawToLinear(code: number): number {
  const a = (code ^ 0x55) & 0xff
  let t = (a & 0x0f) << 4
  const seg = (a & 0x70) >> 4
  if (seg === 0) t += 8
  else if (seg === 1) t += 0x108
  else t = (t + 0x108) << (seg - 1)
  return (a & 0x80) !== 0 ? t : -t
}

export type G711Law = 'PCMU' | 'PCMA'

// Whole-range tables, built once on first use: encoding is one lookup per sample.
let ulawEncode: Uint8Array | undefined
let alawEncode: Uint8Array | undefined
let ulawDecode: Int16Array | undefined
let alawDecode: Int16Array | undefined

function encodeTable(law: G711Law): Uint8Array {
  if (law === 'PCMU') {
    if (ulawEncode === undefined) {
      ulawEncode = new Uint8Array(65536)
      for (let i = 0; i < 65536; i++) ulawEncode[i] = linearToUlaw((i << 16) >> 16)
    }
    return ulawEncode
  }
  if (alawEncode === undefined) {
    alawEncode = new Uint8Array(65536)
    for (let i = 0; i < 65536; i++) alawEncode[i] = linearToAlaw((i << 16) >> 16)
  }
  return alawEncode
}

function decodeTable(law: G711Law): Int16Array {
  if (law === 'PCMU') {
    if (ulawDecode === undefined) {
      ulawDecode = new Int16Array(256)
      for (let i = 0; i < 256; i++) ulawDecode[i] = ulawToLinear(i)
    }
    return ulawDecode
  }
  if (alawDecode === undefined) {
    alawDecode = new Int16Array(256)
    for (let i = 0; i < 256; i++) alawDecode[i] = alawToLinear(i)
  }
  return alawDecode
}

/**
 * 16-bit little-endian linear PCM → G.711 codes, one byte per sample. `pcm` must hold whole
 * samples (an even length). Writes into `out` when given (at least pcm.length / 2 bytes).
 */
export function encodeG711(law: G711Law, pcm: Uint8Array, out?: Buffer): Buffer {
  const n = pcm.length >> 1
  const dst = out ?? Buffer.allocUnsafe(n)
  const table = encodeTable(law)
  for (let i = 0, j = 0; i < n; i++, j += 2) dst[i] = table[pcm[j]! | (pcm[j + 1]! << 8)]!
  return n === dst.length ? dst : dst.subarray(0, n)
}

/** G.711 codes → 16-bit little-endian linear PCM (two bytes per sample). */
export function decodeG711(law: G711Law, codes: Uint8Array): Buffer {
  const table = decodeTable(law)
  const out = Buffer.allocUnsafe(codes.length * 2)
  for (let i = 0; i < codes.length; i++) out.writeInt16LE(table[codes[i]!]!, i * 2)
  return out
}

/** A-law ↔ µ-law, code by code, through the linear value (G.711 §4 conversion). */
export function transcodeG711(from: G711Law, to: G711Law, codes: Uint8Array): Buffer {
  if (from === to) return Buffer.from(codes.buffer, codes.byteOffset, codes.length)
  const dec = decodeTable(from)
  const enc = encodeTable(to)
  const out = Buffer.allocUnsafe(codes.length)
  for (let i = 0; i < codes.length; i++) out[i] = enc[dec[codes[i]!]! & 0xffff]!
  return out
}
