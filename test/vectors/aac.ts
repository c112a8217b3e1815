/**
 * AAC RTP vectors (RFC 3640 mpeg4-generic). Round-trip vectors (AAC-hbr: 13-bit size,
 * 3-bit index) are checked both ways; decode-only vectors cover other layouts and loss.
 */
import type { AacDepacketizerOptions } from '../../src/formats/aac/depacketizer.js'
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

export const HBR: AacDepacketizerOptions = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 }
export const LBR: AacDepacketizerOptions = { sizeLength: 6, indexLength: 2, indexDeltaLength: 2 }

/** A frame of `size` bytes. */
export function frame(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size)
  for (let i = 0; i < size; i++) b[i] = (i * 13 + seed) & 0xff
  return b
}

const au = (rtpTimestamp: number, data: Buffer): AccessUnit => ({ rtpTimestamp, keyFrame: true, data: [data] })

export interface AacRoundTripVector {
  name: string
  mtu?: number
  units: AccessUnit[]
  /** Each packet with its timestamp. */
  packets: Array<VectorPacket & { timestamp: number }>
}

const F6 = h('21 1b 94 a5 40 7c')
const F20 = frame(20)

export const aacRoundTrip: AacRoundTripVector[] = [
  {
    name: 'one AU per packet',
    units: [au(0, F6)],
    // AU-headers-length 16 bits | AU-size 6 << 3 (index 0) | frame
    packets: [{ marker: true, timestamp: 0, payload: Buffer.concat([h('0010 0030'), F6]) }],
  },
  {
    name: 'three consecutive AUs share a packet',
    units: [au(1000, frame(4, 1)), au(2024, frame(5, 2)), au(3048, frame(6, 3))],
    packets: [
      { marker: true, timestamp: 1000, payload: Buffer.concat([h('0030 0020 0028 0030'), frame(4, 1), frame(5, 2), frame(6, 3)]) },
    ],
  },
  {
    name: 'AU fragmented across packets',
    mtu: 12,
    units: [au(48000, F20)],
    packets: [
      // every fragment repeats the header with the whole AU size (20 << 3 = 0xa0)
      { marker: false, timestamp: 48000, payload: Buffer.concat([h('0010 00a0'), F20.subarray(0, 8)]) },
      { marker: false, timestamp: 48000, payload: Buffer.concat([h('0010 00a0'), F20.subarray(8, 16)]) },
      { marker: true, timestamp: 48000, payload: Buffer.concat([h('0010 00a0'), F20.subarray(16)]) },
    ],
  },
  {
    name: 'a timestamp gap starts a new packet',
    units: [au(0, frame(3, 1)), au(1024, frame(3, 2)), au(4096, frame(3, 3))],
    packets: [
      { marker: true, timestamp: 0, payload: Buffer.concat([h('0020 0018 0018'), frame(3, 1), frame(3, 2)]) },
      { marker: true, timestamp: 4096, payload: Buffer.concat([h('0010 0018'), frame(3, 3)]) },
    ],
  },
  {
    name: 'AUs beyond the MTU go to the next packet, timestamps wrap',
    mtu: 16,
    units: [au(0xfffffc00, frame(5, 1)), au(0, frame(5, 2)), au(1024, frame(5, 3))],
    packets: [
      { marker: true, timestamp: 0xfffffc00, payload: Buffer.concat([h('0020 0028 0028'), frame(5, 1), frame(5, 2)]) },
      { marker: true, timestamp: 1024, payload: Buffer.concat([h('0010 0028'), frame(5, 3)]) },
    ],
  },
]

export interface AacDecodeVector {
  name: string
  options: AacDepacketizerOptions
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
}

