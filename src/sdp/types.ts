/**
 * SDP (RFC 8866, formerly RFC 4566) as RTSP uses it. The parser is lenient: cameras send
 * CRLF or LF, trailing spaces, unknown lines and missing mandatory fields; we keep what we
 * understand and the raw attributes for the rest.
 */

/** a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 8866 §6.6) */
export interface RtpMap {
  payloadType: number
  /** As written (case preserved); compare with `.toUpperCase()`. */
  encoding: string
  clockRate: number
  /** Audio channels (encoding parameters), when given. */
  channels?: number
}

/** m=<media> <port> <proto> <fmt> ... (RFC 8866 §5.14) plus its attributes. */
export interface MediaDescription {
  /** 'video' | 'audio' | 'application' | 'text' | 'message' | ... */
  type: string
  port: number
  /** e.g. 'RTP/AVP', 'RTP/AVPF', 'RTP/SAVP' */
  protocol: string
  /** Payload types listed on the m= line, in order. */
  formats: number[]
  /** a=control value, trimmed, unresolved. */
  control?: string
  /** a=rtpmap by payload type. */
  rtpmap: Map<number, RtpMap>
  /** a=fmtp parameters by payload type; keys lower-cased, values trimmed strings (never numbers). */
  fmtp: Map<number, Record<string, string>>
  /** sendrecv | sendonly | recvonly | inactive, when given. */
  direction?: string
  /** b=AS: in kbit/s, when given. */
  bandwidth?: number
  /** Every a= line of this media as [name, value] ('' when the attribute has no value). */
  attributes: Array<[string, string]>
}

export interface SessionDescription {
  version: number
  origin?: string
  sessionName?: string
  /** Session-level a=control, trimmed, unresolved. */
  control?: string
  /** Session-level a=range value, e.g. 'npt=now-' */
  range?: string
  /** Session-level a= lines as [name, value]. */
  attributes: Array<[string, string]>
  media: MediaDescription[]
}
