/**
 * H.264 RTP vectors (RFC 6184). Round-trip vectors are checked both ways: the packetizer
 * must produce exactly `packets` from `au`, the depacketizer exactly `au` from `packets`.
 * Decode-only vectors reproduce what cameras send and are named after the quirk.
 */
import type { H264DepacketizerOptions } from '../../src/formats/h264/depacketizer.js'
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

// Real parameter sets from x264 (640x480 High 3.0).
export const SPS = h('6764001eacd940a03db011000003000100000300320f162d96')
export const PPS = h('68ebe3cb22c0')
// Another pair (1280x720 Main 3.1) for "in-band parameter sets replace the SDP's".
export const SPS_720P = h('674d401feca02802dd80880000030008000003019078c18cb0')
export const PPS_720P = h('68ebe3cb20')

/** A NAL unit of `size` bytes with header byte `header` and a payload free of zero bytes. */
export function nal(header: number, size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  b[0] = header
  for (let i = 1; i < size; i++) b[i] = ((i * 7 + seed) % 255) + 1
  return b
}

/** STAP-A payload (written out independently of the packetizer): header byte, then size-prefixed units. */
export function stapA(header: number, ...nalus: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([header])]
  for (const n of nalus) {
    const len = Buffer.alloc(2)
    len.writeUInt16BE(n.length)
    parts.push(len, n)
  }
  return Buffer.concat(parts)
}

export interface H264RoundTripVector {
  name: string
  mtu?: number
  au: AccessUnit
  packets: VectorPacket[]
}

const IDR_SMALL = h('65 88 84 21 a0')
const P_SMALL = h('41 9a 02 20')
const SEI = h('06 05 02 aa bb 80')
const IDR_17 = h('65 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10')
const IDR_50 = nal(0x65, 50)
const SLICE_A = nal(0x41, 8, 3)
const SLICE_B = nal(0x41, 8, 9)

export const h264RoundTrip: H264RoundTripVector[] = [
  {
    name: 'single NAL unit packet',
    au: { rtpTimestamp: 90000, keyFrame: true, data: [IDR_SMALL] },
    packets: [{ marker: true, payload: IDR_SMALL }],
  },
  {
    name: 'SPS, PPS and a small IDR aggregated in one STAP-A',
    au: { rtpTimestamp: 0, keyFrame: true, data: [SPS, PPS, IDR_SMALL] },
    packets: [{ marker: true, payload: stapA(0x78, SPS, PPS, IDR_SMALL) }],
  },
  {
    name: 'FU-A: NAL unit larger than the MTU',
    mtu: 8,
    au: { rtpTimestamp: 3600, keyFrame: true, data: [IDR_17] },
    packets: [
      // indicator 0x7c = NRI 3 | type 28; FU header S|type 5 = 0x85, middle 0x05, E|type 5 = 0x45
      { marker: false, payload: h('7c 85 01 02 03 04 05 06') },
      { marker: false, payload: h('7c 05 07 08 09 0a 0b 0c') },
      { marker: true, payload: h('7c 45 0d 0e 0f 10') },
    ],
  },
  {
    name: 'parameter sets in a STAP-A, then the IDR in FU-A fragments',
    mtu: 40,
    au: { rtpTimestamp: 0xfffffff0, keyFrame: true, data: [SPS, PPS, IDR_50] },
    packets: [
      { marker: false, payload: stapA(0x78, SPS, PPS) },
      { marker: false, payload: Buffer.concat([h('7c 85'), IDR_50.subarray(1, 39)]) },
      { marker: true, payload: Buffer.concat([h('7c 45'), IDR_50.subarray(39)]) },
    ],
  },
  {
    name: 'two slices that do not fit together travel alone',
    mtu: 10,
    au: { rtpTimestamp: 7200, keyFrame: false, data: [SLICE_A, SLICE_B] },
    packets: [
      { marker: false, payload: SLICE_A },
      { marker: true, payload: SLICE_B },
    ],
  },
  {
    name: 'SEI and a P slice in a STAP-A takes the largest NRI',
    au: { rtpTimestamp: 10800, keyFrame: false, data: [SEI, P_SMALL] },
    packets: [{ marker: true, payload: stapA(0x58, SEI, P_SMALL) }],
  },
  {
    name: 'NRI 0 NAL unit fragmented keeps NRI 0 in the FU indicator',
    mtu: 4,
    au: { rtpTimestamp: 1, keyFrame: false, data: [h('01 aa bb cc dd')] },
    packets: [
      { marker: false, payload: h('1c 81 aa bb') },
      { marker: true, payload: h('1c 41 cc dd') },
    ],
  },
]

export interface H264DecodeVector {
  name: string
  options?: H264DepacketizerOptions
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
  /** Expected depacketizer.sps afterwards, when the vector is about parameter sets. */
  sps?: Buffer
}

