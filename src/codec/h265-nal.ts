/**
 * H.265 NAL unit helpers (ITU-T H.265 §7.3.1.2, Table 7-1) and the RTP payload types of
 * RFC 7798 §4.4 that share the nal_unit_type field.
 *
 *   +---------------+---------------+
 *   |0|1|2|3|4|5|6|7|0|1|2|3|4|5|6|7|
 *   |F|   Type    |  LayerId  | TID |
 */

export const H265NalType = {
  TrailN: 0,
  TrailR: 1,
  RaslR: 9,
  /** IRAP pictures: BLA_W_LP 16 … CRA_NUT 21, 22–23 reserved IRAP (§7.4.2.2). */
  BlaWLp: 16,
  IdrWRadl: 19,
  IdrNLp: 20,
  CraNut: 21,
  RsvIrap23: 23,
  Vps: 32,
  Sps: 33,
  Pps: 34,
  Aud: 35,
  Eos: 36,
  Eob: 37,
  Fd: 38,
  PrefixSei: 39,
  SuffixSei: 40,
  // RFC 7798 §4.4: packet types carried in the same 6 bits.
  Ap: 48,
  Fu: 49,
  Paci: 50,
} as const

/** nal_unit_type from the first byte of a NAL unit header. */
export function h265NalType(byte: number): number {
  return (byte >> 1) & 0x3f
}

/** VCL NAL unit types are 0–31 (§7.4.2.2). */
export function isH265Vcl(type: number): boolean {
  return type < 32
}

/** Intra random access point: BLA, IDR, CRA and the reserved IRAP types 16–23. */
export function isH265Irap(type: number): boolean {
  return type >= H265NalType.BlaWLp && type <= H265NalType.RsvIrap23
}

/** VPS, SPS or PPS. */
export function isH265ParameterSet(type: number): boolean {
  return type >= H265NalType.Vps && type <= H265NalType.Pps
}
