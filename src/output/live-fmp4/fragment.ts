/**
 * One movie fragment per frame (ISO/IEC 14496-12 §8.8.4): `moof` (mfhd, traf with tfhd, tfdt,
 * trun of one sample) and the `mdat` holding that sample, written into one buffer. A viewer
 * gets each frame as soon as it exists, instead of a GOP at a time.
 *
 *   moof(100) = mfhd(16) + traf(8 + tfhd(16) + tfdt(20) + trun(32))   mdat(8 + sample)
 */

export interface FragmentSample {
  /** baseMediaDecodeTime of the sample, in the track's timescale. */
  decodeTime: number
  /** In the track's timescale. */
  duration: number
  keyFrame: boolean
  /** The sample's bytes as a list of runs; with `lengthPrefixed` each run is one NAL unit. */
  data: readonly Uint8Array[]
  /** H.264/H.265: write each run after its 4-byte length (the avcC/hvcC lengthSizeMinusOne 3). */
  lengthPrefixed: boolean
}

const MOOF_SIZE = 100
const MDAT_HEADER = 8
/** §8.8.3.1 sample flags: sample_depends_on 2 (an I picture). */
export const SYNC_FLAGS = 0x02000000
/** sample_depends_on 1, sample_is_non_sync_sample 1. */
export const NON_SYNC_FLAGS = 0x01010000
/** trun flags: data-offset, sample-duration, sample-size, sample-flags present. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400
/** tfhd flags: default-base-is-moof (data offsets count from this moof). */
const TFHD_FLAGS = 0x020000

/** `moof` + `mdat` for one sample of track `trackId`. */
export function fragment(sequence: number, trackId: number, sample: FragmentSample): Buffer {
  let size = 0
  for (const d of sample.data) size += d.length + (sample.lengthPrefixed ? 4 : 0)
  const out = Buffer.allocUnsafe(MOOF_SIZE + MDAT_HEADER + size)
  let o = 0
  o = out.writeUInt32BE(MOOF_SIZE, o)
  o += out.write('moof', o, 'latin1')
  // mfhd: version/flags, sequence_number
  o = out.writeUInt32BE(16, o)
  o += out.write('mfhd', o, 'latin1')
  o = out.writeUInt32BE(0, o)
  o = out.writeUInt32BE(sequence >>> 0, o)
  // traf
  o = out.writeUInt32BE(MOOF_SIZE - 24, o)
  o += out.write('traf', o, 'latin1')
  // tfhd: version 0, flags, track_ID
  o = out.writeUInt32BE(16, o)
  o += out.write('tfhd', o, 'latin1')
  o = out.writeUInt32BE(TFHD_FLAGS, o)
  o = out.writeUInt32BE(trackId, o)
  // tfdt: version 1, 64-bit baseMediaDecodeTime
  o = out.writeUInt32BE(20, o)
  o += out.write('tfdt', o, 'latin1')
  o = out.writeUInt32BE(0x01000000, o)
  o = out.writeBigUInt64BE(BigInt(Math.max(0, Math.round(sample.decodeTime))), o)
  // trun: version 0, flags, sample_count 1, data_offset, then the one sample's duration, size, flags
  o = out.writeUInt32BE(32, o)
  o += out.write('trun', o, 'latin1')
  o = out.writeUInt32BE(TRUN_FLAGS, o)
  o = out.writeUInt32BE(1, o)
  o = out.writeInt32BE(MOOF_SIZE + MDAT_HEADER, o) // data_offset: first byte of the mdat payload
  o = out.writeUInt32BE(Math.max(0, Math.round(sample.duration)) >>> 0, o)
  o = out.writeUInt32BE(size, o)
  o = out.writeUInt32BE(sample.keyFrame ? SYNC_FLAGS : NON_SYNC_FLAGS, o)
  // mdat
  o = out.writeUInt32BE(MDAT_HEADER + size, o)
  o += out.write('mdat', o, 'latin1')
  for (const d of sample.data) {
    if (sample.lengthPrefixed) o = out.writeUInt32BE(d.length, o)
    out.set(d, o)
    o += d.length
  }
  return out
}
