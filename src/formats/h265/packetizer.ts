import { h265Nal } from '../nal/codec.js'
import { NalPacketizer, type NalPacketizerOptions } from '../nal/packetizer.js'

export interface H265PacketizerOptions extends NalPacketizerOptions {}

/**
 * H.265 access units → RTP packets (RFC 7798, sprop-max-don-diff 0). NAL units that fit
 * travel alone or, when several small ones fit together (VPS, SPS, PPS, SEI), in one
 * aggregation packet; larger ones are split into fragmentation units. The last packet of
 * the unit has the marker bit. NAL units shorter than their 2-byte header are skipped.
 * The logic, shared with H.264, is in NalPacketizer.
 */
export class H265Packetizer extends NalPacketizer {
  constructor(opts: H265PacketizerOptions) {
    super(h265Nal, opts)
  }
}
