import { parseAudioSpecificConfig } from '../../codec/aac-config.js'
import type { FormatEntry } from '../index.js'
import { AacDepacketizer } from './depacketizer.js'
import { aacDetailsFromSdp, aacFrameDuration, parseAacFmtp } from './sdp.js'

export { AacDepacketizer, type AacDepacketizerOptions } from './depacketizer.js'
export { AacPacketizer, type AacPacketizerOptions } from './packetizer.js'
export {
  aacDetailsFromSdp,
  aacFmtp,
  aacFrameDuration,
  aacMediaDescription,
  parseAacFmtp,
  type AacSdpParams,
} from './sdp.js'

/** a=rtpmap:<pt> mpeg4-generic/<rate>[/<channels>] with an AAC mode (RFC 3640 §4.1). */
export const aacFormat: FormatEntry = {
  codec: 'AAC',
  matches(media, rtpmap, payloadType) {
    if (rtpmap?.encoding.toUpperCase() !== 'MPEG4-GENERIC') return false
    const params = parseAacFmtp(media.fmtp.get(payloadType))
    const mode = params.mode.toLowerCase()
    if (mode === 'aac-hbr' || mode === 'aac-lbr' || params.streamType === 5) return true
    // A few cameras leave out mode and streamtype: accept an audio track whose config is AAC.
    if (mode === '' && media.type === 'audio' && params.config && params.sizeLength > 0) {
      try {
        parseAudioSpecificConfig(params.config)
        return true
      } catch {
        return false
      }
    }
    return false
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
