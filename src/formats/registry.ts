/**
 * The receive side's view of the formats: which format consumes an SDP media (its handler
 * also updates codec details from in-band data). Imports no packetizer, so a pull or
 * probe loads only what it runs (issue #14); index.ts re-exports everything.
 */
import { rtpMapFor } from '../sdp/parse.js'
import type { MediaDescription } from '../sdp/types.js'
import { aacFormat } from './aac/format.js'
import { h264Format } from './h264/format.js'
import { h265Format } from './h265/format.js'
import { mjpegFormat } from './mjpeg/format.js'
import { pcmaFormat, pcmuFormat } from './g711/format.js'
import { opusFormat } from './opus/format.js'
import { latmFormat } from './latm/format.js'
import type { CodecName, FormatEntry, FormatHandler } from './types.js'

const FORMATS: readonly FormatEntry[] = [
  h264Format,
  h265Format,
  mjpegFormat,
  aacFormat,
  pcmuFormat,
  pcmaFormat,
  opusFormat,
  latmFormat,
]

/**
 * The handler for one payload type of an SDP media, or undefined when no format here can
 * consume it (the session then skips the track).
 */
export function resolveFormat(media: MediaDescription, payloadType: number): FormatHandler | undefined {
  const rtpmap = rtpMapFor(media, payloadType)
  for (const entry of FORMATS) {
    if (entry.matches(media, rtpmap, payloadType)) return entry.create(media, payloadType, rtpmap)
  }
  return undefined
}

/** Codecs resolveFormat knows, for messages ("supported: H264, AAC"). */
export const supportedCodecs: readonly CodecName[] = FORMATS.map((f) => f.codec)
