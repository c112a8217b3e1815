import type { MediaDescription } from './types.js'

/** One payload format of a media we send (ANNOUNCE, a served DESCRIBE). */
export interface SendMediaInit {
  type: 'video' | 'audio'
  payloadType: number
  /** The rtpmap encoding name (RFC 4566 §6: `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`). */
  encoding: string
  clockRate: number
  /** Audio channels, written in the rtpmap when given. */
  channels?: number
  /** a=fmtp parameters, none when omitted. */
  fmtp?: Record<string, string>
  control?: string | undefined
}

/**
 * The one place a media description for a track we send is built: an `m=` line with one
 * payload type, its rtpmap and fmtp, and the control URL when there is one. Each format's
 * sdp.ts says only what is its own (encoding, clock, fmtp).
 */
export function sendMediaDescription(init: SendMediaInit): MediaDescription {
  const pt = init.payloadType
  const media: MediaDescription = {
    type: init.type,
    port: 0,
    protocol: 'RTP/AVP',
    formats: [pt],
    rtpmap: new Map([[pt, { payloadType: pt, encoding: init.encoding, clockRate: init.clockRate, ...(init.channels !== undefined ? { channels: init.channels } : {}) }]]),
    fmtp: init.fmtp !== undefined ? new Map([[pt, init.fmtp]]) : new Map(),
    attributes: [],
  }
  if (init.control !== undefined) media.control = init.control
  return media
}
