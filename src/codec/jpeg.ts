/**
 * Baseline JPEG (ITU-T T.81) pieces that RTP/JPEG (RFC 2435) needs: the Annex K tables, the
 * RFC's Q-factor table scaling, a header writer for rebuilt frames and a marker walker for
 * frames we send.
 */
import { MediaError, UnsupportedError } from '../errors.js'

/** ZIGZAG[i]: the natural (row-major) index of the i-th coefficient in zigzag order (T.81 Figure A.6). */
export const ZIGZAG: readonly number[] = (() => {
  const out: number[] = []
  for (let s = 0; s < 15; s++) {
    // Odd diagonals run top-right to bottom-left, even ones the other way.
    for (let k = 0; k <= s; k++) {
      const row = s % 2 === 1 ? k : s - k
      const col = s - row
      if (row < 8 && col < 8) out.push(row * 8 + col)
    }
  }
  return out
})()

// T.81 Table K.1 (luminance) and K.2 (chrominance), natural order.
const LUMA_K1 = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]
const CHROMA_K2 = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array<number>(32).fill(99),
]

/**
 * The two 8-bit quantization tables (luma, chroma; zigzag order, as DQT stores them) for an
 * RFC 2435 Q factor 1–99 (§4.2 and Appendix A: the IJG scaling of Tables K.1/K.2).
 */
export function rfc2435QuantTables(q: number): Buffer {
  const factor = Math.min(Math.max(q, 1), 99)
  const scale = factor < 50 ? Math.floor(5000 / factor) : 200 - factor * 2
  const out = Buffer.allocUnsafe(128)
  for (let i = 0; i < 64; i++) {
    const n = ZIGZAG[i]!
    out[i] = Math.min(Math.max(Math.floor((LUMA_K1[n]! * scale + 50) / 100), 1), 255)
    out[64 + i] = Math.min(Math.max(Math.floor((CHROMA_K2[n]! * scale + 50) / 100), 1), 255)
  }
  return out
}

// T.81 Annex K.3 Huffman tables as DHT contents: class/id byte, 16 code counts, values.
const DHT_SEGMENTS = [
  '00' + '00010501010101010100000000000000' + '000102030405060708090a0b',
  '10' + '0002010303020403050504040000017d' +
    '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
  '01' + '00030101010101010101010000000000' + '000102030405060708090a0b',
  '11' + '00020102040403040705040400010277' +
    '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
].map((hex) => Buffer.from(hex, 'hex'))

/** One DHT marker segment holding the four standard tables (RFC 2435 requires them). */
const STANDARD_DHT: Buffer = (() => {
  const body = Buffer.concat(DHT_SEGMENTS)
  const seg = Buffer.allocUnsafe(4 + body.length)
  seg.writeUInt16BE(0xffc4, 0)
  seg.writeUInt16BE(2 + body.length, 2)
  body.copy(seg, 4)
  return seg
})()

/** Is this DHT table (class/id byte, counts, values) one of the four standard ones? */
function isStandardHuffmanTable(table: Buffer): boolean {
  return DHT_SEGMENTS.some((s) => s.equals(table))
}

export interface JpegHeaderInit {
  /** RFC 2435 type: 0 (4:2:2) or 1 (4:2:0); restart markers are given by restartInterval. */
  type: 0 | 1
  width: number
  height: number
  /** Quantization tables in order (table 0 for luma, table 1, or else 0, for chroma), zigzag order. */
  tables: readonly Buffer[]
  /** DRI restart interval in MCUs; 0 for none. */
  restartInterval?: number
}

/** SOI … SOS of a baseline JFIF-compatible frame as RFC 2435 Appendix B rebuilds it. */
export function buildJpegHeader(h: JpegHeaderInit): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])]
  h.tables.forEach((t, id) => {
    // DQT: Pq = 1 for 16-bit entries (128 bytes), Tq = table id.
    const seg = Buffer.allocUnsafe(5 + t.length)
    seg.writeUInt16BE(0xffdb, 0)
    seg.writeUInt16BE(3 + t.length, 2)
    seg[4] = (t.length === 128 ? 0x10 : 0) | id
    t.copy(seg, 5)
    parts.push(seg)
  })
  const ri = h.restartInterval ?? 0
  if (ri > 0) {
    const dri = Buffer.allocUnsafe(6)
    dri.writeUInt16BE(0xffdd, 0)
    dri.writeUInt16BE(4, 2)
    dri.writeUInt16BE(ri, 4)
    parts.push(dri)
  }
  const chromaTable = h.tables.length > 1 ? 1 : 0
  const sof = Buffer.from([
    0xff, 0xc0, 0, 17, 8, // SOF0, length, 8-bit precision
    h.height >> 8, h.height & 0xff, h.width >> 8, h.width & 0xff,
    3, // components
    1, h.type === 0 ? 0x21 : 0x22, 0, // Y: 2x1 (4:2:2) or 2x2 (4:2:0), table 0
    2, 0x11, chromaTable, // Cb
    3, 0x11, chromaTable, // Cr
  ])
  parts.push(sof, STANDARD_DHT)
  // SOS: 3 components, Y with DC/AC tables 0/0, chroma 1/1, full spectral range.
  parts.push(Buffer.from([0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]))
  return Buffer.concat(parts)
}

export const JPEG_EOI = Buffer.from([0xff, 0xd9])

