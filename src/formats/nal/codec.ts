import { H264NalType } from '../../codec/h264-nal.js'
import { H265NalType } from '../../codec/h265-nal.js'

/**
 * What the shared NAL unit (de)packetizer needs to know of one codec's RTP payload format:
 * RFC 6184 (H.264) and RFC 7798 (H.265) carry NAL units the same way (single NAL unit
 * packets, aggregation packets with 16-bit sizes, fragmentation units with S/E bits) and
 * differ only in the NAL header, the type numbers and which types are slices or parameter sets.
 */
export interface NalCodec {
  /** Bytes in a NAL unit header, and in an aggregation or fragmentation payload header: 1 or 2. */
  readonly headerSize: 1 | 2
  /** nal_unit_type = (first header byte >> typeShift) & typeMask; an FU header holds it in its low bits. */
  readonly typeShift: number
  readonly typeMask: number
  /** Packet types sharing the nal_unit_type field: aggregation (STAP-A, AP) and fragmentation (FU-A, FU). */
  readonly aggregation: number
  readonly fragmentation: number
  /**
   * Packet types above `aggregation` and below this one are known but not supported: such a
   * packet is counted as dropped. From this type up they are reserved and ignored.
   */
  readonly firstReserved: number
  /** VCL NAL unit types (slices): firstVcl..lastVcl. */
  readonly firstVcl: number
  readonly lastVcl: number
  /** Types that make the access unit a key frame: firstKey..lastKey. */
  readonly firstKey: number
  readonly lastKey: number
  /** Parameter set types, contiguous and in the order they go in front of a key frame. */
  readonly firstParameterSet: number
  readonly parameterSetCount: number
  /** Access unit delimiter. */
  readonly aud: number
  /**
   * The aggregation packet's payload header (headerSize bytes as one number) for the NAL
   * units in data[from..to) that are at least headerSize long.
   */
  aggregationHeader(data: readonly Buffer[], from: number, to: number): number
}

/**
 * H.264 (RFC 6184, packetization modes 0 and 1).
 *
 *   +---------------+
 *   |0|1|2|3|4|5|6|7|
 *   |F|NRI|  Type   |
 */
export const h264Nal: NalCodec = {
  headerSize: 1,
  typeShift: 0,
  typeMask: 0x1f,
  aggregation: H264NalType.StapA,
  fragmentation: H264NalType.FuA,
  // STAP-B, MTAP16/24 and FU-B belong to the interleaved mode (2), which is not supported;
  // types 30 and 31 are reserved and must be ignored (RFC 6184 §5.2).
  firstReserved: 30,
  firstVcl: H264NalType.NonIdrSlice,
  lastVcl: H264NalType.IdrSlice,
  firstKey: H264NalType.IdrSlice,
  lastKey: H264NalType.IdrSlice,
  firstParameterSet: H264NalType.Sps, // SPS 7, PPS 8
  parameterSetCount: 2,
  aud: H264NalType.Aud,
  aggregationHeader(data, from, to) {
    let f = 0
    let nri = 0
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length === 0) continue
      // STAP-A (§5.7.1): F is the OR and NRI the maximum of the aggregated units.
      f |= nal[0]! & 0x80
      nri = Math.max(nri, nal[0]! & 0x60)
    }
    return f | nri | H264NalType.StapA
  },
}

/**
 * H.265 (RFC 7798 without DONL, i.e. sprop-max-don-diff 0).
 *
 *   +---------------+---------------+
 *   |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *   |F|   Type    |  LayerId  | TID |
 */
export const h265Nal: NalCodec = {
  headerSize: 2,
  typeShift: 1,
  typeMask: 0x3f,
  aggregation: H265NalType.Ap,
  fragmentation: H265NalType.Fu,
  // PACI (50) is not supported; 51–63 are unspecified and must be ignored (RFC 7798 §4.4).
  firstReserved: H265NalType.Paci + 1,
  // VCL NAL unit types are 0–31 (H.265 §7.4.2.2).
  firstVcl: 0,
  lastVcl: 31,
  // IRAP pictures: BLA, IDR, CRA and the reserved IRAP types 16–23.
  firstKey: H265NalType.BlaWLp,
  lastKey: H265NalType.RsvIrap23,
  firstParameterSet: H265NalType.Vps, // VPS 32, SPS 33, PPS 34
  parameterSetCount: 3,
  aud: H265NalType.Aud,
  aggregationHeader(data, from, to) {
    let f = 0
    let layerId = 63
    let tid = 7
    for (let i = from; i < to; i++) {
      const nal = data[i]!
      if (nal.length < 2) continue
      // AP (§4.4.2): F is the OR, LayerId and TID the lowest of the aggregated units.
      f |= nal[0]! & 0x80
      layerId = Math.min(layerId, ((nal[0]! & 1) << 5) | (nal[1]! >> 3))
      tid = Math.min(tid, nal[1]! & 7)
    }
    return ((f | (H265NalType.Ap << 1) | (layerId >> 5)) << 8) | ((layerId & 0x1f) << 3) | tid
  },
}
