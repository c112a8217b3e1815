import { parseStreamMuxConfig, type StreamMuxConfig } from '../../codec/latm.js'
import { RtspError } from '../../errors.js'
import type { CodecDetails, Depacketizer, FormatEntry } from '../types.js'
import { LatmDepacketizer } from './depacketizer.js'
import { latmDetails, latmFrameDuration, parseLatmFmtp } from './sdp.js'

export { LatmDepacketizer, type LatmDepacketizerOptions } from './depacketizer.js'
export { latmDetails, latmFrameDuration, latmMediaDescription, parseLatmFmtp, type LatmSdpParams } from './sdp.js'

/**
 * The AAC details of a cpresent=1 track from the StreamMuxConfig its depacketizer found
 * in-band. Returns true when they changed (the first config, or a new one): the session
 * announces a track update. Cheap when nothing changed (a few bytes compared).
 */
export function latmUpdateDetails(details: CodecDetails, depacketizer: Depacketizer): boolean {
  if (!(depacketizer instanceof LatmDepacketizer)) return false
  const smc = depacketizer.streamMuxConfig
  if (smc === undefined || details.audioSpecificConfig?.equals(smc.audioSpecificConfig) === true) return false
  Object.assign(details, latmDetails(smc, undefined))
  return true
}

/**
 * a=rtpmap:<pt> MP4A-LATM/<rate>[/<channels>] (RFC 6416 §7.3). With cpresent=0 the
 * StreamMuxConfig is the fmtp `config` (a track without a usable one is skipped, as FFmpeg
 * does). With cpresent=1 (the default) it travels in-band: the track is taken with what the
 * rtpmap says (and the `config`, when there is one) and its details are filled in from the
 * first in-band config (`latmUpdateDetails`).
 */
export const latmFormat: FormatEntry = {
  codec: 'MP4A-LATM',
  matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === 'MP4A-LATM',
  create(media, payloadType, rtpmap) {
    const params = parseLatmFmtp(media.fmtp.get(payloadType))
    let smc: StreamMuxConfig | undefined
    if (params.config !== undefined) {
      try {
        smc = parseStreamMuxConfig(params.config)
      } catch (err) {
        if (!(err instanceof RtspError)) throw err
      }
    }
    const clockRate = rtpmap?.clockRate || smc?.asc.sampleRate || 0
    if (clockRate <= 0) return undefined
    if (!params.cpresent) {
      if (smc === undefined) return undefined
      const frameDuration = latmFrameDuration(smc, clockRate)
      const config = smc
      return {
        codec: 'MP4A-LATM',
        clockRate,
        details: latmDetails(config, rtpmap),
        createDepacketizer: () => new LatmDepacketizer({ subFrames: config.subFrames, otherDataPresent: config.otherDataPresent, frameDuration }),
        updateDetails: (d, _au, depacketizer) => latmUpdateDetails(d, depacketizer),
      }
    }
    const initial = smc
    const details: CodecDetails = initial !== undefined ? latmDetails(initial, rtpmap) : { sampleRate: clockRate, channels: rtpmap?.channels || undefined }
    if (details.channels === undefined) delete details.channels
    return {
      codec: 'MP4A-LATM',
      clockRate,
      details,
      createDepacketizer: () => new LatmDepacketizer({ muxConfigPresent: true, config: initial, clockRate }),
      // cpresent=1: the AAC config arrives in-band (RFC 6416 §6.1).
      updateDetails: (d, _au, depacketizer) => latmUpdateDetails(d, depacketizer),
    }
  },
}