export interface ParsedJpeg {
  /** RFC 2435 type without the restart bit: 0 (4:2:2) or 1 (4:2:0). */
  type: 0 | 1
  width: number
  height: number
  /** Luma, then chroma quantization table (zigzag order; 64 bytes, or 128 for 16-bit tables). */
  tables: [Buffer, Buffer]
  restartInterval: number
  /** Entropy-coded data between SOS and EOI (a view). */
  scan: Buffer
}

/**
 * Walk a baseline JPEG's markers for RTP/JPEG: 3 components with 4:2:2 or 4:2:0 sampling, the
 * standard Huffman tables. Throws UnsupportedError for what RFC 2435 cannot carry and
 * MediaError for a broken file.
 */
export function parseJpeg(buf: Buffer): ParsedJpeg {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new MediaError('not a JPEG: no SOI marker')
  const tables = new Map<number, Buffer>()
  let sof: { width: number; height: number; type: 0 | 1; lumaTable: number; chromaTable: number } | undefined
  let restartInterval = 0
  let off = 2
  for (;;) {
    // Fill bytes (0xff) may precede a marker (T.81 §B.1.1.2).
    while (off < buf.length && buf[off] === 0xff && buf[off + 1] === 0xff) off++
    if (off + 4 > buf.length || buf[off] !== 0xff) throw new MediaError(`broken JPEG: no marker at byte ${off}`)
    const marker = buf[off + 1]!
    const len = buf.readUInt16BE(off + 2)
    const seg = buf.subarray(off + 4, off + 2 + len)
    if (len < 2 || seg.length !== len - 2) throw new MediaError(`broken JPEG: segment ${marker.toString(16)} runs past the end`)
    off += 2 + len
    if (marker === 0xdb) {
      for (let o = 0; o < seg.length; ) {
        const size = seg[o]! >> 4 ? 128 : 64
        if (o + 1 + size > seg.length) throw new MediaError('broken JPEG: truncated DQT')
        tables.set(seg[o]! & 0x0f, seg.subarray(o + 1, o + 1 + size))
        o += 1 + size
      }
    } else if (marker === 0xc4) {
      for (let o = 0; o < seg.length; ) {
        let n = 0
        for (let i = 1; i <= 16; i++) n += seg[o + i] ?? 0
        const table = seg.subarray(o, o + 17 + n)
        if (!isStandardHuffmanTable(table)) throw new UnsupportedError('RTP/JPEG (RFC 2435) carries only the standard Huffman tables; encode without optimized tables')
        o += 17 + n
      }
    } else if (marker === 0xdd) {
      if (seg.length < 2) throw new MediaError('broken JPEG: short DRI')
      restartInterval = seg.readUInt16BE(0)
    } else if (marker === 0xc0 || marker === 0xc1) {
      sof = parseSof(seg)
    } else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      throw new UnsupportedError('RTP/JPEG (RFC 2435) carries only baseline sequential JPEG, not progressive, lossless or arithmetic-coded')
    } else if (marker === 0xda) {
      if (!sof) throw new MediaError('broken JPEG: SOS before SOF')
      const eoi = buf.indexOf(JPEG_EOI, off)
      const luma = tables.get(sof.lumaTable)
      const chroma = tables.get(sof.chromaTable)
      if (!luma || !chroma) throw new MediaError('broken JPEG: a quantization table the frame uses is missing')
      return {
        type: sof.type,
        width: sof.width,
        height: sof.height,
        tables: [luma, chroma],
        restartInterval,
        scan: buf.subarray(off, eoi === -1 ? buf.length : eoi),
      }
    }
  }
}

function parseSof(seg: Buffer): { width: number; height: number; type: 0 | 1; lumaTable: number; chromaTable: number } {
  if (seg.length < 6) throw new MediaError('broken JPEG: short SOF')
  const height = seg.readUInt16BE(1)
  const width = seg.readUInt16BE(3)
  const n = seg[5]!
  if (seg[0] !== 8 || n !== 3 || seg.length < 6 + 9) {
    throw new UnsupportedError('RTP/JPEG (RFC 2435) carries 8-bit YCbCr JPEG with 3 components only')
  }
  const [y, cb, cr] = [0, 1, 2].map((i) => ({ sampling: seg[7 + 3 * i]!, table: seg[8 + 3 * i]! }))
  if (cb!.sampling !== 0x11 || cr!.sampling !== 0x11 || cb!.table !== cr!.table || (y!.sampling !== 0x21 && y!.sampling !== 0x22)) {
    throw new UnsupportedError('RTP/JPEG (RFC 2435) carries 4:2:2 or 4:2:0 chroma subsampling only')
  }
  if (width === 0 || height === 0 || width > 2040 || height > 2040) {
    throw new UnsupportedError(`RTP/JPEG (RFC 2435) carries pictures up to 2040x2040, not ${width}x${height}`)
  }
  return { width, height, type: y!.sampling === 0x21 ? 0 : 1, lumaTable: y!.table, chromaTable: cb!.table }
}

/** Width and height from the SOF of a JPEG frame, or undefined when none is found. */
export function jpegSize(buf: Buffer): { width: number; height: number } | undefined {
  let off = 2
  while (off + 9 <= buf.length && buf[off] === 0xff) {
    const marker = buf[off + 1]!
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: buf.readUInt16BE(off + 5), width: buf.readUInt16BE(off + 7) }
    }
    if (marker === 0xda) return undefined
    off += 2 + buf.readUInt16BE(off + 2)
  }
  return undefined
}
