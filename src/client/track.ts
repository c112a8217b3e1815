import type { CodecDetails, CodecName } from '../formats/types.js'
import type { MediaDescription } from '../sdp/types.js'
import type { ReplayInfo } from '../rtp/onvif-replay.js'

export type { ReplayInfo } from '../rtp/onvif-replay.js'

/** One media of the stream that the session set up. */
export interface Track {
  /** Position among the set-up tracks (0-based). */
  index: number
  /** SDP media type: 'video' | 'audio' | 'application' ... */
  type: string
  /** Upper-case codec name: 'H264', 'AAC', ... */
  codec: CodecName
  payloadType: number
  clockRate: number
  /** Audio channels from the rtpmap, when given. */
  channels?: number
  /** Absolute control URL (no credentials). */
  control: string
  /** fmtp parameters of the payload type (keys lower-cased). */
  fmtp: Record<string, string>
  /** Codec details from the SDP, then from in-band parameter sets as they arrive. */
  details: CodecDetails
  /** How media for this track arrives, from the SETUP reply. */
  transport: TrackTransport
  /** The SDP media it came from. */
  media: MediaDescription
}

export interface TrackTransport {
  protocol: 'tcp' | 'udp' | 'multicast'
  /** Multicast: the group the server sends to (RFC 2326 §12.39 `destination`). */
  destination?: string
  /** RTP and RTCP interleaved channels (TCP). */
  interleaved?: [number, number]
  /** Our RTP/RTCP ports (UDP). */
  clientPort?: [number, number]
  /** The server's RTP/RTCP ports (UDP), when the reply gave them. */
  serverPort?: [number, number]
  /** SSRC the server announced, when it did. */
  ssrc?: number
}

/** An access unit as a session hands it out. */
export interface Frame {
  track: Track
  /** RTP timestamp extended past the 32-bit wrap (ticks of track.clockRate; a safe integer). */
  timestamp: number
  /** Presentation time in seconds on the session's common timeline (all tracks share the origin). */
  pts: number
  /** H.264: the unit holds an IDR picture. Audio: always true. */
  keyFrame: boolean
  /** H.264: NAL units of one picture, without start codes. AAC: [one raw frame]. */
  data: Buffer[]
  /**
   * Wall-clock capture time (ms since the Unix epoch) from the server's RTCP sender reports
   * (RFC 3550 §6.4.1: NTP ↔ RTP mapping); undefined until the first SR of the track. In
   * ONVIF replay, the recording's time from the RTP header extension (`replay.time`).
   */
  captureTime?: number
  /**
   * ONVIF replay (`onvifReplay`): what the unit's RTP header extension (Streaming §6.3) says:
   * the recording's capture time and its clean-point / end / discontinuity / terminal flags.
   * Undefined for units whose packets carried no extension.
   */
  replay?: ReplayInfo
}

export interface TrackStats {
  packetsReceived: number
  bytesReceived: number
  packetsLost: number
  framesReceived: number
  /** Partial access units the depacketizer dropped (loss, malformed). */
  framesDropped: number
  /** Interarrival jitter in seconds (RFC 3550 A.8). */
  jitter: number
  /** RTCP compound packets received from the server (sender reports, ...). */
  rtcpPacketsReceived: number
  /** RTCP receiver reports sent (RFC 3550 §6.4.2). */
  rtcpPacketsSent: number
}
