/**
 * G.711 RTP vectors (RFC 3551 §4.5.14). Round-trip vectors are checked both ways: the
 * packetizer cuts a run of samples into these packets, the depacketizer gives each packet back
 * as one unit. Decode-only vectors cover what a peer may send that we never do.
 */
import type { AccessUnit } from '../../src/formats/types.js'
import type { G711PacketizerOptions } from '../../src/formats/g711/packetizer.js'
import { h, type VectorPacket } from './rtp.js'

/** `n` bytes of samples. */
export function samples(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff
  return b
}

const au = (rtpTimestamp: number, data: Buffer): AccessUnit => ({ rtpTimestamp, keyFrame: true, data: [data] })

export interface G711RoundTripVector {
  name: string
  options: Omit<G711PacketizerOptions, 'payloadType' | 'ssrc'>
  /** What the packetizer is given. */
  input: AccessUnit[]
  packets: Array<VectorPacket & { timestamp: number }>
}

const S400 = samples(400)
const S8 = samples(8)

export const g711RoundTrip: G711RoundTripVector[] = [
  {
    name: '20 ms at 8 kHz mono is 160 bytes per packet',
    options: {},
    input: [au(1000, samples(160))],
    packets: [{ marker: false, timestamp: 1000, payload: samples(160) }],
  },
  {
    name: 'a long run is cut into 20 ms packets, the timestamp advancing per sample',
    options: {},
    input: [au(0, S400)],
    packets: [
      { marker: false, timestamp: 0, payload: S400.subarray(0, 160) },
      { marker: false, timestamp: 160, payload: S400.subarray(160, 320) },
      { marker: false, timestamp: 320, payload: S400.subarray(320) },
    ],
  },
  {
    name: 'PCMA/16000/2: 20 ms is 320 frames of 2 bytes; timestamps count frames',
    options: { sampleRate: 16000, channels: 2, mtu: 800 },
    input: [au(0xfffffff0, samples(1000))],
    packets: [
      { marker: false, timestamp: 0xfffffff0, payload: samples(1000).subarray(0, 640) },
      // 640 bytes = 320 frames later, across the 32-bit wrap
      { marker: false, timestamp: 0x130, payload: samples(1000).subarray(640) },
    ],
  },
  {
    name: 'the MTU wins over the packet duration, on whole frames',
    options: { channels: 2, mtu: 5 },
    input: [au(0, S8)],
    packets: [
      { marker: false, timestamp: 0, payload: S8.subarray(0, 4) },
      { marker: false, timestamp: 2, payload: S8.subarray(4) },
    ],
  },
]

export interface G711DecodeVector {
  name: string
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
}

export const g711DecodeOnly: G711DecodeVector[] = [
  {
    name: 'empty payload is dropped and counted',
    packets: [{ marker: false, payload: h('') }, { marker: false, timestamp: 160, payload: h('d5d5') }],
    units: [au(160, h('d5d5'))],
    dropped: 1,
  },
  {
    name: 'marker bit (start of a talkspurt) changes nothing',
    packets: [{ marker: true, payload: h('ffff7f') }],
    units: [au(0, h('ffff7f'))],
    dropped: 0,
  },
  {
    name: 'odd-sized packets (cameras sending 10.5 ms) pass through as they are',
    packets: [{ marker: false, payload: samples(84) }],
    units: [au(0, samples(84))],
    dropped: 0,
  },
]
