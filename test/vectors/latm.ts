/**
 * MP4A-LATM RTP vectors (RFC 6416, cpresent=0). Round-trip vectors (one subframe per
 * AudioMuxElement, what the packetizer writes) are checked both ways; decode-only vectors
 * cover subframes, several elements per packet, loss, and malformed lengths.
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
