/**
 * MP4A-LATM RTP vectors (RFC 6416). cpresent=0: round-trip vectors (one subframe per
 * AudioMuxElement, what the packetizer writes) are checked both ways; decode-only vectors
 * cover subframes, several elements per packet, loss, and malformed lengths. cpresent=1
 * (StreamMuxConfig in-band): FFmpeg's LOAS payloads, and elements built bit by bit by
 * `inBandElement`, an encoder written here from ISO/IEC 14496-3 §1.7.3 (not from src/).
 */
import type { LatmDepacketizerOptions } from '../../src/formats/latm/depacketizer.js'
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

/** A frame of `size` bytes. */
export function frame(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 11 + seed) & 0xff
  return b
}

const au = (rtpTimestamp: number, data: Buffer): AccessUnit => ({ rtpTimestamp, keyFrame: true, data: [data] })

export interface LatmRoundTripVector {
  name: string
  mtu?: number
  units: AccessUnit[]
  packets: Array<VectorPacket & { timestamp: number }>
}

const F300 = frame(300)
const F510 = frame(510)

export const latmRoundTrip: LatmRoundTripVector[] = [
  {
    name: 'one frame per packet: length byte, then the frame',
    units: [au(0, h('21 1b 94')), au(1024, h('aabb'))],
    packets: [
      { marker: true, timestamp: 0, payload: h('03 21 1b 94') },
      { marker: true, timestamp: 1024, payload: h('02 aabb') },
    ],
  },
  {
    name: 'a 300-byte frame: PayloadLengthInfo ff 2d',
    units: [au(5000, F300)],
    packets: [{ marker: true, timestamp: 5000, payload: Buffer.concat([h('ff 2d'), F300]) }],
  },
  {
    name: 'exactly 255 bytes: ff 00',
    units: [au(0, frame(255))],
    packets: [{ marker: true, timestamp: 0, payload: Buffer.concat([h('ff 00'), frame(255)]) }],
  },
  {
    name: 'a 510-byte frame fragmented over three packets, marker on the last',
    mtu: 200,
    units: [au(0xfffffc00, F510)],
    packets: [
      { marker: false, timestamp: 0xfffffc00, payload: Buffer.concat([h('ff ff 00'), F510.subarray(0, 197)]) },
      { marker: false, timestamp: 0xfffffc00, payload: F510.subarray(197, 397) },
      { marker: true, timestamp: 0xfffffc00, payload: F510.subarray(397) },
    ],
  },
]

export interface LatmDecodeVector {
  name: string
  options?: LatmDepacketizerOptions
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
}

export const latmDecodeOnly: LatmDecodeVector[] = [
  {
    name: 'numSubFrames 1: two frames per element, 1024 ticks apart',
    options: { subFrames: 2 },
    packets: [{ marker: true, payload: h('02 aabb 03 ccddee') }],
    units: [au(0, h('aabb')), au(1024, h('ccddee'))],
    dropped: 0,
  },
  {
    name: 'two AudioMuxElements in one packet (RFC 6416 §6.1)',
    packets: [{ marker: true, payload: h('01 aa 02 bbcc') }],
    units: [au(0, h('aa')), au(1024, h('bbcc'))],
    dropped: 0,
  },
  {
    name: 'HE-AAC: 2048 ticks per frame at the SBR rate',
    options: { frameDuration: 2048 },
    packets: [{ marker: true, payload: h('01 aa 01 bb') }],
    units: [au(0, h('aa')), au(2048, h('bb'))],
    dropped: 0,
  },
  {
    name: 'otherData after the payload is skipped',
    options: { otherDataPresent: true },
    packets: [{ marker: true, payload: h('02 aabb 0102') }],
    units: [au(0, h('aabb'))],
    dropped: 0,
  },
  {
    name: 'length overruns the element: dropped and counted, earlier frames kept',
    packets: [{ marker: true, payload: h('01 aa 09 bbcc') }, { marker: true, timestamp: 2048, payload: h('ff') }],
    units: [au(0, h('aa'))],
    dropped: 2,
  },
  {
    name: 'empty payload is dropped and counted',
    packets: [{ marker: true, payload: h('') }],
    units: [],
    dropped: 1,
  },
  {
    name: 'missing middle fragment: the element is dropped once, the rest skipped',
    packets: [
      { marker: false, sequenceNumber: 1, payload: h('05 aabb') },
      { marker: false, sequenceNumber: 3, payload: h('cc') },
      { marker: true, sequenceNumber: 4, payload: h('ddee') },
      { marker: true, sequenceNumber: 5, timestamp: 1024, payload: h('01 ff') },
    ],
    units: [au(1024, h('ff'))],
    dropped: 1,
  },
  {
    name: 'sender that never sets the marker bit: a new timestamp ends the element',
    packets: [
      { marker: false, timestamp: 0, payload: h('02 aabb') },
      { marker: false, timestamp: 1024, payload: h('01 cc') },
      { marker: true, timestamp: 2048, payload: h('01 dd') },
    ],
    units: [au(0, h('aabb')), au(1024, h('cc')), au(2048, h('dd'))],
    dropped: 0,
  },
  {
    name: 'element larger than the limit is dropped',
    options: { maxAccessUnitSize: 100 },
    packets: [
      { marker: false, payload: Buffer.concat([h('ff 2d'), frame(80)]) },
      { marker: false, payload: frame(80) },
      { marker: true, payload: frame(140) },
      { marker: true, timestamp: 1024, payload: h('01 aa') },
    ],
    units: [au(1024, h('aa'))],
    dropped: 1,
  },
]

