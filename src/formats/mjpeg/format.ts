import { jpegSize } from '../../codec/jpeg.js'
import type { CodecDetails, FormatEntry } from '../types.js'
import { MjpegDepacketizer } from './depacketizer.js'

export { MjpegDepacketizer, type MjpegDepacketizerOptions } from './depacketizer.js'

/**
 * Width and height from a rebuilt frame (they come from the RTP/JPEG header of each frame,
 * never from the SDP). Returns true when they changed: the session announces a track update.
 */
export function mjpegUpdateDetails(details: CodecDetails, data: readonly Buffer[]): boolean {
  const first = data[0]
  const size = first ? jpegSize(first) : undefined
  if (!size || (size.width === details.width && size.height === details.height)) return false
  details.width = size.width
  details.height = size.height
  return true
}

/** RTP/JPEG: static payload type 26 or a=rtpmap:<pt> JPEG/90000 (RFC 2435, RFC 3551 §6). */
export const mjpegFormat: FormatEntry = {
  codec: 'JPEG',
  matches: (_media, rtpmap) => rtpmap?.encoding.toUpperCase() === 'JPEG',
  create(_media, _payloadType, rtpmap) {
    return {
      codec: 'JPEG',
      clockRate: rtpmap?.clockRate || 90000,
      details: {},
      createDepacketizer: () => new MjpegDepacketizer(),
      updateDetails: (d, au) => mjpegUpdateDetails(d, au.data),
    }
  },
}
