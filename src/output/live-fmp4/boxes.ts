/**
 * ISO BMFF box building blocks (ISO/IEC 14496-12 §4.2): a box is a 32-bit size, a
 * four-character type and its payload; a full box adds a version byte and 24 flag bits.
 * Payloads are lists of byte runs, joined once per box.
 */

export type Bytes = Uint8Array

/** A box of `type` around `parts` (§4.2: size includes the 8-byte header). */
export function box(type: string, ...parts: Bytes[]): Buffer {
  let size = 8
  for (const p of parts) size += p.length
  const out = Buffer.allocUnsafe(size)
  out.writeUInt32BE(size, 0)
  out.write(type, 4, 4, 'latin1')
  let o = 8
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** A full box (§4.2: version, flags, then the payload). */
export function fullBox(type: string, version: number, flags: number, ...parts: Bytes[]): Buffer {
  return box(type, u8(version), u24(flags), ...parts)
}

export function u8(v: number): Buffer {
  return Buffer.from([v & 0xff])
}

export function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2)
  b.writeUInt16BE(v & 0xffff, 0)
  return b
}

export function u24(v: number): Buffer {
  return Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff])
}

export function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeUInt32BE(v >>> 0, 0)
  return b
}

export function i32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4)
  b.writeInt32BE(v | 0, 0)
  return b
}

export function u64(v: number): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(v))), 0)
  return b
}

export function zeros(n: number): Buffer {
  return Buffer.alloc(n)
}

export function fourcc(s: string): Buffer {
  return Buffer.from(s, 'latin1')
}

/** The unity matrix of tkhd/mvhd (§8.2.2: 16.16 and 2.30 fixed point). */
export const UNITY_MATRIX = Buffer.concat([
  u32(0x00010000), u32(0), u32(0),
  u32(0), u32(0x00010000), u32(0),
  u32(0), u32(0), u32(0x40000000),
])
