import type { Depacketizer } from '../types.js'
import { h265Nal } from '../nal/codec.js'
import { NalDepacketizer } from '../nal/depacketizer.js'

export interface H265DepacketizerOptions {
  /** VPS, SPS and PPS from sprop-vps/sps/pps (no start codes). */
  vps?: Buffer
  sps?: Buffer
  pps?: Buffer
  /**
   * Put the known VPS/SPS/PPS in front of IRAP units that lack them: 'first-irap' (default)
   * only the first, 'every-irap' each one (raw .h265 output, late joiners), or 'never'.
   */
  insertParameterSets?: 'first-irap' | 'every-irap' | 'never'
  /** Bytes of NAL data in one access unit before it is dropped. Default 8 MiB. */
  maxAccessUnitSize?: number
  /** NAL units in one access unit before it is dropped. Default 1024. */
  maxNalUnits?: number
}

/**
 * RTP → H.265 access units (RFC 7798 without DONL, i.e. sprop-max-don-diff 0: single NAL
 * unit packets, aggregation packets and fragmentation units). One AccessUnit per picture: a
 * unit ends on the marker bit or, for senders that never set it, when the timestamp changes.
 * Key frame = IRAP picture (NAL types 16–23). Never throws on peer data: what cannot be used
 * is dropped and counted in `dropped`. The logic, shared with H.264, is in NalDepacketizer.
 */
export class H265Depacketizer extends NalDepacketizer implements Depacketizer {
  constructor(opts: H265DepacketizerOptions = {}) {
    const insert = opts.insertParameterSets ?? 'first-irap'
    super(h265Nal, {
      parameterSets: [opts.vps, opts.sps, opts.pps],
      insertParameterSets: insert === 'first-irap' ? 'first' : insert === 'never' ? 'never' : 'every',
      stripAud: false,
      maxAccessUnitSize: opts.maxAccessUnitSize,
      maxNalUnits: opts.maxNalUnits,
    })
  }

  /** Latest VPS/SPS/PPS: in-band when the stream carried them, else from the SDP. */
  get vps(): Buffer | undefined {
    return this.parameterSet(0)
  }

  get sps(): Buffer | undefined {
    return this.parameterSet(1)
  }

  get pps(): Buffer | undefined {
    return this.parameterSet(2)
  }
}
