/**
 * RTP/JPEG vectors (RFC 2435). A round-trip vector holds a JPEG as the depacketizer rebuilds
 * it (SOI, DQT, [DRI], SOF0, DHT, SOS, scan, EOI) and its packets: the packetizer must turn
 * the JPEG into exactly those packets (Q = 255, tables in-band) and the depacketizer the
 * packets back into exactly that JPEG. The JPEG is assembled here from the T.81 tables,
 * independently of src/codec/jpeg.ts. Decode-only vectors cover what senders do.
 */
import type { AccessUnit } from '../../src/formats/types.js'
import { h, type VectorPacket } from './rtp.js'

/** libjpeg (GStreamer jpegenc) quality 85 and 30 DQT tables, zigzag order: the IJG scaling RFC 2435 §4.2 uses. */
export const LIBJPEG_Q85 = {
  luma: h('0503040404030504040405050506070c08070707070f0b0b090c110f1212110f111113161c1713141a1511111821181a1d1d1f1f1f13172224221e241c1e1f1e'),
  chroma: h('0505050706070e08080e1e1411141e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e'),
}
export const LIBJPEG_Q30 = {
  luma: h('1b12141714111b1716171e1c1b2028422b28252528513a3d3042605565645f555d5b6a7899816a7190735b5d85b586909ea3abadab6780bcc9baa6c799a8aba4'),
  chroma: h('1c1e1e2823284e2b2b4ea46e5d6ea4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4a4'),
}

// T.81 Annex K.3 Huffman tables (class/id, counts, values), as libjpeg writes them.
const DHT = h(
  'ffc401a2' +
    '00' + '00010501010101010100000000000000' + '000102030405060708090a0b' +
    '10' + '0002010303020403050504040000017d' +
    '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa' +
    '01' + '00030101010101010101010000000000' + '000102030405060708090a0b' +
    '11' + '00020102040403040705040400010277' +
    '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
)

/** A rebuilt JPEG: 4:2:2 (type 0) or 4:2:0 (type 1), tables (zigzag; 128 bytes = 16-bit), optional DRI. */
export function jfif(o: { type: 0 | 1; width: number; height: number; luma: Buffer; chroma: Buffer; dri?: number; scan: Buffer }): Buffer {
  const dqt = (t: Buffer, id: number) => {
    const len = Buffer.alloc(2)
    len.writeUInt16BE(3 + t.length)
    return Buffer.concat([h('ffdb'), len, Buffer.from([(t.length === 128 ? 0x10 : 0) | id]), t])
  }
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff])
  return Buffer.concat([
    h('ffd8'),
    dqt(o.luma, 0),
    dqt(o.chroma, 1),
    o.dri ? Buffer.concat([h('ffdd 0004'), u16(o.dri)]) : Buffer.alloc(0),
    h('ffc0 0011 08'), u16(o.height), u16(o.width), h('03'), Buffer.from([1, o.type === 0 ? 0x21 : 0x22, 0]), h('021101 031101'),
    DHT,
    h('ffda 000c 03 0100 0211 0311 003f00'),
    o.scan,
    h('ffd9'),
  ])
}

/** RTP/JPEG main header: type-specific 0, 24-bit fragment offset, type, Q, width/8, height/8. */
export function mainHeader(offset: number, type: number, q: number, width: number, height: number): Buffer {
  return Buffer.from([0, offset >> 16, (offset >> 8) & 0xff, offset & 0xff, type, q, width / 8, height / 8])
}

/** Quantization table header (§3.1.8) and the tables. */
export function qHeader(precision: number, ...tables: Buffer[]): Buffer {
  const len = tables.reduce((n, t) => n + t.length, 0)
  return Buffer.concat([Buffer.from([0, precision, len >> 8, len & 0xff]), ...tables])
}

const SCAN_A = h('f9 fe 8a 28 a0 0f ff 00 12 34')
const SCAN_B = Buffer.from(Array.from({ length: 700 }, (_, i) => (i * 13 + 7) % 255))
const Q16 = Buffer.from(Array.from({ length: 128 }, (_, i) => (i % 2 === 0 ? 0 : (i % 97) + 1)))

export interface MjpegRoundTripVector {
  name: string
  mtu?: number
  rtpTimestamp: number
  jpeg: Buffer
  packets: VectorPacket[]
}

export const mjpegRoundTrip: MjpegRoundTripVector[] = [
  {
    name: '4:2:0 frame in one packet, tables in-band (Q 255)',
    rtpTimestamp: 3000,
    jpeg: jfif({ type: 1, width: 64, height: 48, ...LIBJPEG_Q85, scan: SCAN_A }),
    packets: [{ marker: true, payload: Buffer.concat([mainHeader(0, 1, 255, 64, 48), qHeader(0, LIBJPEG_Q85.luma, LIBJPEG_Q85.chroma), SCAN_A]) }],
  },
  {
    name: '4:2:2 frame with restart markers (type 64) cut at the MTU',
    mtu: 400,
    rtpTimestamp: 0xffffff00,
    jpeg: jfif({ type: 0, width: 320, height: 240, ...LIBJPEG_Q30, dri: 20, scan: SCAN_B }),
    packets: [
      // 400 - 8 - 4 (restart) - 4 - 128 (tables) = 256 bytes of scan in the first packet, 388 after.
      { marker: false, payload: Buffer.concat([mainHeader(0, 64, 255, 320, 240), h('0014 ffff'), qHeader(0, LIBJPEG_Q30.luma, LIBJPEG_Q30.chroma), SCAN_B.subarray(0, 256)]) },
      { marker: false, payload: Buffer.concat([mainHeader(256, 64, 255, 320, 240), h('0014 ffff'), SCAN_B.subarray(256, 644)]) },
      { marker: true, payload: Buffer.concat([mainHeader(644, 64, 255, 320, 240), h('0014 ffff'), SCAN_B.subarray(644)]) },
    ],
  },
  {
    name: '16-bit luma table (precision bit 0)',
    rtpTimestamp: 1,
    jpeg: jfif({ type: 1, width: 16, height: 16, luma: Q16, chroma: LIBJPEG_Q85.chroma, scan: SCAN_A }),
    packets: [{ marker: true, payload: Buffer.concat([mainHeader(0, 1, 255, 16, 16), qHeader(1, Q16, LIBJPEG_Q85.chroma), SCAN_A]) }],
  },
]

