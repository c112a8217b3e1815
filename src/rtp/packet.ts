import { randomBytes } from 'node:crypto'
import { InvalidArgumentError } from '../errors.js'
import type { RtpPacket } from './packet-types.js'

/**
 * RTP fixed header (RFC 3550 §5.1):
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                           timestamp                           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |           synchronization source (SSRC) identifier            |
 *  +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 *  |            contributing source (CSRC) identifiers  (CC × 32)  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | ext profile (16)              | ext length in words (16)      |  if X
 *  | extension data ...                                            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  | payload ...                   | padding ...   | pad count (8) |  if P
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
export const RTP_HEADER_LENGTH = 12

/** A parsed packet with the header details beyond the shared contract. */
export interface RtpPacketView extends RtpPacket {
  /** Number of CSRC identifiers (they stay in the buffer; see `readCsrc`). */
  csrcCount: number
  /** Header extension profile (RFC 3550 §5.3.1), 0 when the X bit was clear. */
  extensionProfile: number
  /** Header extension data (a view), when the X bit was set. */
  extension: Buffer | undefined
  /** Padding octets removed from the end, including the count octet. */
  paddingLength: number
}

/** A packet object that `parseRtpPacketInto` refills for every datagram. */
export type MutableRtpPacket = RtpPacketView

const EMPTY = Buffer.alloc(0)

/**
 * A Buffer view made without Buffer#subarray. Node 20's subarray reads `this.buffer`, a
 * C++ accessor call (JSTypedArray::GetBuffer) that TurboFan does not inline: once per RTP
 * packet it was ~7 % of a pull's steady main thread (bench/ingest.ts perf profile, issue 14).
 * The ArrayBuffer and offset of the last buffer parsed are kept instead: TCP interleaved
 * packets all come from one read buffer.
 */
let lastSource: Buffer = EMPTY
let lastArrayBuffer: ArrayBufferLike = EMPTY.buffer
let lastByteOffset = EMPTY.byteOffset

type ViewConstructor = new (arrayBuffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer

/**
 * Node's own Buffer class (internal FastBuffer, what Buffer.from and subarray construct),
 * which Node exposes as `Buffer[Symbol.species]`. Constructing it directly skips
 * Buffer.from's checks (a C++ isAnyArrayBuffer call and argument coercion) made once per RTP
 * packet (bench/ingest.ts profile, issue 14). Undefined if a runtime does not expose it that
 * way: Buffer.from then.
 */
const FAST_BUFFER: ViewConstructor | undefined = (() => {
  const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species]
  return typeof species === 'function' && species !== Buffer && species.prototype === Buffer.prototype ? (species as ViewConstructor) : undefined
})()

/** `Buffer.from(arrayBuffer, byteOffset, length)`, in bounds (checked by the caller). */
export function bufferView(arrayBuffer: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return FAST_BUFFER !== undefined ? new FAST_BUFFER(arrayBuffer, byteOffset, length) : Buffer.from(arrayBuffer, byteOffset, length)
}

/** `buf.subarray(start, end)` for 0 <= start <= end <= buf.length (checked by the caller). */
export function viewOf(buf: Buffer, start: number, end: number): Buffer {
  if (buf !== lastSource) {
    lastSource = buf
    lastArrayBuffer = buf.buffer
    lastByteOffset = buf.byteOffset
  }
  return bufferView(lastArrayBuffer, lastByteOffset + start, end - start)
}

/** A blank packet to pass to `parseRtpPacketInto` (allocate once per track). */
export function createRtpPacket(): MutableRtpPacket {
  // Every field present from the start so the object keeps one shape (one hidden class).
  return {
    marker: false,
    payloadType: 0,
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 0,
    payload: EMPTY,
    csrcCount: 0,
    extensionProfile: 0,
    extension: undefined,
    paddingLength: 0,
  }
}

/**
 * Parse `buf` as one RTP packet into `target`. Returns false, leaving `target` in an
 * unspecified state, when the bytes are not a valid packet; never throws.
 */
export function parseRtpPacketInto(buf: Buffer, target: MutableRtpPacket): boolean {
  return parseRtpPacketAt(buf, 0, buf.length, target)
}

