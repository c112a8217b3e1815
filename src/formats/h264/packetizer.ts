import { h264Nal } from '../nal/codec.js'
import { NalPacketizer, type NalPacketizerOptions } from '../nal/packetizer.js'

export interface H264PacketizerOptions extends NalPacketizerOptions {}

/**
 * H.264 access units → RTP packets (RFC 6184, packetization mode 1). NAL units that fit
 * travel alone or, when several small ones fit together (SPS, PPS, SEI), in one STAP-A;
 * larger ones are split into FU-A fragments. The last packet of the unit has the marker bit.
 * The logic, shared with H.265, is in NalPacketizer.
 */
export class H264Packetizer extends NalPacketizer {
  constructor(opts: H264PacketizerOptions) {
    super(h264Nal, opts)
  }
}