export const aacDecodeOnly: AacDecodeVector[] = [
  {
    name: 'AAC-lbr: 6-bit sizes and 2-bit indexes',
    options: LBR,
    packets: [{ marker: true, payload: h('0010 0c 08 aabbcc ddee') }],
    units: [au(0, h('aabbcc')), au(1024, h('ddee'))],
    dropped: 0,
  },
  {
    name: 'AU-Index-delta spaces the timestamps (interleaving)',
    options: HBR,
    packets: [{ marker: true, payload: h('0020 0010 0012 aabb ccdd') }],
    units: [au(0, h('aabb')), au(3072, h('ccdd'))],
    dropped: 0,
  },
  {
    name: 'constantDuration 960 steps the timestamps',
    options: { ...HBR, frameDuration: 960 },
    packets: [{ marker: true, payload: h('0020 0010 0010 aabb ccdd') }],
    units: [au(0, h('aabb')), au(960, h('ccdd'))],
    dropped: 0,
  },
  {
    name: 'padding after the AUs is ignored',
    options: HBR,
    packets: [{ marker: true, payload: h('0010 0010 aabb 000000') }],
    units: [au(0, h('aabb'))],
    dropped: 0,
  },
  {
    name: 'CTS/DTS deltas and RAP flag are skipped',
    options: { ...HBR, ctsDeltaLength: 4, dtsDeltaLength: 4, randomAccessIndication: true },
    // size 2 | index 0 | CTS-flag 0 | DTS-flag 1 | DTS-delta 5 | RAP 1 = 23 bits
    packets: [{ marker: true, payload: h('0017 001056 aabb') }],
    units: [au(0, h('aabb'))],
    dropped: 0,
  },
  {
    name: 'missing first fragment after loss',
    options: HBR,
    packets: [
      { marker: false, sequenceNumber: 2, payload: Buffer.concat([h('0010 00a0'), frame(8)]) },
      { marker: true, sequenceNumber: 3, payload: Buffer.concat([h('0010 00a0'), frame(4)]) },
      { marker: true, sequenceNumber: 4, timestamp: 1024, payload: h('0010 0010 aabb') },
    ],
    units: [au(1024, h('aabb'))],
    dropped: 1,
  },
  {
    name: 'missing middle fragment: sequence gap drops the AU once',
    options: HBR,
    packets: [
      { marker: false, sequenceNumber: 1, payload: Buffer.concat([h('0010 00a0'), frame(8)]) },
      { marker: false, sequenceNumber: 3, payload: Buffer.concat([h('0010 00a0'), frame(8)]) },
      { marker: true, sequenceNumber: 4, payload: Buffer.concat([h('0010 00a0'), frame(4)]) },
      { marker: true, sequenceNumber: 5, timestamp: 1024, payload: h('0010 0010 aabb') },
    ],
    units: [au(1024, h('aabb'))],
    dropped: 1,
  },
  {
    name: 'missing last fragment: the next AU drops the partial one',
    options: HBR,
    packets: [
      { marker: false, sequenceNumber: 1, payload: Buffer.concat([h('0010 00a0'), frame(8)]) },
      { marker: true, sequenceNumber: 3, timestamp: 2048, payload: h('0010 0010 aabb') },
    ],
    units: [au(2048, h('aabb'))],
    dropped: 1,
  },
  {
    name: 'truncated AU in a multi-AU packet',
    options: HBR,
    packets: [{ marker: true, payload: h('0020 0018 0028 aabbcc ddee') }],
    units: [au(0, h('aabbcc'))],
    dropped: 1,
  },
  {
    name: 'AU headers longer than the packet',
    options: HBR,
    packets: [{ marker: true, payload: h('0020 0010') }, { marker: true, payload: h('00') }, { marker: true, payload: h('0000 aabb') }],
    units: [],
    dropped: 3,
  },
  {
    name: 'AU larger than the limit is dropped',
    options: { ...HBR, maxAccessUnitSize: 10 },
    packets: [
      { marker: false, payload: Buffer.concat([h('0010 00a0'), frame(8)]) },
      { marker: true, payload: Buffer.concat([h('0010 00a0'), frame(12)]) },
    ],
    units: [],
    dropped: 1,
  },
  {
    name: 'no AU header section: the marker ends the AU',
    options: { sizeLength: 0, indexLength: 0, indexDeltaLength: 0 },
    packets: [
      { marker: false, payload: h('aabb') },
      { marker: true, payload: h('ccdd') },
      { marker: true, timestamp: 1024, payload: h('eeff') },
    ],
    units: [au(0, h('aabbccdd')), au(1024, h('eeff'))],
    dropped: 0,
  },
]
