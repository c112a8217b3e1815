import type { FormatEntry } from '../types.js'
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
    }
  },
}
