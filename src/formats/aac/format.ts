import { parseAudioSpecificConfig } from '../../codec/aac-config.js'
import type { FormatEntry } from '../types.js'
import { AacDepacketizer } from './depacketizer.js'
import { aacDetailsFromSdp, aacFrameDuration, parseAacFmtp } from './sdp.js'

export { AacDepacketizer, type AacDepacketizerOptions } from './depacketizer.js'
export {
  aacDetailsFromSdp,
  aacFmtp,
  aacFrameDuration,
  aacMediaDescription,
  parseAacFmtp,
  type AacSdpParams,
} from './sdp.js'

/** AAC Main, LC, SSR, LTP, Scalable and their ER variants, LD, ELD (ISO/IEC 14496-3 Table 1.1). */
const AAC_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 17, 19, 20, 23, 39])

/** a=rtpmap:<pt> mpeg4-generic/<rate>[/<channels>] with an AAC mode (RFC 3640 §4.1). */
export const aacFormat: FormatEntry = {
  codec: 'AAC',
  matches(media, rtpmap, payloadType) {
    if (rtpmap?.encoding.toUpperCase() !== 'MPEG4-GENERIC') return false
    const params = parseAacFmtp(media.fmtp.get(payloadType))
    const mode = params.mode.toLowerCase()
    if (mode === 'aac-hbr' || mode === 'aac-lbr') return true
    if (mode.startsWith('celp')) return false
    // streamtype 5 (audio) without an AAC mode, or a few cameras that leave out both: trust an AAC config.
    if (params.streamType !== 5 && media.type !== 'audio') return false
    if (!params.config) return params.streamType === 5
    try {
      const asc = parseAudioSpecificConfig(params.config)
      return AAC_OBJECT_TYPES.has(asc.coreObjectType ?? asc.objectType)
    } catch {
      return false
    }
  },
  create(media, payloadType, rtpmap) {
    const params = parseAacFmtp(media.fmtp.get(payloadType))
    // Mode absent or unknown and no header layout given: cameras that do this send AAC-hbr.
    if (params.sizeLength === 0 && params.indexLength === 0 && params.indexDeltaLength === 0 && params.mode.toLowerCase() !== 'generic') {
      params.sizeLength = 13
      params.indexLength = 3
      params.indexDeltaLength = 3
    }
    const clockRate = rtpmap?.clockRate || 44100
    const frameDuration = aacFrameDuration(params, clockRate)
    return {
      codec: 'AAC',
      clockRate,
      details: aacDetailsFromSdp(media, payloadType, rtpmap),
      createDepacketizer: () => new AacDepacketizer({ ...params, frameDuration }),
    }
  },
}
