/**
 * Codec details of a file's track from its decoder configuration: what the SDP and the
 * packetizers need (SPS/PPS/VPS, the AudioSpecificConfig). Shared by the mediabunny demux
 * (input/demux.ts) and the MP4 index (input/mp4-index.ts), which loads no mediabunny.
 */
import { aacCodecString, parseAudioSpecificConfig } from '../codec/aac-config.js'
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { H265NalType, h265NalType } from '../codec/h265-nal.js'
import { h264DetailsFromParameterSets } from '../formats/h264/sdp.js'
import type { CodecDetails } from '../formats/types.js'
import type { SourceTrack } from './types.js'

/** An AAC track's clock and details from its AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). */
export function setAacConfig(info: SourceTrack, config: Buffer): void {
  const asc = parseAudioSpecificConfig(config)
  info.clockRate = asc.sampleRate
  info.details = {
    ...info.details,
    audioSpecificConfig: config,
    sampleRate: asc.sampleRate,
    channels: asc.channels,
    objectType: asc.objectType,
    codecString: aacCodecString(asc.objectType),
  }
}

/** SPS/PPS (H.264, with what the SPS says) or VPS/SPS/PPS (H.265) from a list of NAL units. */
export function videoDetails(codec: string, nalus: readonly Buffer[]): SourceTrack['details'] {
  if (codec === 'H264') {
    const sps = nalus.find((n) => nalType(n[0]!) === H264NalType.Sps)
    const pps = nalus.find((n) => nalType(n[0]!) === H264NalType.Pps)
    try {
      return h264DetailsFromParameterSets(sps, pps)
    } catch {
      const d: CodecDetails = {}
      if (sps) d.sps = sps
      if (pps) d.pps = pps
      return d
    }
  }
  const d: SourceTrack['details'] = {}
  for (const n of nalus) {
    const t = h265NalType(n[0]!)
    if (t === H265NalType.Vps) d.vps ??= n
    else if (t === H265NalType.Sps) d.sps ??= n
    else if (t === H265NalType.Pps) d.pps ??= n
  }
  return d
}
