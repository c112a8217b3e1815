import type { RtpPacket } from '../rtp/packet-types.js'
import type { MediaDescription, RtpMap } from '../sdp/types.js'

/**
 * One access unit as a depacketizer produces it: for H.264 the NAL units of one picture
 * (no start codes, no length prefixes), for AAC one raw frame. Buffers may be views over
 * received packets; a depacketizer copies only when it must join fragments.
 */
export interface AccessUnit {
  /** 32-bit RTP timestamp as on the wire. The session unwraps it. */
  rtpTimestamp: number
  /** H.264: NAL units of one picture. AAC: one element, the raw frame. */
  data: Buffer[]
  /** Video: the unit holds an IDR picture (or, for other codecs, a random access point). Audio: always true. */
  keyFrame: boolean
}

/** Turns RTP packets of one track into access units. Pure: no sockets, no timers. */
export interface Depacketizer {
  /**
   * Feed one packet (in sequence order). Returns the access units it completed; the
   * returned array may be a shared empty array and must not be kept or mutated;
   * the units in it are new objects the caller may keep (sessions hold them until the timeline is known).
   */
  push(packet: RtpPacket): readonly AccessUnit[]
  /** Tell the depacketizer packets were lost: partial units are dropped. */
  reset(): void
  /** Partial units dropped so far (loss, missing first fragment, malformed). */
  readonly dropped: number
  /**
   * True when push() copies whatever it keeps of `packet.payload`, so the payload may be a
   * view of a read buffer that is reused once push() returns. Otherwise the caller hands it
   * a payload that stays valid (TrackReceiver copies one that would not).
   */
  readonly copiesPayload?: boolean
  /** Take back the buffers of a unit this depacketizer made once nobody uses them (reused for later units). */
  release?(data: readonly Buffer[]): void
}

export type CodecName = 'H264' | 'AAC' | (string & {})

/** Codec details a track carries after SDP / in-band parameter parsing. */
export interface CodecDetails {
  /** H.264 */
  width?: number
  height?: number
  profile?: string
  level?: string
  /** e.g. avc1.64001f, mp4a.40.2 */
  codecString?: string
  /** H.264 SPS/PPS, H.265 SPS/PPS (no start codes). */
  sps?: Buffer
  pps?: Buffer
  /** H.265 VPS (no start code). */
  vps?: Buffer
  /** H.265 tier: 'Main' or 'High'. */
  tier?: string
  /** AAC */
  sampleRate?: number
  channels?: number
  /** AudioSpecificConfig bytes. */
  audioSpecificConfig?: Buffer
  /** AAC object type (2 = LC). */
  objectType?: number
}

/** What the registry knows how to consume for one SDP media + payload type. */
export interface FormatHandler {
  codec: CodecName
  clockRate: number
  /** Details known from the SDP alone (sprop-parameter-sets, config). */
  details: CodecDetails
  createDepacketizer(): Depacketizer
  /**
   * In-band codec details of one unit (SPS, JPEG size, LATM config) into `details`; true
   * when they changed (the session announces a track update). Absent: the SDP's details stand.
   */
  updateDetails?(details: CodecDetails, au: Pick<AccessUnit, 'data' | 'keyFrame'>, depacketizer: Depacketizer): boolean
}

/**
 * One codec the registry knows. A new codec is one folder under formats/ exporting an
 * entry like this, and one line in FORMATS below.
 */
export interface FormatEntry {
  codec: CodecName
  /** Is this payload type of this media ours? `rtpmap` falls back to RFC 3551 static types. */
  matches(media: MediaDescription, rtpmap: RtpMap | undefined, payloadType: number): boolean
  /** The handler, or undefined when the parameters say we cannot consume it after all. */
  create(media: MediaDescription, payloadType: number, rtpmap: RtpMap | undefined): FormatHandler | undefined
}

export type { MediaDescription }
