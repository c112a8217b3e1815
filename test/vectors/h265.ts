/**
 * H.265 RTP vectors (RFC 7798). Round-trip vectors are checked both ways: the packetizer must
 * produce exactly `packets` from `au`, the depacketizer exactly `au` from `packets`.
 * Decode-only vectors reproduce what senders do and are named after the quirk.
 */
import type { H265DepacketizerOptions } from '../../src/formats/h265/depacketizer.js'
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

/**
 * Parameter sets from ffmpeg 5.1 + libx265 (`ffmpeg -f lavfi -i testsrc2=size=WxH -frames:v 1
 * -c:v libx265 [-pix_fmt P] -f hevc`), with what ffprobe reports for the same stream.
 */
export const h265SpsVectors = [
  {
    name: '320x240 Main (x265 default 4:2:0 8-bit)',
    vps: h('40010c01ffff01600000030090000003000003003c959809'),
    sps: h('42010101600000030090000003000003003ca00a080f165959a4932bc05a020000030002000003003210'),
    pps: h('4401c172b46240'),
    // ffprobe: hevc Main, 320x240, level 60
    expect: { width: 320, height: 240, profile: 'Main', tier: 'Main', level: '2.0', codecString: 'hvc1.1.6.L60.90', chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
  {
    name: '1920x1080 Main',
    sps: h('420101016000000300900000030000030078a003c08010e596566924caf0168080000003008000000c84'),
    // ffprobe: hevc Main, 1920x1080, level 120
    expect: { width: 1920, height: 1080, profile: 'Main', tier: 'Main', level: '4.0', codecString: 'hvc1.1.6.L120.90', chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
  {
    name: '352x290 Main 10 (yuv420p10le): 296 coded rows cut by the conformance window',
    sps: h('42010102200000030090000003000003003ca00b0804a7c8d96566924caf016808000003000800000300c840'),
    // ffprobe: hevc Main 10, 352x290, level 60
    expect: { width: 352, height: 290, profile: 'Main 10', tier: 'Main', level: '2.0', codecString: 'hvc1.2.4.L60.90', chromaFormatIdc: 1, bitDepthLuma: 10, codedHeight: 296 },
  },
  {
    name: '640x360 Rext 4:4:4 (yuv444p)',
    sps: h('4201010408000003009e0800000300003f9000a0402d2cb2b349265780b4040000030004000003006420'),
    // ffprobe: hevc Rext, 640x360, level 63
    expect: { width: 640, height: 360, profile: 'Rext', tier: 'Main', level: '2.1', codecString: 'hvc1.4.10.L63.9E.8', chromaFormatIdc: 3, bitDepthLuma: 8 },
  },
  {
    name: '1280x720 Main level 3.1 (x265 level-idc=5.1 capped to what the size needs)',
    sps: h('42010101600000030090000003000003005da00280802d165959a4932bc05a020000030002000003003210'),
    // ffprobe: hevc Main, 1280x720, level 93
    expect: { width: 1280, height: 720, profile: 'Main', tier: 'Main', level: '3.1', codecString: 'hvc1.1.6.L93.90', chromaFormatIdc: 1, bitDepthLuma: 8 },
  },
]

export const VPS = h265SpsVectors[0]!.vps!
export const SPS = h265SpsVectors[0]!.sps
export const PPS = h265SpsVectors[0]!.pps!
export const SPS_720P = h265SpsVectors[4]!.sps

/** A NAL unit of `size` bytes with the 2-byte header `header` and a payload free of zero bytes. */
export function nal(header: number, size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  b.writeUInt16BE(header, 0)
  for (let i = 2; i < size; i++) b[i] = ((i * 7 + seed) % 255) + 1
  return b
}

/** Aggregation packet payload (written out independently of the packetizer). */
export function ap(header: number, ...nalus: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([header >> 8, header & 0xff])]
  for (const n of nalus) {
    const len = Buffer.alloc(2)
    len.writeUInt16BE(n.length)
    parts.push(len, n)
  }
  return Buffer.concat(parts)
}

export interface H265RoundTripVector {
  name: string
  mtu?: number
  au: AccessUnit
  packets: VectorPacket[]
}

// NAL headers (type << 9 | LayerId << 3 | TID): IDR_W_RADL 19 → 0x2601, TRAIL_R 1 → 0x0201.
const IDR_SMALL = h('26 01 af 09 40')
const TRAIL_SMALL = h('02 01 d0 0a')
const IDR_17 = h('26 01 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f')
const IDR_150 = nal(0x2601, 150)
const SLICE_A = nal(0x0201, 8, 3)
const SLICE_B = nal(0x0201, 8, 9)

export const h265RoundTrip: H265RoundTripVector[] = [
  {
    name: 'single NAL unit packet',
    au: { rtpTimestamp: 90000, keyFrame: true, data: [IDR_SMALL] },
    packets: [{ marker: true, payload: IDR_SMALL }],
  },
  {
    name: 'VPS, SPS, PPS and a small IDR aggregated in one AP',
    au: { rtpTimestamp: 0, keyFrame: true, data: [VPS, SPS, PPS, IDR_SMALL] },
    packets: [{ marker: true, payload: ap(0x6001, VPS, SPS, PPS, IDR_SMALL) }],
  },
  {
    name: 'FU: NAL unit larger than the MTU',
    mtu: 8,
    au: { rtpTimestamp: 3600, keyFrame: true, data: [IDR_17] },
    packets: [
      // payload header 0x6201 = type 49, TID 1; FU header S|19 = 0x93, middle 0x13, E|19 = 0x53
      { marker: false, payload: h('62 01 93 01 02 03 04 05') },
      { marker: false, payload: h('62 01 13 06 07 08 09 0a') },
      { marker: true, payload: h('62 01 53 0b 0c 0d 0e 0f') },
    ],
  },
  {
    name: 'parameter sets in an AP, then the IDR in FU fragments',
    mtu: 100,
    au: { rtpTimestamp: 0xfffffff0, keyFrame: true, data: [VPS, SPS, PPS, IDR_150] },
    packets: [
      { marker: false, payload: ap(0x6001, VPS, SPS, PPS) },
      { marker: false, payload: Buffer.concat([h('62 01 93'), IDR_150.subarray(2, 99)]) },
      { marker: true, payload: Buffer.concat([h('62 01 53'), IDR_150.subarray(99)]) },
    ],
  },
  {
    name: 'two slices that do not fit together travel alone',
    mtu: 12,
    au: { rtpTimestamp: 7200, keyFrame: false, data: [SLICE_A, SLICE_B] },
    packets: [
      { marker: false, payload: SLICE_A },
      { marker: true, payload: SLICE_B },
    ],
  },
  {
    name: 'AP header takes the lowest LayerId and TID of its units',
    au: { rtpTimestamp: 10800, keyFrame: false, data: [h('4e 12 05 80'), h('02 0b d0'), TRAIL_SMALL] },
    // 0x4e12: SEI, LayerId 2, TID 2; 0x020b: LayerId 1, TID 3; 0x0201: LayerId 0, TID 1
    packets: [{ marker: true, payload: ap(0x6001, h('4e 12 05 80'), h('02 0b d0'), TRAIL_SMALL) }],
  },
  {
    name: 'FU keeps LayerId and TID in its payload header',
    mtu: 5,
    au: { rtpTimestamp: 1, keyFrame: false, data: [h('02 0a aa bb cc dd')] },
    packets: [
      { marker: false, payload: h('62 0a 81 aa bb') },
      { marker: true, payload: h('62 0a 41 cc dd') },
    ],
  },
]

export interface H265DecodeVector {
  name: string
  options?: H265DepacketizerOptions
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
  /** Expected depacketizer.sps afterwards, when the vector is about parameter sets. */
  sps?: Buffer
}

const AUD = h('46 01 50')

export const h265DecodeOnly: H265DecodeVector[] = [
  {
    name: 'FU with start and end bit (the CostarHD H.264 quirk, in H.265)',
    packets: [{ marker: true, payload: h('62 01 d3 af 09 40') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [IDR_SMALL] }],
    dropped: 0,
  },
  {
    name: 'rtph265pay config-interval=-1, multi-slice x265: VPS/SPS/PPS and AUD repeated before each IRAP slice',
    packets: [
      { marker: false, payload: AUD },
      { marker: false, payload: ap(0x6001, VPS, SPS, PPS) },
      { marker: false, payload: h('26 01 af 01') },
      { marker: false, payload: ap(0x6001, VPS, SPS, PPS) },
      { marker: false, payload: AUD },
      { marker: true, payload: h('26 01 2f 02') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [AUD, VPS, SPS, PPS, h('26 01 af 01'), h('26 01 2f 02')] }],
    dropped: 0,
  },
  {
    name: 'no marker bit: new timestamp ends the unit',
    packets: [
      { marker: false, timestamp: 0, payload: h('02 01 01 02') },
      { marker: false, timestamp: 3600, payload: h('02 01 03 04') },
      { marker: false, timestamp: 3600, payload: h('02 01 05 06') },
      { marker: true, timestamp: 7200, payload: h('02 01 07') },
    ],
    units: [
      { rtpTimestamp: 0, keyFrame: false, data: [h('02 01 01 02')] },
      { rtpTimestamp: 3600, keyFrame: false, data: [h('02 01 03 04'), h('02 01 05 06')] },
      { rtpTimestamp: 7200, keyFrame: false, data: [h('02 01 07')] },
    ],
    dropped: 0,
  },
  {
    name: 'CRA and BLA are key frames, RASL is not',
    packets: [
      { marker: true, timestamp: 0, payload: h('2a 01 01') },
      { marker: true, timestamp: 1, payload: h('12 01 02') },
      { marker: true, timestamp: 2, payload: h('20 01 03') },
    ],
    units: [
      { rtpTimestamp: 0, keyFrame: true, data: [h('2a 01 01')] },
      { rtpTimestamp: 1, keyFrame: false, data: [h('12 01 02')] },
      { rtpTimestamp: 2, keyFrame: true, data: [h('20 01 03')] },
    ],
    dropped: 0,
  },
  {
    name: 'AP with zero-length entries and padding',
    packets: [{ marker: true, payload: h('60 01 0005 2601af0940 0000 0003 0201aa 0000 00') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [IDR_SMALL, h('0201aa')] }],
    dropped: 0,
  },
  {
    name: 'AP with an entry running past the packet',
    packets: [{ marker: true, payload: h('60 01 0003 0201aa 0009 260101') }],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('0201aa')] }],
    dropped: 1,
  },
  {
    name: 'missing first fragment after loss',
    packets: [
      { marker: false, sequenceNumber: 10, payload: h('62 01 13 07 08') },
      { marker: false, sequenceNumber: 11, payload: h('62 01 13 09 0a') },
      { marker: true, sequenceNumber: 12, payload: h('62 01 53 0b 0c') },
      { marker: true, sequenceNumber: 13, timestamp: 3600, payload: h('62 01 93 01 02') },
    ],
    units: [],
    dropped: 2,
  },
  {
    name: 'missing first fragment: resync at the next start',
    packets: [
      { marker: false, sequenceNumber: 10, payload: h('62 01 13 07 08') },
      { marker: false, sequenceNumber: 11, payload: h('62 01 93 01 02') },
      { marker: true, sequenceNumber: 12, payload: h('62 01 53 03 04') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('26 01 01 02 03 04')] }],
    dropped: 1,
  },
  {
    name: 'missing middle fragment: sequence gap drops the NAL',
    packets: [
      { marker: false, sequenceNumber: 65535, payload: h('62 01 81 01 02') },
      { marker: false, sequenceNumber: 1, payload: h('62 01 01 05 06') },
      { marker: true, sequenceNumber: 2, payload: h('62 01 41 07 08') },
      { marker: false, sequenceNumber: 3, timestamp: 3600, payload: h('62 01 81 01 02') },
      { marker: true, sequenceNumber: 4, timestamp: 3600, payload: h('62 01 41 03') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('02 01 01 02 03')] }],
    dropped: 1,
  },
  {
    name: 'lost end fragment: a new timestamp drops the partial NAL',
    packets: [
      { marker: false, timestamp: 0, payload: h('62 01 93 01 02') },
      { marker: true, timestamp: 3600, payload: h('02 01 09') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('02 01 09')] }],
    dropped: 1,
  },
  {
    name: 'lost end fragment: an AP drops the partial NAL',
    packets: [
      { marker: false, payload: h('62 01 93 01 02') },
      { marker: true, payload: ap(0x6001, h('02 01 09'), h('02 01 0a')) },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('02 01 09'), h('02 01 0a')] }],
    dropped: 1,
  },
  {
    name: 'single NAL packet carrying Annex B start codes',
    packets: [{ marker: true, payload: Buffer.concat([VPS, h('00 00 00 01'), SPS, h('00 00 01'), PPS, h('00 00 01 26 01 af')]) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [VPS, SPS, PPS, h('26 01 af')] }],
    dropped: 0,
  },
  {
    name: 'payload starting with a start code',
    packets: [{ marker: true, payload: h('00 00 00 01 26 01 af') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('26 01 af')] }],
    dropped: 0,
  },
  {
    name: 'sprop parameter sets prepended to the first IRAP only',
    options: { vps: VPS, sps: SPS, pps: PPS },
    packets: [
      { marker: true, timestamp: 0, payload: h('02 01 01') },
      { marker: true, timestamp: 3600, payload: h('26 01 01') },
      { marker: true, timestamp: 7200, payload: h('26 01 02') },
    ],
    units: [
      { rtpTimestamp: 0, keyFrame: false, data: [h('02 01 01')] },
      { rtpTimestamp: 3600, keyFrame: true, data: [VPS, SPS, PPS, h('26 01 01')] },
      { rtpTimestamp: 7200, keyFrame: true, data: [h('26 01 02')] },
    ],
    dropped: 0,
    sps: SPS,
  },
  {
    name: 'sprop parameter sets prepended to every IRAP when asked',
    options: { vps: VPS, sps: SPS, pps: PPS, insertParameterSets: 'every-irap' },
    packets: [
      { marker: true, timestamp: 3600, payload: h('26 01 01') },
      { marker: true, timestamp: 7200, payload: h('2a 01 02') },
    ],
    units: [
      { rtpTimestamp: 3600, keyFrame: true, data: [VPS, SPS, PPS, h('26 01 01')] },
      { rtpTimestamp: 7200, keyFrame: true, data: [VPS, SPS, PPS, h('2a 01 02')] },
    ],
    dropped: 0,
  },
  {
    name: 'in-band parameter sets are not duplicated and replace the SDP ones',
    options: { vps: VPS, sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: ap(0x6001, VPS, SPS_720P, h('4401c0'), h('26 01 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [VPS, SPS_720P, h('4401c0'), h('26 01 01')] }],
    dropped: 0,
    sps: SPS_720P,
  },
  {
    name: 'only the missing parameter sets are inserted, in VPS, SPS, PPS order',
    options: { vps: VPS, sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: ap(0x6001, SPS_720P, h('26 01 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [VPS, SPS_720P, PPS, h('26 01 01')] }],
    dropped: 0,
  },
  {
    name: 'parameter sets sent with their own timestamp and marker join the next picture',
    packets: [
      { marker: true, timestamp: 0, payload: VPS },
      { marker: true, timestamp: 0, payload: ap(0x6001, SPS, PPS) },
      { marker: true, timestamp: 3600, payload: h('26 01 01') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: true, data: [VPS, SPS, PPS, h('26 01 01')] }],
    dropped: 0,
  },
  {
    name: 'access unit delimiter stays first when parameter sets are inserted',
    options: { vps: VPS, sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: ap(0x6001, AUD, h('26 01 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [AUD, VPS, SPS, PPS, h('26 01 01')] }],
    dropped: 0,
  },
  {
    name: 'access unit over the size limit is dropped',
    options: { maxAccessUnitSize: 10 },
    packets: [
      { marker: false, timestamp: 0, payload: h('02 01 01 02 03 04') },
      { marker: true, timestamp: 0, payload: h('02 01 06 07 08 09') },
      { marker: true, timestamp: 3600, payload: h('02 01 01 02') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('02 01 01 02')] }],
    dropped: 1,
  },
  {
    name: 'fragmented NAL over the size limit is dropped',
    options: { maxAccessUnitSize: 6 },
    packets: [
      { marker: false, payload: h('62 01 93 01 02 03') },
      { marker: false, payload: h('62 01 13 04 05 06') },
      { marker: true, payload: h('62 01 53 07') },
    ],
    units: [],
    dropped: 1,
  },
  {
    name: 'too many NAL units in one access unit are dropped',
    options: { maxNalUnits: 2 },
    packets: [
      { marker: true, timestamp: 0, payload: ap(0x6001, h('02 01 01'), h('02 01 02'), h('02 01 03')) },
      { marker: true, timestamp: 3600, payload: ap(0x6001, h('02 01 01'), h('02 01 02')) },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('02 01 01'), h('02 01 02')] }],
    dropped: 1,
  },
  {
    name: 'PACI and one-byte payloads are counted; unspecified types 51–63 and empty payloads ignored',
    packets: [
      { marker: false, payload: h('64 01 00 00 02 01 01') },
      { marker: false, payload: h('02') },
      { marker: false, payload: h('66 01 01') },
      { marker: false, payload: h('7e 01 01') },
      { marker: false, payload: h('') },
      { marker: true, payload: h('02 01 02') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('02 01 02')] }],
    dropped: 2,
  },
]
