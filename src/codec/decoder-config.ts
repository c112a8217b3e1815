/**
 * ISO/IEC 14496-15 as MP4/MOV carry H.264 and H.265: the decoder configuration records
 * ('avcC', 'hvcC') read back into parameter sets, and length-prefixed samples split into NAL
 * units. The records are built in output/avc-config.ts and output/hvcc.ts.
 */
import { MediaError } from '../errors.js'

/** ISO/IEC 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord → length size + SPS/PPS. */
export function parseAvcC(buf: Buffer): { lengthSize: number; nalus: Buffer[] } {
  if (buf.length < 7 || buf[0] !== 1) throw new MediaError('malformed avcC box')
  const lengthSize = (buf[4]! & 3) + 1
  const nalus: Buffer[] = []
  let o = 5
  for (let kind = 0; kind < 2; kind++) {
    if (o >= buf.length) break
    // numOfSequenceParameterSets (5 bits), then numOfPictureParameterSets (8 bits).
    const count = kind === 0 ? buf[o]! & 0x1f : buf[o]!
    o = readNalArray(buf, o + 1, count, 'avcC', nalus)
  }
  return { lengthSize, nalus }
}

/** ISO/IEC 14496-15 §8.3.3.1 HEVCDecoderConfigurationRecord → length size + VPS/SPS/PPS. */
export function parseHvcC(buf: Buffer): { lengthSize: number; nalus: Buffer[] } {
  if (buf.length < 23) throw new MediaError('malformed hvcC box')
  const lengthSize = (buf[21]! & 3) + 1
  const arrays = buf[22]!
  const nalus: Buffer[] = []
  let o = 23
  for (let a = 0; a < arrays && o + 3 <= buf.length; a++) {
    // array_completeness + NAL_unit_type (1 byte), numNalus (16 bits).
    o = readNalArray(buf, o + 3, buf.readUInt16BE(o + 1), 'hvcC', nalus)
  }
  return { lengthSize, nalus }
}

/** Split a length-prefixed sample into NAL units (views, no copy). */
export function splitLengthPrefixed(buf: Buffer, lengthSize: number): Buffer[] {
  const out: Buffer[] = []
  let o = 0
  while (o + lengthSize <= buf.length) {
    const len = lengthSize === 4 ? buf.readUInt32BE(o) : lengthSize === 2 ? buf.readUInt16BE(o) : lengthSize === 1 ? buf[o]! : buf.readUIntBE(o, 3)
    o += lengthSize
    if (len === 0) continue
    if (o + len > buf.length) throw new MediaError(`NAL unit length ${len} runs past the ${buf.length}-byte sample`)
    out.push(buf.subarray(o, o + len))
    o += len
  }
  return out
}

/** `count` NAL units, each behind a 16-bit length, from `o`; returns the offset after them. */
function readNalArray(buf: Buffer, o: number, count: number, box: string, out: Buffer[]): number {
  for (let i = 0; i < count && o + 2 <= buf.length; i++) {
    const len = buf.readUInt16BE(o)
    if (o + 2 + len > buf.length) throw new MediaError(`truncated ${box} box`)
    out.push(buf.subarray(o + 2, o + 2 + len))
    o += 2 + len
  }
  return o
}