/**
 * `parseRtpPacketInto` for the packet at `buf[start, stop)`: no view of the packet is made
 * (TCP interleaved frames arrive as ranges of a read buffer), only of its payload.
 */
export function parseRtpPacketAt(buf: Buffer, start: number, stop: number, target: MutableRtpPacket): boolean {
  if (stop - start < RTP_HEADER_LENGTH) return false
  const b0 = buf[start]!
  if ((b0 & 0xc0) !== 0x80) return false // version must be 2
  const b1 = buf[start + 1]!
  const csrcCount = b0 & 0x0f
  let offset = start + RTP_HEADER_LENGTH + (csrcCount << 2)
  if (offset > stop) return false
  let extensionProfile = 0
  let extension: Buffer | undefined
  if ((b0 & 0x10) !== 0) {
    // §5.3.1: 16-bit profile, 16-bit length counting 32-bit words after this word.
    if (offset + 4 > stop) return false
    extensionProfile = (buf[offset]! << 8) | buf[offset + 1]!
    const extEnd = offset + 4 + (((buf[offset + 2]! << 8) | buf[offset + 3]!) << 2)
    if (extEnd > stop) return false
    extension = buf.subarray(offset + 4, extEnd)
    offset = extEnd
  }
  let end = stop
  let paddingLength = 0
  if ((b0 & 0x20) !== 0) {
    // §5.1: the last octet counts the padding, itself included. A count of 0 is invalid
    // per the RFC; it is read as "no padding" rather than dropping the packet.
    paddingLength = buf[stop - 1]!
    end -= paddingLength
    if (end < offset) return false
  }
  target.marker = (b1 & 0x80) !== 0
  target.payloadType = b1 & 0x7f
  target.sequenceNumber = (buf[start + 2]! << 8) | buf[start + 3]!
  // `* 0x1000000` rather than `<< 24` keeps the 32-bit values unsigned.
  target.timestamp = buf[start + 4]! * 0x1000000 + ((buf[start + 5]! << 16) | (buf[start + 6]! << 8) | buf[start + 7]!)
  target.ssrc = buf[start + 8]! * 0x1000000 + ((buf[start + 9]! << 16) | (buf[start + 10]! << 8) | buf[start + 11]!)
  target.payload = viewOf(buf, offset, end)
  target.csrcCount = csrcCount
  target.extensionProfile = extensionProfile
  target.extension = extension
  target.paddingLength = paddingLength
  return true
}

/**
 * Parse one RTP packet (RFC 3550 §5.1) as a view over `buf`: the payload is a
 * `subarray`, never a copy. Returns undefined for anything malformed; never throws.
 */
export function parseRtpPacket(buf: Buffer): RtpPacketView | undefined {
  const packet = createRtpPacket()
  return parseRtpPacketInto(buf, packet) ? packet : undefined
}

/** The `index`-th CSRC of a packet whose header starts at `buf[0]` (caller checks csrcCount). */
export function readCsrc(buf: Buffer, index: number): number {
  return buf.readUInt32BE(RTP_HEADER_LENGTH + index * 4)
}

export interface RtpHeaderFields {
  marker?: boolean
  /** 0..127 */
  payloadType: number
  /** Taken modulo 2^16, so a packetizer may count past 65535. */
  sequenceNumber: number
  /** Taken modulo 2^32, so a packetizer may pass an unwrapped timestamp. */
  timestamp: number
  /** 0..2^32-1 */
  ssrc: number
  /** Contributing sources, at most 15. */
  csrcs?: readonly number[]
  /** Header extension (RFC 3550 §5.3.1); `data` is padded with zeros to 32 bits. */
  extension?: { profile: number; data: Uint8Array }
}

/** Bytes `writeRtpHeader` writes for these fields. */
export function rtpHeaderLength(fields: RtpHeaderFields): number {
  let n = RTP_HEADER_LENGTH + (fields.csrcs?.length ?? 0) * 4
  if (fields.extension) n += 4 + ((fields.extension.data.length + 3) & ~3)
  return n
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new InvalidArgumentError(`RTP ${name} ${value} is out of range; expected an integer in 0..${max}`)
  }
}

/**
 * The 12-byte fixed RTP header (RFC 3550 §5.1) at `b[at]`: version 2, no padding, no
 * extension, no CSRCs (`first` sets the X bit and CSRC count for writeRtpHeader). Fields
 * are not checked: this is the packetizers' per-packet path, their values are their own.
 */
