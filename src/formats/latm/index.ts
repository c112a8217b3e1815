import { parseStreamMuxConfig, type StreamMuxConfig } from '../../codec/latm.js'
import { RtspError } from '../../errors.js'
import type { FormatEntry } from '../index.js'
import { LatmDepacketizer } from './depacketizer.js'
import { latmDetails, latmFrameDuration, parseLatmFmtp } from './sdp.js'

export { LatmDepacketizer, type LatmDepacketizerOptions } from './depacketizer.js'
export { LatmPacketizer, type LatmPacketizerOptions } from './packetizer.js'
export { latmDetails, latmFrameDuration, latmMediaDescription, parseLatmFmtp, type LatmSdpParams } from './sdp.js'

/**
 * a=rtpmap:<pt> MP4A-LATM/<rate>[/<channels>] with cpresent=0 and a config (RFC 6416 §7.3).
 * In-band configs (cpresent=1, the default) are skipped, as FFmpeg does: the track is listed
 * as skipped rather than recorded without a decoder config.
 */
export const latmFormat: FormatEntry = {
  codec: 'MP4A-LATM',
  matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === 'MP4A-LATM',
  create(media, payloadType, rtpmap) {
    const params = parseLatmFmtp(media.fmtp.get(payloadType))
    if (params.cpresent || params.config === undefined) return undefined
    let smc: StreamMuxConfig
    try {
      smc = parseStreamMuxConfig(params.config)
    } catch (err) {
      if (err instanceof RtspError) return undefined
      throw err
    }
    const clockRate = rtpmap?.clockRate || smc.asc.sampleRate
    const frameDuration = latmFrameDuration(smc, clockRate)
    return {
      codec: 'MP4A-LATM',
      clockRate,
      details: latmDetails(smc, rtpmap),
      createDepacketizer: () => new LatmDepacketizer({ subFrames: smc.subFrames, otherDataPresent: smc.otherDataPresent, frameDuration }),
    }
  },
}
