/**
 * H.264 access units from NAL units (H.264 §7.4.1.2.3), shared by the test fixtures
 * (media-fixture.ts) and the benchmark stream (bench/h264-stream.ts, which stays independent
 * of src/ on purpose, hence no import from there).
 */

/**
 * Group NAL units into access units: a new one starts at a non-VCL NAL (SEI 6, SPS 7, PPS 8,
 * AUD 9, 13-18) after a VCL NAL, or at a slice with first_mb_in_slice 0.
 */
export function groupAccessUnits(nals: Iterable<Buffer>): Buffer[][] {
  const units: Buffer[][] = []
  let current: Buffer[] = []
  let hasVcl = false
  for (const nal of nals) {
    const type = nal[0]! & 0x1f
    const vcl = type >= 1 && type <= 5
    // first_mb_in_slice is ue(v); its value 0 is coded as the single bit '1', so the byte
    // after the NAL header has its top bit set.
    const startsPicture = vcl && nal.length > 1 && (nal[1]! & 0x80) !== 0
    const startsUnit = startsPicture || type === 6 || type === 7 || type === 8 || type === 9 || (type >= 13 && type <= 18)
    if (hasVcl && startsUnit) {
      units.push(current)
      current = []
      hasVcl = false
    }
    current.push(nal)
    if (vcl) hasVcl = true
  }
  if (current.length > 0) units.push(current)
  return units
}
