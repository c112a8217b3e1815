import type { MediaDescription, RtpMap } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import type { CodecDetails } from '../types.js'

export type G711Codec = 'PCMU' | 'PCMA'

/** RFC 3551 §6: PCMU is static payload type 0, PCMA 8 (8 kHz, mono). */
export const G711_STATIC_PAYLOAD_TYPE: Readonly<Record<G711Codec, number>> = { PCMU: 0, PCMA: 8 }

/** Sample rate, channels and codec string of a G.711 payload type; the rtpmap may say other rates (PCMA/16000/2). */
export function g711Details(codec: G711Codec, rtpmap: RtpMap | undefined): CodecDetails {
  return {
    sampleRate: rtpmap?.clockRate || 8000,
    channels: rtpmap?.channels || 1,
    codecString: codec === 'PCMU' ? 'ulaw' : 'alaw',
  }
}

/**
 * A media description for a G.711 track we send (ANNOUNCE): the static payload type at
 * 8 kHz mono, else a dynamic one (default 97) with an rtpmap.
 */
export function g711MediaDescription(init: { codec: G711Codec; sampleRate?: number; channels?: number; payloadType?: number; control?: string }): MediaDescription {
  const rate = init.sampleRate ?? 8000
  const channels = init.channels ?? 1
  const isStatic = rate === 8000 && channels === 1
  const payloadType = init.payloadType ?? (isStatic ? G711_STATIC_PAYLOAD_TYPE[init.codec] : 97)
  return sendMediaDescription({ type: 'audio', payloadType, encoding: init.codec, clockRate: rate, ...(channels > 1 ? { channels } : {}), control: init.control })
}
