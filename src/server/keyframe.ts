/**
 * Does an RTP payload carry the start of a random access point? The server forwards a
 * publisher's packets untouched, and uses this to let a new (or lagging) reader start at a
 * key frame instead of mid-GOP, where its decoder would have no reference picture.
 */
import { H264NalType } from '../codec/h264-nal.js'
import { H265NalType, isH265Irap } from '../codec/h265-nal.js'

/** H.264 (RFC 6184): an IDR slice or SPS in a single NAL, STAP-A, or the first FU-A fragment. */
export function h264PayloadHasKey(p: Buffer): boolean {
  if (p.length === 0) return false
  const type = p[0]! & 0x1f
  if (type === H264NalType.IdrSlice || type === H264NalType.Sps) return true
  if (type === H264NalType.StapA) {
    // §5.7.1: 16-bit size, then the NAL unit.
    for (let o = 1; o + 2 < p.length; ) {
      const size = (p[o]! << 8) | p[o + 1]!
      const t = p[o + 2]! & 0x1f
      if (t === H264NalType.IdrSlice || t === H264NalType.Sps) return true
      o += 2 + size
    }
    return false
  }
  if (type === H264NalType.FuA && p.length > 1) {
    // §5.8: start bit and the original type in the FU header.
    return (p[1]! & 0x80) !== 0 && (p[1]! & 0x1f) === H264NalType.IdrSlice
  }
  return false
}

function h265Key(type: number): boolean {
  return isH265Irap(type) || type === H265NalType.Vps || type === H265NalType.Sps
}

/** H.265 (RFC 7798, DONL off): an IRAP picture or VPS/SPS in a single NAL, an AP, or the first FU. */
export function h265PayloadHasKey(p: Buffer): boolean {
  if (p.length < 2) return false
  const type = (p[0]! >> 1) & 0x3f
  if (h265Key(type)) return true
  if (type === 48) {
    // §4.4.2 aggregation packet: 16-bit size, then the NAL unit.
    for (let o = 2; o + 2 < p.length; ) {
      const size = (p[o]! << 8) | p[o + 1]!
      if (h265Key((p[o + 2]! >> 1) & 0x3f)) return true
      o += 2 + size
    }
    return false
  }
  if (type === 49 && p.length > 2) {
    // §4.4.3 fragmentation unit: S bit and FuType in the FU header.
    return (p[2]! & 0x80) !== 0 && h265Key(p[2]! & 0x3f)
  }
  return false
}

/** The payload test for a codec whose readers must start at a key frame; undefined when any packet will do. */
export function keyFrameProbe(codec: string): ((payload: Buffer) => boolean) | undefined {
  switch (codec.toUpperCase()) {
    case 'H264':
      return h264PayloadHasKey
    case 'H265':
    case 'HEVC':
      return h265PayloadHasKey
    default:
      return undefined
  }
}
