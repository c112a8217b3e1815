import type { RtpPacket } from '../../src/rtp/packet-types.js'

/** Hex to Buffer, whitespace allowed: h('7c 85 01'). */
export function h(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex')
}

/** Minimal RTP reader for tests (RFC 3550 §5.1), independent of src/rtp. */
export function parseRtp(buf: Buffer): RtpPacket {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) throw new Error('not an RTP packet')
  let off = 12 + 4 * (buf[0]! & 0x0f)
  if (buf[0]! & 0x10) off += 4 + 4 * buf.readUInt16BE(off + 2)
  let end = buf.length
  if (buf[0]! & 0x20) end -= buf[end - 1]!
  return {
    marker: (buf[1]! & 0x80) !== 0,
    payloadType: buf[1]! & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  }
}

/** A packet as vectors describe it: payload and marker, plus where it matters sequence number and timestamp. */
export interface VectorPacket {
  marker: boolean
  payload: Buffer
  sequenceNumber?: number
  timestamp?: number
}

/**
 * RtpPacket objects for a vector: sequence numbers count up from `firstSeq` unless given,
 * timestamps default to `ts`.
 */
export function toPackets(packets: readonly VectorPacket[], ts: number, firstSeq = 1000): RtpPacket[] {
  return packets.map((p, i) => ({
    marker: p.marker,
    payloadType: 96,
    sequenceNumber: p.sequenceNumber ?? (firstSeq + i) & 0xffff,
    timestamp: p.timestamp ?? ts,
    ssrc: 0x1234,
    payload: p.payload,
  }))
}

/** Buffers of a unit as hex, for readable assertion diffs. */
export function hexUnits(units: ReadonlyArray<{ rtpTimestamp: number; keyFrame: boolean; data: readonly Buffer[] }>) {
  return units.map((u) => ({ rtpTimestamp: u.rtpTimestamp, keyFrame: u.keyFrame, data: u.data.map((b) => b.toString('hex')) }))
}
