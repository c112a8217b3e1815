import type { FormatEntry } from '../types.js'
import { OpusDepacketizer } from './depacketizer.js'
import { OPUS_CLOCK_RATE, opusDetails } from './sdp.js'

export { OpusDepacketizer, type OpusDepacketizerOptions } from './depacketizer.js'
export { OPUS_CLOCK_RATE, opusChannels, opusDetails, opusMediaDescription } from './sdp.js'

/** a=rtpmap:<pt> opus/48000/2 (RFC 7587 §7). */
export const opusFormat: FormatEntry = {
  codec: 'OPUS',
  matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === 'OPUS',
  create(media, payloadType) {
    return {
      codec: 'OPUS',
      // §4.1: 48 kHz always, even when a sender's rtpmap says otherwise.
      clockRate: OPUS_CLOCK_RATE,
      details: opusDetails(media.fmtp.get(payloadType)),
      createDepacketizer: () => new OpusDepacketizer(),
    }
  },
}
