import { H264NalType, nalType } from '../codec/h264-nal.js'
import type { LiveFrame, LiveTrack } from '../http/live-media.js'

/** nal_unit_type of an H.265 NAL header (ITU-T H.265 §7.3.1.2). */
const h265Type = (b: number): number => (b >> 1) & 0x3f
const H265_VPS = 32
const H265_SPS = 33
const H265_PPS = 34

/**
 * A key frame's NAL units with the track's parameter sets in front when the frame lacks
 * them (cameras often send SPS/PPS only in the SDP's sprop-parameter-sets; a WebRTC receiver
 * or a decoder started on this frame needs them in-band). Other frames are returned as is.
 */
export function withParameterSets(f: LiveFrame, track: LiveTrack): Buffer[] {
  if (!f.keyFrame) return f.data
  const h265 = track.codec === 'H265'
  const seen = new Set<number>()
  for (const n of f.data) seen.add(h265 ? h265Type(n[0] ?? 0) : nalType(n[0] ?? 0))
  const d = track.details
  const want: Array<[number, Buffer | undefined]> = h265
    ? [
        [H265_VPS, d.vps],
        [H265_SPS, d.sps],
        [H265_PPS, d.pps],
      ]
    : [
        [H264NalType.Sps, d.sps],
        [H264NalType.Pps, d.pps],
      ]
  const front: Buffer[] = []
  for (const [type, nal] of want) if (!seen.has(type) && nal) front.push(nal)
  return front.length ? [...front, ...f.data] : f.data
}
