import type { FormatEntry } from '../types.js'
import { G711Depacketizer } from './depacketizer.js'
import { g711Details, type G711Codec } from './sdp.js'

export { G711Depacketizer, type G711DepacketizerOptions } from './depacketizer.js'
export { G711_STATIC_PAYLOAD_TYPE, g711Details, g711MediaDescription, type G711Codec } from './sdp.js'

function g711Format(codec: G711Codec): FormatEntry {
  return {
    codec,
    // Static payload type 0 / 8 (rtpMapFor fills in the RFC 3551 rtpmap) or a=rtpmap:<pt> PCMA/<rate>[/<channels>].
    matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === codec,
    create(_media, _payloadType, rtpmap) {
      const details = g711Details(codec, rtpmap)
      return {
        codec,
        clockRate: details.sampleRate!,
        details,
        createDepacketizer: () => new G711Depacketizer(),
      }
    },
  }
}

/** G.711 µ-law (RFC 3551 §4.5.14). */
export const pcmuFormat: FormatEntry = g711Format('PCMU')
/** G.711 A-law (RFC 3551 §4.5.14). */
export const pcmaFormat: FormatEntry = g711Format('PCMA')
