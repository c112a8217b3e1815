/**
 * A movie fragment of several samples per track (ISO/IEC 14496-12 §8.8.4): one `moof` with
 * a `traf` per track (tfhd, tfdt, trun) and one `mdat` holding each track's samples in turn,
 * written into one buffer (one write, one copy of the sample bytes per fragment).
 *
 *   moof = mfhd(16) + Σ traf(8 + tfhd(16) + tfdt(20) + trun(20 + n × (12 | 16)))
 *   mdat = 8 + Σ sample sizes
 *
 * tfhd sets default-base-is-moof (§8.8.7), so each trun's data_offset counts from the moof.
 * trun (§8.8.8) carries duration, size and flags per sample, plus a composition time offset
 * when the track has B-frames: version 1 (signed) when any offset is negative.
 */
import { SYNC_FLAGS, NON_SYNC_FLAGS } from '../live-fmp4/fragment.js'

export { SYNC_FLAGS, NON_SYNC_FLAGS }

export interface FragmentSampleOut {
  /** In the track's timescale. */
  duration: number
  /** pts - dts in the track's timescale (may be negative). */
  compositionOffset: number
  keyFrame: boolean
  /** The sample's bytes as runs; with the track's `lengthPrefixed` each run is one NAL unit. */
  data: readonly Uint8Array[]
}

export interface TrackFragment {
  trackId: number
  /** tfdt baseMediaDecodeTime: the first sample's decode time (track timescale). */
  baseDecodeTime: number
  /** H.264/H.265: each run written after its 4-byte length (avcC/hvcC lengthSizeMinusOne 3). */
  lengthPrefixed: boolean
  samples: readonly FragmentSampleOut[]
}

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
const TRUN_DATA_OFFSET = 0x000001
const TRUN_DURATION = 0x000100
const TRUN_SIZE = 0x000200
const TRUN_FLAGS = 0x000400
const TRUN_CTS = 0x000800

function sampleSize(s: FragmentSampleOut, lengthPrefixed: boolean): number {
  let n = 0
  for (const d of s.data) n += d.length + (lengthPrefixed ? 4 : 0)
  return n
}

/** `moof` + `mdat` for the samples of one or more tracks (tracks without samples are left out). */
export function movieFragment(sequence: number, tracks: readonly TrackFragment[]): Buffer {
  const runs = tracks.filter((t) => t.samples.length > 0)
  const sizes = runs.map((t) => t.samples.map((s) => sampleSize(s, t.lengthPrefixed)))
  const withCts = runs.map((t) => t.samples.some((s) => s.compositionOffset !== 0))
  const trafSizes = runs.map((t, i) => 8 + 16 + 20 + 20 + t.samples.length * (withCts[i] ? 16 : 12))
  const moofSize = 8 + 16 + trafSizes.reduce((a, b) => a + b, 0)
  let dataSize = 0
  for (const s of sizes) for (const n of s) dataSize += n
  const out = Buffer.allocUnsafe(moofSize + 8 + dataSize)
  let o = 0
  o = out.writeUInt32BE(moofSize, o)
  o += out.write('moof', o, 'latin1')
  o = out.writeUInt32BE(16, o) // mfhd
  o += out.write('mfhd', o, 'latin1')
  o = out.writeUInt32BE(0, o) // version 0, flags 0
  o = out.writeUInt32BE(sequence >>> 0, o) // sequence_number
  let dataOffset = moofSize + 8
  runs.forEach((t, i) => {
    const cts = withCts[i]!
    const negative = cts && t.samples.some((s) => s.compositionOffset < 0)
    o = out.writeUInt32BE(trafSizes[i]!, o)
    o += out.write('traf', o, 'latin1')
    o = out.writeUInt32BE(16, o) // tfhd: version 0
    o += out.write('tfhd', o, 'latin1')
    o = out.writeUInt32BE(TFHD_DEFAULT_BASE_IS_MOOF, o)
    o = out.writeUInt32BE(t.trackId, o) // track_ID
    o = out.writeUInt32BE(20, o) // tfdt: version 1, 64-bit baseMediaDecodeTime
    o += out.write('tfdt', o, 'latin1')
    o = out.writeUInt32BE(0x01000000, o)
    o = out.writeBigUInt64BE(BigInt(Math.max(0, Math.round(t.baseDecodeTime))), o)
    o = out.writeUInt32BE(20 + t.samples.length * (cts ? 16 : 12), o)
    o += out.write('trun', o, 'latin1')
    o = out.writeUInt32BE(((negative ? 1 : 0) << 24) | TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS | (cts ? TRUN_CTS : 0), o)
    o = out.writeUInt32BE(t.samples.length, o) // sample_count
    o = out.writeInt32BE(dataOffset, o) // data_offset: this track's first byte in the mdat
    t.samples.forEach((s, j) => {
      o = out.writeUInt32BE(Math.max(0, Math.round(s.duration)) >>> 0, o) // sample_duration
      o = out.writeUInt32BE(sizes[i]![j]!, o) // sample_size
      o = out.writeUInt32BE(s.keyFrame ? SYNC_FLAGS : NON_SYNC_FLAGS, o) // sample_flags (§8.8.3.1)
      if (cts) o = negative ? out.writeInt32BE(Math.round(s.compositionOffset), o) : out.writeUInt32BE(Math.round(s.compositionOffset), o)
      dataOffset += sizes[i]![j]!
    })
  })
  o = out.writeUInt32BE(8 + dataSize, o)
  o += out.write('mdat', o, 'latin1')
  runs.forEach((t) => {
    for (const s of t.samples) {
      for (const d of s.data) {
        if (t.lengthPrefixed) o = out.writeUInt32BE(d.length, o)
        out.set(d, o)
        o += d.length
      }
    }
  })
  return out
}
