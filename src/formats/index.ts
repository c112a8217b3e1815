import { rtpMapFor } from '../sdp/parse.js'
import type { MediaDescription } from '../sdp/types.js'
import { aacFormat } from './aac/index.js'
import { h264Format } from './h264/index.js'
import { h265Format } from './h265/index.js'
import { mjpegFormat } from './mjpeg/index.js'
import { pcmaFormat, pcmuFormat } from './g711/index.js'
import { opusFormat } from './opus/index.js'
import { latmFormat } from './latm/index.js'
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

export type { AccessUnit, CodecDetails, CodecName, Depacketizer, FormatEntry, FormatHandler } from './types.js'
export * from './h264/index.js'
export * from './h265/index.js'
export * from './mjpeg/index.js'
export * from './aac/index.js'
export * from './g711/index.js'
export * from './opus/index.js'
export * from './latm/index.js'
export { RtpHeaderWriter, type RtpWriterOptions } from './rtp-header.js'
