import type { Depacketizer } from '../types.js'
import { h264Nal } from '../nal/codec.js'
import { NalDepacketizer } from '../nal/depacketizer.js'

export interface H264DepacketizerOptions {
  /** SPS from sprop-parameter-sets (no start code). */
  sps?: Buffer
  /** PPS from sprop-parameter-sets (no start code). */
  pps?: Buffer
  /**
   * Put the known SPS/PPS in front of IDR units that lack them: 'first-idr' (default) only
   * the first IDR unit, 'every-idr' each one (handy for raw .h264 output and late joiners).
   */
  insertParameterSets?: 'first-idr' | 'every-idr' | 'never'
  /** Drop access unit delimiters (type 9). Default false. */
  stripAud?: boolean
  /** Bytes of NAL data in one access unit before it is dropped. Default 8 MiB. */
  maxAccessUnitSize?: number
  /** NAL units in one access unit before it is dropped. Default 1024. */
  maxNalUnits?: number
}

/**
 * RTP → H.264 access units (RFC 6184, packetization modes 0 and 1: single NAL unit
 * packets, STAP-A and FU-A). One AccessUnit per picture: a unit ends on the marker bit or,
 * for cameras that never set it, when the timestamp changes. Never throws on peer data:
 * what cannot be used is dropped and counted in `dropped`. The logic, shared with H.265,
 * is in NalDepacketizer.
 */
export class H264Depacketizer extends NalDepacketizer implements Depacketizer {
  constructor(opts: H264DepacketizerOptions = {}) {
    const insert = opts.insertParameterSets ?? 'first-idr'
    super(h264Nal, {
      parameterSets: [opts.sps, opts.pps],
      insertParameterSets: insert === 'first-idr' ? 'first' : insert === 'never' ? 'never' : 'every',
      stripAud: opts.stripAud ?? false,
      maxAccessUnitSize: opts.maxAccessUnitSize,
      maxNalUnits: opts.maxNalUnits,
    })
  }

  /** Latest SPS: in-band when the stream carried one, else from the SDP. */
  get sps(): Buffer | undefined {
    return this.parameterSet(0)
  }

  get pps(): Buffer | undefined {
    return this.parameterSet(1)
  }
}
