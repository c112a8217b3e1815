import { parseH264Sps } from '../../codec/h264-sps.js'
import { spsDetails } from '../nal/details.js'
import type { CodecDetails, FormatEntry } from '../types.js'
import { H264Depacketizer } from './depacketizer.js'
import { h264DetailsFromSdp } from './sdp.js'

export { H264Depacketizer, type H264DepacketizerOptions } from './depacketizer.js'
export {
  h264DetailsFromParameterSets,
  h264DetailsFromSdp,
  h264Fmtp,
  h264MediaDescription,
  parseH264Fmtp,
  type H264SdpParams,
} from './sdp.js'

/**
 * Take in-band SPS/PPS (RFC 6184 §8.4: they may come in-band only, or change) into `details`.
 * True when the SPS changed (first in-band SPS, new resolution); a broken SPS is left for the
 * decoder to judge.
 */
export function h264UpdateDetails(details: CodecDetails, nalus: readonly Buffer[]): boolean {
  let changed = false
  for (const nal of nalus) {
    const type = (nal[0] ?? 0) & 0x1f
    if (type === 7 && (details.sps === undefined || !details.sps.equals(nal))) {
      const d = spsDetails(nal, parseH264Sps)
      if (d === undefined) continue
      details.sps = Buffer.from(nal)
      Object.assign(details, d)
      changed = true
    } else if (type === 8 && (details.pps === undefined || !details.pps.equals(nal))) {
      details.pps = Buffer.from(nal)
    }
  }
  return changed
}

/** a=rtpmap:<pt> H264/90000 (RFC 6184 §8.2.1). */
export const h264Format: FormatEntry = {
  codec: 'H264',
  matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === 'H264',
  create(media, payloadType, rtpmap) {
    const { packetizationMode, ...details } = h264DetailsFromSdp(media, payloadType)
    // Mode 2 (interleaved: STAP-B, MTAP, FU-B) needs de-interleaving we do not do.
    if (packetizationMode > 1) return undefined
    return {
      codec: 'H264',
      clockRate: rtpmap?.clockRate || 90000,
      details,
      createDepacketizer: () => new H264Depacketizer({ sps: details.sps, pps: details.pps }),
      updateDetails: (d, au) => au.keyFrame && h264UpdateDetails(d, au.data),
    }
  },
}
