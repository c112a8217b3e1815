/**
 * MPEG-4 LATM StreamMuxConfig (ISO/IEC 14496-3 §1.7.3), as carried hex-encoded in the
 * `config` parameter of RFC 6416 MP4A-LATM with cpresent=0, or in-band at the start of an
 * AudioMuxElement with cpresent=1 (then bit-aligned, not byte-aligned). One program, one
 * layer: the layout every camera, FFmpeg and GStreamer use; anything else is refused.
 */
import { MediaError, UnsupportedError } from '../errors.js'
import { parseAudioSpecificConfig } from './aac-config.js'
import type { AudioSpecificConfig } from './aac-config.js'
import { BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'

export interface StreamMuxConfig {
  audioMuxVersion: 0 | 1
  allStreamsSameTimeFraming: boolean
  /** PayloadMux units per AudioMuxElement (numSubFrames + 1). */
  subFrames: number
  /** The AudioSpecificConfig, byte-aligned (what an MP4 esds or an ADTS header needs). */
  audioSpecificConfig: Buffer
  asc: AudioSpecificConfig
  /** 0: payload lengths in bytes (AAC). Other types are for CELP/HVXC and refused. */
  frameLengthType: number
  /** Bytes of other data after the payloads of each AudioMuxElement follow (we skip them). */
  otherDataPresent: boolean
  crcCheckPresent: boolean
}

/** Object types whose ASC continues with a GASpecificConfig we can walk (§4.4.1). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23])

/** Parse a StreamMuxConfig. Throws MediaError when malformed, UnsupportedError for layouts we do not read. */
export function parseStreamMuxConfig(buf: Uint8Array): StreamMuxConfig {
  try {
    return readStreamMuxConfig(new BitReader(buf), buf, false)
  } catch (err) {
    if (err instanceof MediaError) {
      throw new MediaError(`invalid LATM StreamMuxConfig ${Buffer.from(buf).toString('hex') || '(empty)'}: ${err.message}`, { cause: err })
    }
    throw err
  }
}

/**
 * Read a StreamMuxConfig at the reader's position, which must be a reader over `buf` from its
 * first bit. In-band (`inBand`, AudioMuxElement(1)), the whole syntax is there and the reader
 * ends on the first bit after it (crcCheckSum included); from an SDP, a config cut short after
 * the AudioSpecificConfig is accepted with the AAC defaults. Throws MediaError (truncated)
 * and UnsupportedError.
 */
export function readStreamMuxConfig(r: BitReader, buf: Uint8Array, inBand: boolean): StreamMuxConfig {
  const audioMuxVersion = r.readBit() as 0 | 1
  if (audioMuxVersion === 1) {
    if (r.readBit() === 1) throw new UnsupportedError('LATM audioMuxVersionA 1 is reserved; cannot read this StreamMuxConfig')
    latmGetValue(r) // taraBufferFullness
  }
  const allStreamsSameTimeFraming = r.readBool()
  const subFrames = r.readBits(6) + 1
  const numProgram = r.readBits(4)
  const numLayer = r.readBits(3)
  if (numProgram !== 0 || numLayer !== 0) {
    throw new UnsupportedError(`LATM with ${numProgram + 1} programs and ${numLayer + 1} layers is not supported (one program, one layer only)`)
  }
  let audioSpecificConfig: Buffer
  if (audioMuxVersion === 0) {
    // No length: walk the ASC to find its end (no backward-compatible SBR extension here).
    const start = r.position
    skipAudioSpecificConfig(r, buf)
    audioSpecificConfig = copyBits(buf, start, r.position - start)
  } else {
    const ascLen = latmGetValue(r)
    const start = r.position
    r.skipBits(ascLen)
    audioSpecificConfig = copyBits(buf, start, ascLen)
  }
  const asc = parseAudioSpecificConfig(audioSpecificConfig)
  // Leniency: a few encoders cut the config short after the ASC; assume the AAC defaults.
  let frameLengthType = 0
  let otherDataPresent = false
  let crcCheckPresent = false
  if (inBand || r.bitsLeft >= 3) {
    frameLengthType = r.readBits(3)
    if (frameLengthType !== 0) throw new UnsupportedError(`LATM frameLengthType ${frameLengthType} (CELP/HVXC) is not supported; AAC uses 0`)
    if (inBand || r.bitsLeft >= 9) {
      r.skipBits(8) // latmBufferFullness
      otherDataPresent = r.readBool()
      if (otherDataPresent) {
        if (audioMuxVersion === 1) {
          latmGetValue(r) // otherDataLenBits
        } else {
          let esc: boolean
          do {
            esc = r.readBool() // otherDataLenEsc
            r.skipBits(8) // otherDataLenTmp
          } while (esc)
        }
      }
      if (inBand || r.bitsLeft > 0) crcCheckPresent = r.readBool()
      if (inBand && crcCheckPresent) r.skipBits(8) // crcCheckSum
    }
  }
  return { audioMuxVersion, allStreamsSameTimeFraming, subFrames, audioSpecificConfig, asc, frameLengthType, otherDataPresent, crcCheckPresent }
}

/** Do two StreamMuxConfigs describe the same stream (an in-band repeat rather than a change)? */
export function sameStreamMuxConfig(a: StreamMuxConfig, b: StreamMuxConfig): boolean {
  return (
    a.audioSpecificConfig.equals(b.audioSpecificConfig) &&
    a.subFrames === b.subFrames &&
    a.audioMuxVersion === b.audioMuxVersion &&
    a.allStreamsSameTimeFraming === b.allStreamsSameTimeFraming &&
    a.otherDataPresent === b.otherDataPresent
  )
}

/**
 * PayloadLengthInfo (§1.7.3, allStreamsSameTimeFraming, frameLengthType 0): bytes of 0xff
 * and a last one below, summed; at any bit position.
 */
export function readPayloadLength(r: BitReader): number {
  let len = 0
  let b: number
  do {
    b = r.readBits(8)
    len += b
  } while (b === 255)
  return len
}

/**
 * `length` bytes of `buf` from the reader's position: a view when it is on a byte boundary,
 * else a copy shifted into place (in-band configs leave the payloads at any bit offset).
 * Throws MediaError when fewer bits are left.
 */
export function readPayloadBytes(r: BitReader, buf: Buffer, length: number): Buffer {
  const pos = r.position
  r.skipBits(length * 8)
  let i = pos >> 3
  const shift = pos & 7
  if (shift === 0) return buf.subarray(i, i + length)
  const out = Buffer.allocUnsafe(length)
  // The bits checked above end inside byte i + length, so buf[i + 1] is there for every j.
  for (let j = 0; j < length; j++, i++) out[j] = ((buf[i]! << shift) | (buf[i + 1]! >> (8 - shift))) & 0xff
  return out
}

/**
 * A StreamMuxConfig for one AAC stream (audioMuxVersion 0, one subframe, frameLengthType 0),
 * for the `config` of an SDP we write: ASC 1190 (LC, 48 kHz, stereo) → 40 00 23 20 3f c0.
 */
export function buildStreamMuxConfig(audioSpecificConfig: Uint8Array): Buffer {
  const r = new BitReader(audioSpecificConfig)
  skipAudioSpecificConfig(r, audioSpecificConfig)
  const ascBits = r.position
  const w = new BitWriter()
  w.write(0, 1) // audioMuxVersion
  w.write(1, 1) // allStreamsSameTimeFraming
  w.write(0, 6) // numSubFrames
  w.write(0, 4) // numProgram
  w.write(0, 3) // numLayer
  const bits = new BitReader(audioSpecificConfig, ascBits)
  while (bits.bitsLeft > 0) {
    const n = Math.min(8, bits.bitsLeft)
    w.write(bits.readBits(n), n)
  }
  w.write(0, 3) // frameLengthType
  w.write(0xff, 8) // latmBufferFullness: variable rate
  w.write(0, 1) // otherDataPresent
  w.write(0, 1) // crcCheckPresent
  return w.finish()
}

/** LatmGetValue() (§1.7.3): 2 bits of byte count - 1, then that many bytes, big-endian. */
function latmGetValue(r: BitReader): number {
  const bytes = r.readBits(2) + 1
  let value = 0
  for (let i = 0; i < bytes; i++) value = value * 256 + r.readBits(8)
  return value
}

/** Walk an AudioSpecificConfig (§1.6.2.1) over `buf`; refuses what it cannot size. */
function skipAudioSpecificConfig(r: BitReader, buf: Uint8Array): void {
  const explicitSbr = skipCoreConfig(r)
  // FFmpeg's AAC encoder (so GStreamer's avenc_aac ! rtpmp4apay) ends the ASC with the
  // backward-compatible extension 0x2b7 "no SBR"; walk it when it is there (§1.6.5.2).
  if (explicitSbr || r.bitsLeft < 16 || peekBits(buf, r.position, 11) !== 0x2b7) return
  r.skipBits(11)
  const extensionType = readObjectType(r)
  if (extensionType === 5) {
    if (r.readBool()) {
      skipSampleRate(r)
      if (r.bitsLeft >= 12 && peekBits(buf, r.position, 11) === 0x548) r.skipBits(12) // psPresentFlag
    }
  } else if (extensionType === 22) {
    if (r.readBool()) skipSampleRate(r)
    r.skipBits(4) // extensionChannelConfiguration
  }
}

function peekBits(buf: Uint8Array, position: number, n: number): number {
  const r = new BitReader(buf)
  r.skipBits(position)
  return r.readBits(n)
}

/** Up to the end of GASpecificConfig and epConfig; true when SBR was signalled explicitly (type 5/29). */
function skipCoreConfig(r: BitReader): boolean {
  let objectType = readObjectType(r)
  skipSampleRate(r)
  const channelConfiguration = r.readBits(4)
  const explicitSbr = objectType === 5 || objectType === 29
  if (explicitSbr) {
    skipSampleRate(r) // extensionSamplingFrequency
    objectType = readObjectType(r)
    if (objectType === 22) r.skipBits(4)
  }
  if (!GA_OBJECT_TYPES.has(objectType)) {
    throw new UnsupportedError(`LATM with audio object type ${objectType} is not supported (AAC only)`)
  }
  if (channelConfiguration === 0) {
    throw new UnsupportedError('LATM with a program_config_element (channelConfiguration 0) is not supported')
  }
  // GASpecificConfig (§4.4.1)
  r.skipBits(1) // frameLengthFlag
  if (r.readBool()) r.skipBits(14) // dependsOnCoreCoder → coreCoderDelay
  const extensionFlag = r.readBool()
  if (objectType === 6 || objectType === 20) r.skipBits(3) // layerNr
  if (extensionFlag) {
    if (objectType === 22) r.skipBits(16) // numOfSubFrame, layer_length
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3)
    r.skipBits(1) // extensionFlag3
  }
  // ER object types carry an epConfig (§1.6.2.1).
  if ([17, 19, 20, 21, 22, 23].includes(objectType)) {
    const ep = r.readBits(2)
    if (ep === 2 || ep === 3) throw new UnsupportedError(`LATM with epConfig ${ep} is not supported`)
  }
  return explicitSbr
}

function readObjectType(r: BitReader): number {
  const t = r.readBits(5)
  return t === 31 ? 32 + r.readBits(6) : t
}

function skipSampleRate(r: BitReader): void {
  if (r.readBits(4) === 15) r.skipBits(24)
}

/** `bits` bits of `buf` from bit `start`, left-aligned into whole bytes (zero padded). */
function copyBits(buf: Uint8Array, start: number, bits: number): Buffer {
  const r = new BitReader(buf)
  r.skipBits(start)
  const out = Buffer.alloc((bits + 7) >> 3)
  for (let i = 0; i < out.length; i++) {
    const n = Math.min(8, bits - i * 8)
    out[i] = r.readBits(n) << (8 - n)
  }
  return out
}