export interface MjpegDecodeVector {
  name: string
  packets: VectorPacket[]
  units: AccessUnit[]
  dropped: number
}

const frame = (ts: number, jpeg: Buffer): AccessUnit => ({ rtpTimestamp: ts, keyFrame: true, data: [jpeg] })
const MAIN_Q85_64x48 = mainHeader(0, 1, 255, 64, 48)
const TABLES_Q85 = qHeader(0, LIBJPEG_Q85.luma, LIBJPEG_Q85.chroma)
const JPEG_A = jfif({ type: 1, width: 64, height: 48, ...LIBJPEG_Q85, scan: SCAN_A })

export const mjpegDecodeOnly: MjpegDecodeVector[] = [
  {
    name: 'Q 85 without in-band tables: the RFC 2435 scaled standard tables (same as libjpeg quality 85)',
    packets: [{ marker: true, payload: Buffer.concat([mainHeader(0, 1, 85, 64, 48), SCAN_A]) }],
    units: [frame(0, JPEG_A)],
    dropped: 0,
  },
  {
    name: 'Q 30, 4:2:2, standard tables',
    packets: [{ marker: true, payload: Buffer.concat([mainHeader(0, 0, 30, 64, 48), SCAN_A]) }],
    units: [frame(0, jfif({ type: 0, width: 64, height: 48, ...LIBJPEG_Q30, scan: SCAN_A }))],
    dropped: 0,
  },
  {
    name: 'Q 128–254: tables sent once, then referred to with length 0',
    packets: [
      { marker: true, timestamp: 0, payload: Buffer.concat([mainHeader(0, 1, 200, 64, 48), TABLES_Q85, SCAN_A]) },
      { marker: true, timestamp: 3000, payload: Buffer.concat([mainHeader(0, 1, 200, 64, 48), qHeader(0), SCAN_A]) },
    ],
    units: [frame(0, JPEG_A), frame(3000, JPEG_A)],
    dropped: 0,
  },
  {
    name: 'Q 128–254 with length 0 before any tables were sent: dropped',
    packets: [{ marker: true, payload: Buffer.concat([mainHeader(0, 1, 200, 64, 48), qHeader(0), SCAN_A]) }],
    units: [],
    dropped: 1,
  },
  {
    name: 'missing middle fragment: offset gap drops the frame once',
    packets: [
      { marker: false, timestamp: 0, payload: Buffer.concat([MAIN_Q85_64x48, TABLES_Q85, h('01 02 03 04')]) },
      { marker: false, timestamp: 0, payload: Buffer.concat([mainHeader(8, 1, 255, 64, 48), h('09 0a')]) },
      { marker: true, timestamp: 0, payload: Buffer.concat([mainHeader(10, 1, 255, 64, 48), h('0b')]) },
      { marker: true, timestamp: 3000, payload: Buffer.concat([MAIN_Q85_64x48, TABLES_Q85, SCAN_A]) },
    ],
    units: [frame(3000, JPEG_A)],
    dropped: 1,
  },
  {
    name: 'missing first fragment: the rest of the frame is dropped',
    packets: [
      { marker: false, timestamp: 0, payload: Buffer.concat([mainHeader(4, 1, 255, 64, 48), h('05 06')]) },
      { marker: true, timestamp: 0, payload: Buffer.concat([mainHeader(6, 1, 255, 64, 48), h('07')]) },
    ],
    units: [],
    dropped: 1,
  },
  {
    name: 'lost marker packet: a new timestamp drops the partial frame',
    packets: [
      { marker: false, timestamp: 0, payload: Buffer.concat([MAIN_Q85_64x48, TABLES_Q85, h('01 02')]) },
      { marker: true, timestamp: 3000, payload: Buffer.concat([MAIN_Q85_64x48, TABLES_Q85, SCAN_A]) },
    ],
    units: [frame(3000, JPEG_A)],
    dropped: 1,
  },
  {
    name: 'sender that leaves the EOI in the scan data: not doubled',
    packets: [{ marker: true, payload: Buffer.concat([MAIN_Q85_64x48, TABLES_Q85, SCAN_A, h('ff d9')]) }],
    units: [frame(0, JPEG_A)],
    dropped: 0,
  },
  {
    name: 'reserved type 2, Q 0, zero width and short packets are dropped',
    packets: [
      { marker: true, timestamp: 0, payload: Buffer.concat([mainHeader(0, 2, 255, 64, 48), TABLES_Q85, SCAN_A]) },
      { marker: true, timestamp: 1, payload: Buffer.concat([mainHeader(0, 1, 0, 64, 48), SCAN_A]) },
      { marker: true, timestamp: 2, payload: Buffer.concat([mainHeader(0, 1, 50, 0, 48), SCAN_A]) },
      { marker: true, timestamp: 3, payload: h('00 00 00 00 01 ff') },
      { marker: true, timestamp: 4, payload: Buffer.concat([mainHeader(0, 65, 50, 64, 48), h('00')]) },
    ],
    units: [],
    dropped: 5,
  },
]