export function writeFixedRtpHeader(b: Uint8Array, at: number, marker: boolean, payloadType: number, seq: number, timestamp: number, ssrc: number, first = 0x80): void {
  const ts = timestamp >>> 0
  b[at] = first
  b[at + 1] = (marker ? 0x80 : 0) | payloadType
  b[at + 2] = (seq >>> 8) & 0xff
  b[at + 3] = seq & 0xff
  b[at + 4] = ts >>> 24
  b[at + 5] = (ts >>> 16) & 0xff
  b[at + 6] = (ts >>> 8) & 0xff
  b[at + 7] = ts & 0xff
  b[at + 8] = ssrc >>> 24
  b[at + 9] = (ssrc >>> 16) & 0xff
  b[at + 10] = (ssrc >>> 8) & 0xff
  b[at + 11] = ssrc & 0xff
}

/**
 * Write an RTP header (fixed part, CSRCs, extension) at `target[offset]`, padding bit
 * clear. Returns the offset just past the header, where the payload goes.
 */
export function writeRtpHeader(target: Buffer, offset: number, fields: RtpHeaderFields): number {
  const csrcs = fields.csrcs
  const ext = fields.extension
  const csrcCount = csrcs?.length ?? 0
  checkUint('payload type', fields.payloadType, 0x7f)
  checkUint('SSRC', fields.ssrc, 0xffffffff)
  if (!Number.isInteger(fields.sequenceNumber) || !Number.isInteger(fields.timestamp)) {
    throw new InvalidArgumentError(`RTP sequence number and timestamp must be integers, got ${fields.sequenceNumber} and ${fields.timestamp}`)
  }
  if (csrcCount > 15) throw new InvalidArgumentError(`an RTP packet carries at most 15 CSRCs, got ${csrcCount}`)
  const end = offset + rtpHeaderLength(fields)
  if (offset < 0 || end > target.length) {
    throw new InvalidArgumentError(`an RTP header of ${end - offset} bytes does not fit at offset ${offset} of a ${target.length}-byte buffer`)
  }
  writeFixedRtpHeader(target, offset, fields.marker === true, fields.payloadType, fields.sequenceNumber & 0xffff, fields.timestamp, fields.ssrc, 0x80 | (ext ? 0x10 : 0) | csrcCount)
  let o = offset + RTP_HEADER_LENGTH
  for (let i = 0; i < csrcCount; i++) {
    const csrc = csrcs![i]!
    checkUint('CSRC', csrc, 0xffffffff)
    target.writeUInt32BE(csrc, o)
    o += 4
  }
  if (ext) {
    checkUint('extension profile', ext.profile, 0xffff)
    const words = (ext.data.length + 3) >>> 2
    if (words > 0xffff) throw new InvalidArgumentError(`RTP header extension of ${ext.data.length} bytes is too long`)
    target.writeUInt16BE(ext.profile, o)
    target.writeUInt16BE(words, o + 2)
    target.set(ext.data, o + 4)
    target.fill(0, o + 4 + ext.data.length, o + 4 + words * 4)
    o += 4 + words * 4
  }
  return o
}

/**
 * Build a whole RTP packet (one copy of the payload): for packetizers and test servers.
 * `paddingLength` (1..255) appends RFC 3550 §5.1 padding and sets the P bit.
 */
export function buildRtpPacket(fields: RtpHeaderFields & { paddingLength?: number }, payload: Uint8Array): Buffer {
  const padding = fields.paddingLength ?? 0
  if (padding !== 0) checkUint('padding length', padding, 0xff)
  const headerLength = rtpHeaderLength(fields)
  const out = Buffer.allocUnsafe(headerLength + payload.length + padding)
  writeRtpHeader(out, 0, fields)
  out.set(payload, headerLength)
  if (padding !== 0) {
    out[0] = out[0]! | 0x20
    out.fill(0, headerLength + payload.length, out.length - 1)
    out[out.length - 1] = padding
  }
  return out
}

/** A random SSRC (RFC 3550 §8.1: chosen at random so sessions do not collide). */
export function randomSsrc(): number {
  return randomBytes(4).readUInt32BE(0)
}