export const h264DecodeOnly: H264DecodeVector[] = [
  {
    name: 'CostarHD: FU-A with start and end bit',
    packets: [{ marker: true, payload: h('7c c5 88 84 21 a0') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('65 88 84 21 a0')] }],
    dropped: 0,
  },
  {
    name: 'GStreamer rtph264pay config-interval=-1, sliced x264: SPS/PPS repeated before each IDR slice',
    packets: [
      { marker: false, payload: h('09 f0') },
      { marker: false, payload: h('67 42 c0 1e') },
      { marker: false, payload: h('68 ce 3c 80') },
      { marker: false, payload: h('65 88 01') },
      { marker: false, payload: h('67 42 c0 1e') },
      { marker: false, payload: h('68 ce 3c 80') },
      { marker: false, payload: h('09 f0') },
      { marker: true, payload: h('65 88 02') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('09 f0'), h('67 42 c0 1e'), h('68 ce 3c 80'), h('65 88 01'), h('65 88 02')] }],
    dropped: 0,
  },
  {
    name: 'no marker bit: new timestamp ends the unit',
    packets: [
      { marker: false, timestamp: 0, payload: h('41 01 02') },
      { marker: false, timestamp: 3600, payload: h('41 03 04') },
      { marker: false, timestamp: 3600, payload: h('41 05 06') },
      { marker: true, timestamp: 7200, payload: h('41 07') },
    ],
    units: [
      { rtpTimestamp: 0, keyFrame: false, data: [h('41 01 02')] },
      { rtpTimestamp: 3600, keyFrame: false, data: [h('41 03 04'), h('41 05 06')] },
      { rtpTimestamp: 7200, keyFrame: false, data: [h('41 07')] },
    ],
    dropped: 0,
  },
  {
    name: 'STAP-A with padding',
    packets: [{ marker: true, payload: h('78 0005 6588842101 0000 0003 41aabb 0000 00') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('6588842101'), h('41aabb')] }],
    dropped: 0,
  },
  {
    name: 'STAP-A with an entry running past the packet',
    packets: [{ marker: true, payload: h('78 0003 41aabb 0009 65010203') }],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('41aabb')] }],
    dropped: 1,
  },
  {
    name: 'missing first fragment after loss',
    packets: [
      { marker: false, sequenceNumber: 10, payload: h('7c 05 07 08') },
      { marker: false, sequenceNumber: 11, payload: h('7c 05 09 0a') },
      { marker: true, sequenceNumber: 12, payload: h('7c 45 0b 0c') },
      { marker: true, sequenceNumber: 13, timestamp: 3600, payload: h('7c 85 01 02') },
    ],
    units: [],
    dropped: 2,
  },
  {
    name: 'missing first fragment: resync at the next start',
    packets: [
      { marker: false, sequenceNumber: 10, payload: h('7c 05 07 08') },
      { marker: false, sequenceNumber: 11, payload: h('7c 85 01 02') },
      { marker: true, sequenceNumber: 12, payload: h('7c 45 03 04') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('65 01 02 03 04')] }],
    dropped: 1,
  },
  {
    name: 'missing middle fragment: sequence gap drops the NAL',
    packets: [
      { marker: false, sequenceNumber: 65535, payload: h('5c 81 01 02') },
      { marker: false, sequenceNumber: 1, payload: h('5c 01 05 06') },
      { marker: true, sequenceNumber: 2, payload: h('5c 41 07 08') },
      { marker: false, sequenceNumber: 3, timestamp: 3600, payload: h('5c 81 01 02') },
      { marker: true, sequenceNumber: 4, timestamp: 3600, payload: h('5c 41 03') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('41 01 02 03')] }],
    dropped: 1,
  },
  {
    name: 'lost end fragment: a new timestamp drops the partial NAL',
    packets: [
      { marker: false, timestamp: 0, payload: h('7c 85 01 02') },
      { marker: true, timestamp: 3600, payload: h('41 09') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('41 09')] }],
    dropped: 1,
  },
  {
    name: 'lost end fragment: a single NAL packet drops the partial NAL',
    packets: [
      { marker: false, payload: h('7c 85 01 02') },
      { marker: true, payload: h('41 09') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('41 09')] }],
    dropped: 1,
  },
  {
    name: 'single NAL packet carrying Annex B start codes',
    packets: [{ marker: true, payload: h('67 42 c0 15 00 00 00 01 68 cb 83 cb 20 00 00 01 65 88 84') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('67 42 c0 15'), h('68 cb 83 cb 20'), h('65 88 84')] }],
    dropped: 0,
  },
  {
    name: 'payload starting with a start code',
    packets: [{ marker: true, payload: h('00 00 00 01 65 88 84') }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('65 88 84')] }],
    dropped: 0,
  },
  {
    name: 'FU-A whose NAL unit holds several Annex B NAL units',
    packets: [
      { marker: false, payload: h('7c 85 88 84 00 00') },
      { marker: true, payload: h('7c 45 00 01 41 9a') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('65 88 84'), h('41 9a')] }],
    dropped: 0,
  },
  {
    name: 'sprop parameter sets prepended to the first IDR only',
    options: { sps: SPS, pps: PPS },
    packets: [
      { marker: true, timestamp: 0, payload: h('41 01') },
      { marker: true, timestamp: 3600, payload: h('65 01') },
      { marker: true, timestamp: 7200, payload: h('65 02') },
    ],
    units: [
      { rtpTimestamp: 0, keyFrame: false, data: [h('41 01')] },
      { rtpTimestamp: 3600, keyFrame: true, data: [SPS, PPS, h('65 01')] },
      { rtpTimestamp: 7200, keyFrame: true, data: [h('65 02')] },
    ],
    dropped: 0,
    sps: SPS,
  },
  {
    name: 'sprop parameter sets prepended to every IDR when asked',
    options: { sps: SPS, pps: PPS, insertParameterSets: 'every-idr' },
    packets: [
      { marker: true, timestamp: 3600, payload: h('65 01') },
      { marker: true, timestamp: 7200, payload: h('65 02') },
    ],
    units: [
      { rtpTimestamp: 3600, keyFrame: true, data: [SPS, PPS, h('65 01')] },
      { rtpTimestamp: 7200, keyFrame: true, data: [SPS, PPS, h('65 02')] },
    ],
    dropped: 0,
  },
  {
    name: 'in-band parameter sets are not duplicated and replace the SDP ones',
    options: { sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: stapA(0x78, SPS_720P, PPS_720P, h('65 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [SPS_720P, PPS_720P, h('65 01')] }],
    dropped: 0,
    sps: SPS_720P,
  },
  {
    name: 'only a missing PPS is prepended',
    options: { sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: stapA(0x78, SPS_720P, h('65 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [SPS_720P, PPS, h('65 01')] }],
    dropped: 0,
  },
  {
    name: 'parameter sets sent with their own timestamp and marker join the next picture',
    packets: [
      { marker: true, timestamp: 0, payload: SPS },
      { marker: true, timestamp: 0, payload: PPS },
      { marker: true, timestamp: 3600, payload: h('65 01') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: true, data: [SPS, PPS, h('65 01')] }],
    dropped: 0,
  },
  {
    name: 'access unit delimiter stays first when parameter sets are inserted',
    options: { sps: SPS, pps: PPS },
    packets: [{ marker: true, payload: stapA(0x78, h('09 10'), h('65 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: true, data: [h('09 10'), SPS, PPS, h('65 01')] }],
    dropped: 0,
  },
  {
    name: 'access unit delimiters stripped when asked',
    options: { stripAud: true },
    packets: [{ marker: true, payload: stapA(0x78, h('09 10'), h('41 01')) }],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('41 01')] }],
    dropped: 0,
  },
  {
    name: 'access unit over the size limit is dropped',
    options: { maxAccessUnitSize: 10 },
    packets: [
      { marker: false, timestamp: 0, payload: h('41 01 02 03 04 05') },
      { marker: true, timestamp: 0, payload: h('41 06 07 08 09 0a') },
      { marker: true, timestamp: 3600, payload: h('41 01 02') },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('41 01 02')] }],
    dropped: 1,
  },
  {
    name: 'fragmented NAL over the size limit is dropped',
    options: { maxAccessUnitSize: 6 },
    packets: [
      { marker: false, payload: h('7c 85 01 02 03') },
      { marker: false, payload: h('7c 05 04 05 06') },
      { marker: true, payload: h('7c 45 07') },
    ],
    units: [],
    dropped: 1,
  },
  {
    name: 'too many NAL units in one access unit are dropped',
    options: { maxNalUnits: 2 },
    packets: [
      { marker: true, timestamp: 0, payload: stapA(0x78, h('41 01'), h('41 02'), h('41 03')) },
      { marker: true, timestamp: 3600, payload: stapA(0x78, h('41 01'), h('41 02')) },
    ],
    units: [{ rtpTimestamp: 3600, keyFrame: false, data: [h('41 01'), h('41 02')] }],
    dropped: 1,
  },
  {
    name: 'interleaved-mode packets (STAP-B, MTAP, FU-B) are counted and skipped',
    packets: [
      { marker: false, payload: h('79 0000 0002 41 01') },
      { marker: false, payload: h('7d 85 0000 01') },
      { marker: true, payload: h('41 02') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('41 02')] }],
    dropped: 2,
  },
  {
    name: 'reserved types 30 and 31 and empty payloads are ignored',
    packets: [
      { marker: false, payload: h('7e 01') },
      { marker: false, payload: h('') },
      { marker: false, payload: h('7f 01') },
      { marker: true, payload: h('41 02') },
    ],
    units: [{ rtpTimestamp: 0, keyFrame: false, data: [h('41 02')] }],
    dropped: 0,
  },
]
