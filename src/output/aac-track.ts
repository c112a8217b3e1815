/**
 * A recorded AAC track's AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1): the SDP's `config=`
 * (or LATM's StreamMuxConfig), else one built from the object type, rate and channels the
 * depacketizer found; parsed, or the one-line reason a recorder skips the track.
 */
import { buildAudioSpecificConfig, parseAudioSpecificConfig } from '../codec/aac-config.js'
import type { AudioSpecificConfig } from '../codec/aac-config.js'
import type { RecorderTrack } from './types.js'

export function trackAudioSpecificConfig(track: RecorderTrack): { asc: Buffer; config: AudioSpecificConfig } | string {
  const d = track.details
  let asc = d.audioSpecificConfig
  if (asc === undefined && d.objectType !== undefined && d.sampleRate !== undefined && d.channels !== undefined) {
    try {
      asc = buildAudioSpecificConfig({ objectType: d.objectType, sampleRate: d.sampleRate, channels: d.channels })
    } catch (err) {
      return `AAC without a usable AudioSpecificConfig: ${(err as Error).message}`
    }
  }
  if (asc === undefined) return 'AAC without an AudioSpecificConfig (the SDP has no config=)'
  try {
    return { asc, config: parseAudioSpecificConfig(asc) }
  } catch (err) {
    return `AAC with a broken AudioSpecificConfig: ${(err as Error).message}`
  }
}