// ---- cpresent=1: AudioMuxElement(1) with the StreamMuxConfig in-band ----

/**
 * From FFmpeg 5.1 (`-f lavfi -i sine=frequency=440:sample_rate=16000 -c:a aac -b:a 16k -ac 1
 * -f adts`, then `-c copy -f latm`): the first two LOAS AudioMuxElements (3-byte sync header
 * removed) and the raw frames of the ADTS file. Element 0 has useSameStreamMux 0 and the
 * config (ASC 1408: AAC LC, 16 kHz, mono); element 1 has useSameStreamMux 1, so its payload
 * sits one bit off the byte grid.
 */
export const FFMPEG_LOAS = {
  asc: h('1408'),
  elements: [
    h(
      '200014081fe5fef01002630bb319a9c97199b9718981800012250ad30748aa5775f67d69c513254972a521241a3b30e62cc36d62b8962ba4b46e92e2dcc5b17476e18b463314f33d53394b38a94d3c2710fe1ea385b6fdfea680bfb83bad6e566e55ad56e775b5d76d6daa674d9d35a9ad4d699699299299289289689281818181818181818181818181818191030303030303030322366cd9b06448a59659659659659659659659659659659659659659659659659659659659659659659659659659659780',
    ),
    h(
      'd800824b6d0cb9b2e5916136a1261371387ffdcffbfd6b5735aae7fff97febf88d5b873fff57ff6fd4d4bbbeffff97fe7fb9a938b0978dda6617a5e79e7825e4860917a2ac2e59b078f9d8bc8f2f79ed2dc7befe76eea677a79de9e77b9a77a7529e4ce73a9e7b9aaa5584bdd9fbd473efcf67efa1084040c221497522c60ca468a5491d520c1374904dd0609ba0c12139035976eda24757092bafc6aafd0d23edc0e7708cd29818181890e641b350ecf800',
    ),
  ],
  frames: [
    h(
      'de02004c61766335392e33372e313030000244a15a60e9154aeebecfad38a264a92e54a4248347661cc5986dac5712c574968dd25c5b98b62e8edc3168c6629e67aa6729671529a784e21fc3d470b6dfbfd4d017f70775adcacdcab5aadceeb6baedadb54ce9b3a6b535a9ad32d32532532512512d125030303030303030303030303030303220606060606060606446cd9b360c8914b2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2cb2f0',
    ),
    h(
      '010496da197365cb22c26d424c26e270fffb9ff7fad6ae6b55cffff2ffd7f11ab70e7ffeaffedfa9a9777dffff2ffcff735271612f1bb4cc2f4bcf3cf04bc90c122f45585cb360f1f3b1791e5ef3da5b8f7dfceddd4cef4f3bd3cef734ef4ea53c99ce753cf73554ab097bb3f7a8e7df9ecfdf42108081844292ea458c1948d14a923aa41826e9209ba0c1374182427206b2eddb448eae12575f8d55fa1a47db81cee119a53030303121cc8366a1d9f0',
    ),
  ],
}

/** What an in-band StreamMuxConfig says (audioMuxVersion 0, one program, one layer). */
export interface InBandConfig {
  /** A 16-bit AudioSpecificConfig (AAC LC without extensions), e.g. 0x1408. */
  asc: number
  /** numSubFrames + 1. Default 1. */
  subFrames?: number
  /** crcCheckPresent, with this crcCheckSum. */
  crc?: number
  /** otherDataPresent, with otherDataLenBits = 8 × this many bytes (written after the payloads). */
  otherDataBytes?: number
}

/**
 * One AudioMuxElement(1): useSameStreamMux (0 and the config when `config` is given, else 1),
 * PayloadLengthInfo + PayloadMux per subframe, otherData, byte_align (ISO/IEC 14496-3 §1.7.3).
 */
