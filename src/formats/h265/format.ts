import type { FormatEntry } from '../types.js'
import { H265Depacketizer } from './depacketizer.js'
import { h265DetailsFromSdp, h265UpdateDetails } from './sdp.js'

export { H265Depacketizer, type H265DepacketizerOptions } from './depacketizer.js'
export {
  h265DetailsFromParameterSets,
  h265DetailsFromSdp,
  h265Fmtp,
  h265MediaDescription,
  h265UpdateDetails,
  parseH265Fmtp,
  type H265SdpParams,
} from './sdp.js'

/** a=rtpmap:<pt> H265/90000 (RFC 7798 §7.1); some senders write HEVC. */
export const h265Format: FormatEntry = {
  codec: 'H265',
  matches: (_media, rtpmap) => {
    const name = rtpmap?.encoding.toUpperCase()
    return name === 'H265' || name === 'HEVC'
  },
  create(media, payloadType, rtpmap) {
    const { maxDonDiff, depackBufNalus, ...details } = h265DetailsFromSdp(media, payloadType)
    // DONL fields (sprop-max-don-diff > 0) mean NAL units out of decoding order, which we do not reorder.
    if (maxDonDiff > 0 || depackBufNalus > 0) return undefined
    return {
      codec: 'H265',
      clockRate: rtpmap?.clockRate || 90000,
      details,
      createDepacketizer: () => new H265Depacketizer({ vps: details.vps, sps: details.sps, pps: details.pps }),
      updateDetails: (d, au) => au.keyFrame && h265UpdateDetails(d, au.data),
    }
  },
}
