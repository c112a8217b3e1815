/**
 * Opus RTP vectors (RFC 7587): one Opus packet per RTP packet, both ways. Decode-only vectors
 * cover empty and oversize payloads.
 */
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

const au = (rtpTimestamp: number, data: Buffer): AccessUnit => ({ rtpTimestamp, keyFrame: true, data: [data] })

export interface OpusRoundTripVector {
  name: string
  units: AccessUnit[]
  packets: Array<VectorPacket & { timestamp: number }>
}

/** TOC 0xfc: CELT FB 20 ms, code 0; a tiny silence frame. */
const SILENCE = h('fc ff fe')
/** TOC 0x79 (SILK WB 20 ms, code 1: two frames), some bytes. */
const TWO_FRAMES = h('79 0102030405060708')

export const opusRoundTrip: OpusRoundTripVector[] = [
  {
    name: 'one packet per Opus packet, 20 ms apart at 48 kHz',
    units: [au(0, SILENCE), au(960, SILENCE), au(1920, TWO_FRAMES)],
    packets: [
      { marker: false, timestamp: 0, payload: SILENCE },
      { marker: false, timestamp: 960, payload: SILENCE },
      { marker: false, timestamp: 1920, payload: TWO_FRAMES },
    ],
  },
  {
    name: 'timestamps wrap at 2^32',
    units: [au(0xfffffc40, SILENCE), au(0, SILENCE)],
    packets: [
      { marker: false, timestamp: 0xfffffc40, payload: SILENCE },
      { marker: false, timestamp: 0, payload: SILENCE },
    ],
  },
]

export interface OpusDecodeVector {
  name: string
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
}

export const opusDecodeOnly: OpusDecodeVector[] = [
  {
    name: 'empty payload (DTX from some senders) is dropped and counted',
    packets: [{ marker: false, payload: h('') }, { marker: true, timestamp: 960, payload: SILENCE }],
    units: [au(960, SILENCE)],
    dropped: 1,
  },
  {
    name: 'payload over the size limit is dropped',
    packets: [{ marker: false, payload: Buffer.alloc(20_000, 0xfc) }],
    units: [],
    dropped: 1,
  },
]
