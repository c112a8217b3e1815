/**
 * An RTP packet (RFC 3550 §5.1) as a view over the received bytes: `payload` is a
 * `subarray` of the datagram or interleaved frame, never a copy.
 */
export interface RtpPacket {
  marker: boolean
  payloadType: number
  sequenceNumber: number
  /** 32-bit RTP timestamp as on the wire (unsigned). */
  timestamp: number
  ssrc: number
  /** Payload with header, CSRCs, extension and padding removed (a view). */
  payload: Buffer
}
