/**
 * G.711 for MSE: browsers' MSE rejects A-law/µ-law in MP4 (`alaw`/`ulaw`), but Chromium plays
 * FLAC in MP4 (`audio/mp4; codecs="flac"`). Each G.711 packet is expanded to 16-bit PCM
 * (ITU-T G.711) and written as one FLAC frame whose subframes are VERBATIM (FLAC format
 * §9.2.5): no compression, no encoder, a few lines of code.
 */

/** ITU-T G.711 A-law → 16-bit linear, as a 256-entry table. */
export const ALAW_TO_PCM: Int16Array = (() => {
  const t = new Int16Array(256)
  for (let i = 0; i < 256; i++) {
    const a = i ^ 0x55 // even bits inverted (G.711 §A.2)
    const seg = (a & 0x70) >> 4
    let v = (a & 0x0f) << 4
    v += seg === 0 ? 8 : 0x108
    if (seg > 1) v <<= seg - 1
    t[i] = a & 0x80 ? v : -v
  }
  return t
})()

/** ITU-T G.711 µ-law → 16-bit linear (bias 0x84), as a 256-entry table. */
export const ULAW_TO_PCM: Int16Array = (() => {
  const t = new Int16Array(256)
  for (let i = 0; i < 256; i++) {
    const u = ~i & 0xff
    let v = ((u & 0x0f) << 3) + 0x84
    v <<= (u & 0x70) >> 4
    t[i] = u & 0x80 ? 0x84 - v : v - 0x84
  }
  return t
})()

/** FLAC frame header sample-rate codes (§9.1.1.3); others are read from STREAMINFO (code 0). */
const RATE_CODES = new Map([
  [88200, 1], [176400, 2], [192000, 3], [8000, 4], [16000, 5], [22050, 6], [24000, 7],
  [32000, 8], [44100, 9], [48000, 10], [96000, 11],
])

export interface FlacFrameInit {
  /** G.711 payload: 8-bit samples, channels interleaved. */
  payload: Uint8Array
  law: 'alaw' | 'ulaw'
  channels: number
  sampleRate: number
  /** Number of the frame's first sample in the stream (variable-blocksize header field). */
  sampleNumber: number
}

/** Samples per channel in a G.711 payload. */
export function g711Samples(payloadLength: number, channels: number): number {
  return Math.floor(payloadLength / channels)
}

/** One FLAC frame (§9) of 16-bit VERBATIM subframes holding the decoded G.711 payload. */
export function g711ToFlacFrame(init: FlacFrameInit): Buffer {
  const { channels } = init
  const table = init.law === 'alaw' ? ALAW_TO_PCM : ULAW_TO_PCM
  const block = g711Samples(init.payload.length, channels)
  const num = utf8Number(init.sampleNumber)
  const headerLen = 4 + num.length + 2
  const out = Buffer.allocUnsafe(headerLen + 1 + channels * (1 + 2 * block) + 2)
  let o = 0
  out[o++] = 0xff // sync code 0b11111111111110 ...
  out[o++] = 0xf9 // ... reserved 0, blocking strategy 1 (variable block size)
  out[o++] = (0x7 << 4) | (RATE_CODES.get(init.sampleRate) ?? 0) // block size: 16-bit value at the end; sample rate code
  out[o++] = ((channels - 1) << 4) | (0x4 << 1) // channels independent; 16 bits per sample; reserved 0
  out.set(num, o) // coded sample number ("UTF-8" coding, §9.1.5)
  o += num.length
  o = out.writeUInt16BE(block - 1, o) // block size - 1
  out[o] = crc8(out, 0, o) // header CRC-8
  o++
  for (let c = 0; c < channels; c++) {
    out[o++] = 0x02 // zero pad bit, subframe type 000001 VERBATIM, no wasted bits
    for (let i = 0; i < block; i++) o = out.writeInt16BE(table[init.payload[i * channels + c]!]!, o)
  }
  out.writeUInt16BE(crc16(out, 0, o), o) // frame CRC-16 (the subframes end byte-aligned)
  return out
}

/** §9.1.5: a number up to 36 bits in the UTF-8 style coding (1 to 7 bytes). */
function utf8Number(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  let len = 2
  while (len < 7 && n >= 2 ** (5 * len + 1)) len++
  let v = n
  for (let i = 0; i < len - 1; i++) {
    bytes.unshift(0x80 | (v % 64))
    v = Math.floor(v / 64)
  }
  const lead = len === 7 ? 0xfe : (0xff << (8 - len)) & 0xff
  bytes.unshift(lead | v)
  return Buffer.from(bytes)
}

/** CRC-8, polynomial x^8 + x^2 + x + 1 (0x07), initial 0 (§9.1.8). */
function crc8(buf: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) {
    crc ^= buf[i]!
    for (let b = 0; b < 8; b++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff
  }
  return crc
}

const CRC16_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i << 8
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff
    t[i] = c
  }
  return t
})()

/** CRC-16, polynomial x^16 + x^15 + x^2 + 1 (0x8005), initial 0 (§9.3). */
function crc16(buf: Uint8Array, start: number, end: number): number {
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ buf[i]!) & 0xff]!
  return crc
}