export function inBandElement(config: InBandConfig | undefined, frames: readonly Buffer[]): Buffer {
  let bits = ''
  const put = (value: number, n: number) => {
    bits += value.toString(2).padStart(n, '0').slice(-n)
  }
  put(config === undefined ? 1 : 0, 1) // useSameStreamMux
  if (config !== undefined) {
    put(0, 1) // audioMuxVersion
    put(1, 1) // allStreamsSameTimeFraming
    put((config.subFrames ?? 1) - 1, 6) // numSubFrames
    put(0, 4) // numProgram
    put(0, 3) // numLayer
    put(config.asc, 16) // AudioSpecificConfig
    put(0, 3) // frameLengthType
    put(0xff, 8) // latmBufferFullness
    const other = config.otherDataBytes ?? 0
    put(other > 0 ? 1 : 0, 1) // otherDataPresent
    if (other > 0) {
      put(0, 1) // otherDataLenEsc
      put(other * 8, 8) // otherDataLenTmp
    }
    put(config.crc !== undefined ? 1 : 0, 1) // crcCheckPresent
    if (config.crc !== undefined) put(config.crc, 8) // crcCheckSum
  }
  for (const f of frames) {
    let left = f.length
    while (left >= 255) {
      put(255, 8)
      left -= 255
    }
    put(left, 8)
    for (const b of f) put(b, 8)
  }
  for (let i = 0; i < (config?.otherDataBytes ?? 0); i++) put(0xa5, 8)
  bits += '0'.repeat(-bits.length & 7) // byte_align
  return Buffer.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)))
}

export interface LatmInBandVector {
  name: string
  options: LatmDepacketizerOptions
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
  /** The AudioSpecificConfig in use afterwards. */
  asc?: Buffer
  /** cpresent=1 with a config= in the SDP: the StreamMuxConfig for this ASC is given as `options.config`. */
  sdpAsc?: Buffer
}

const MONO_16K = { asc: 0x1408 }
const STEREO_16K = { asc: 0x1410 }

export const latmInBand: LatmInBandVector[] = [
  {
    name: 'FFmpeg LOAS payloads: config in the first element, then useSameStreamMux (payload one bit off the byte grid)',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [
      { marker: true, timestamp: 0, payload: FFMPEG_LOAS.elements[0]! },
      { marker: true, timestamp: 1024, payload: FFMPEG_LOAS.elements[1]! },
    ],
    units: [au(0, FFMPEG_LOAS.frames[0]!), au(1024, FFMPEG_LOAS.frames[1]!)],
    dropped: 0,
    asc: FFMPEG_LOAS.asc,
  },
  {
    name: 'joined mid-stream: elements before the first in-band config are dropped and counted',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [
      { marker: true, timestamp: 0, payload: FFMPEG_LOAS.elements[1]! },
      { marker: true, timestamp: 1024, payload: FFMPEG_LOAS.elements[0]! },
      { marker: true, timestamp: 2048, payload: FFMPEG_LOAS.elements[1]! },
    ],
    units: [au(1024, FFMPEG_LOAS.frames[0]!), au(2048, FFMPEG_LOAS.frames[1]!)],
    dropped: 1,
    asc: FFMPEG_LOAS.asc,
  },
  {
    name: 'config changes mid-stream to stereo, two subframes and a CRC byte; timestamps 1024 apart',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [
      { marker: true, timestamp: 0, payload: inBandElement(MONO_16K, [h('aabbcc')]) },
      { marker: true, timestamp: 1024, payload: inBandElement({ ...STEREO_16K, subFrames: 2, crc: 0x5a }, [h('01'), frame(300)]) },
      { marker: true, timestamp: 3072, payload: inBandElement(undefined, [h('0203'), h('04')]) },
    ],
    units: [au(0, h('aabbcc')), au(1024, h('01')), au(2048, frame(300)), au(3072, h('0203')), au(4096, h('04'))],
    dropped: 0,
    asc: h('1410'),
  },
  {
    name: 'otherData after the payload is skipped; two elements in one packet, each byte-aligned',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [
      { marker: true, timestamp: 0, payload: inBandElement({ ...MONO_16K, otherDataBytes: 2 }, [h('aabb')]) },
      { marker: true, timestamp: 1024, payload: Buffer.concat([inBandElement(MONO_16K, [h('cc')]), inBandElement(undefined, [h('ddee')])]) },
    ],
    units: [au(0, h('aabb')), au(1024, h('cc')), au(2048, h('ddee'))],
    dropped: 0,
  },
  {
    name: 'an element fragmented over two packets, config and all',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [
      { marker: false, timestamp: 0, payload: inBandElement(MONO_16K, [frame(400)]).subarray(0, 100) },
      { marker: true, timestamp: 0, payload: inBandElement(MONO_16K, [frame(400)]).subarray(100) },
    ],
    units: [au(0, frame(400))],
    dropped: 0,
  },
  {
    name: 'config from the SDP (cpresent=1 with config=) is used until one arrives in-band',
    options: { muxConfigPresent: true, clockRate: 16000 },
    sdpAsc: FFMPEG_LOAS.asc,
    packets: [{ marker: true, timestamp: 0, payload: FFMPEG_LOAS.elements[1]! }],
    units: [au(0, FFMPEG_LOAS.frames[1]!)],
    dropped: 0,
    asc: FFMPEG_LOAS.asc,
  },
  {
    name: 'truncated payload: dropped and counted, the frames before it kept',
    options: { muxConfigPresent: true, clockRate: 16000 },
    packets: [{ marker: true, timestamp: 0, payload: Buffer.concat([inBandElement(MONO_16K, [h('aa')]), inBandElement(undefined, [frame(50)]).subarray(0, 20)]) }],
    units: [au(0, h('aa'))],
    dropped: 1,
  },
]
