/**
 * H.264 NAL unit helpers (ITU-T H.264 §7.3.1, Annex B) and the RTP payload types of
 * RFC 6184 §5.2 that share the nal_unit_type field.
 */

export const H264NalType = {
  NonIdrSlice: 1,
  DataPartitionA: 2,
  DataPartitionB: 3,
  DataPartitionC: 4,
  IdrSlice: 5,
  Sei: 6,
  Sps: 7,
  Pps: 8,
  Aud: 9,
  EndOfSequence: 10,
  EndOfStream: 11,
  Filler: 12,
  SpsExtension: 13,
  // RFC 6184 §5.2: packet types carried in the same 5 bits.
  StapA: 24,
  StapB: 25,
  Mtap16: 26,
  Mtap24: 27,
  FuA: 28,
  FuB: 29,
} as const

/** nal_unit_type of a NAL header byte. */
export function nalType(byte: number): number {
  return byte & 0x1f
}

/** True if `buf` contains a 3-byte start code 00 00 01 at or after `from`. */
export function hasStartCode(buf: Buffer, from = 0): boolean {
  return buf.indexOf(START_CODE, from) !== -1
}

const START_CODE = Buffer.from([0, 0, 1])

/**
 * Split an Annex B byte stream into NAL units (views, no copies). Both 3- and 4-byte start
 * codes are accepted; trailing_zero_8bits are trimmed; bytes before the first start code
 * are kept as a NAL unit (a camera that puts a start code between two NAL units of one
 * single-NAL RTP packet sends exactly that); empty units are skipped.
 */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = []
  let start = 0
  for (;;) {
    const sc = buf.indexOf(START_CODE, start)
    const end = sc === -1 ? buf.length : sc
    pushTrimmed(out, buf, start, end)
    if (sc === -1) return out
    start = sc + 3
  }
}

function pushTrimmed(out: Buffer[], buf: Buffer, start: number, end: number): void {
  // A NAL unit never ends in 0x00 (rbsp_trailing_bits), so zeros are start-code or trailing padding.
  while (end > start && buf[end - 1] === 0) end--
  if (end > start) out.push(buf.subarray(start, end))
}

/**
 * Remove emulation_prevention_three_byte (00 00 03 → 00 00, H.264 §7.4.1) to get the RBSP.
 * Returns `buf` itself when there is nothing to remove.
 */
export function removeEmulationPrevention(buf: Uint8Array): Buffer {
  const src = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  let i = src.indexOf(EPB)
  if (i === -1) return src
  const out = Buffer.allocUnsafe(src.length)
  let o = 0
  let from = 0
  while (i !== -1) {
    // Keep the two zeros, drop the 0x03.
    o += src.copy(out, o, from, i + 2)
    from = i + 3
    i = src.indexOf(EPB, from)
  }
  o += src.copy(out, o, from)
  return out.subarray(0, o)
}

const EPB = Buffer.from([0, 0, 3])

/** Insert emulation prevention bytes into an RBSP (the reverse of removeEmulationPrevention). */
export function addEmulationPrevention(rbsp: Uint8Array): Buffer {
  const out: number[] = []
  let zeros = 0
  for (const b of rbsp) {
    if (zeros >= 2 && b <= 3) {
      out.push(3)
      zeros = 0
    }
    out.push(b)
    zeros = b === 0 ? zeros + 1 : 0
  }
  return Buffer.from(out)
}

/** Join NAL units into an Annex B stream with 4-byte start codes (one copy). */
export function joinAnnexB(nalus: readonly Buffer[]): Buffer {
  let size = 0
  for (const n of nalus) size += 4 + n.length
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (const n of nalus) {
    out.writeUInt32BE(1, o)
    o += 4 + n.copy(out, o + 4)
  }
  return out
}

/** Join NAL units with 4-byte big-endian length prefixes (AVCC / MP4 sample format, one copy). */
export function joinAvcc(nalus: readonly Buffer[]): Buffer {
  let size = 0
  for (const n of nalus) size += 4 + n.length
  const out = Buffer.allocUnsafe(size)
  let o = 0
  for (const n of nalus) {
    out.writeUInt32BE(n.length, o)
    o += 4 + n.copy(out, o + 4)
  }
  return out
}
