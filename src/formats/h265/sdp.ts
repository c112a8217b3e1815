import { H265NalType, h265NalType } from '../../codec/h265-nal.js'
import { parseH265Sps } from '../../codec/h265-sps.js'
import type { MediaDescription } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import { spsDetails } from '../nal/details.js'
import type { CodecDetails } from '../types.js'

export interface H265SdpParams {
  /** First VPS, SPS and PPS of sprop-vps / sprop-sps / sprop-pps (RFC 7798 §7.1). */
  vps?: Buffer
  sps?: Buffer
  pps?: Buffer
  /** sprop-max-don-diff; > 0 means the stream carries DONL fields (decoding order numbers). */
  maxDonDiff: number
  /** sprop-depack-buf-nalus; > 0 also means DON-based de-interleaving. */
  depackBufNalus: number
}

/**
 * Read the H.265 fmtp parameters (RFC 7798 §7.1). Each sprop-* is a comma-separated list of
 * base64 NAL units; every unit is sorted by its own NAL type, because senders mix them up.
 */
export function parseH265Fmtp(fmtp: Readonly<Record<string, string>> | undefined): H265SdpParams {
  const params: H265SdpParams = { maxDonDiff: 0, depackBufNalus: 0 }
  if (!fmtp) return params
  const num = (key: string) => {
    const n = Number.parseInt(fmtp[key] ?? '', 10)
    return Number.isInteger(n) && n > 0 ? n : 0
  }
  params.maxDonDiff = num('sprop-max-don-diff')
  params.depackBufNalus = num('sprop-depack-buf-nalus')
  for (const key of ['sprop-vps', 'sprop-sps', 'sprop-pps']) {
    for (const item of (fmtp[key] ?? '').split(',')) {
      const nal = Buffer.from(item.trim(), 'base64')
      if (nal.length < 2) continue
      const type = h265NalType(nal[0]!)
      if (type === H265NalType.Vps) params.vps ??= nal
      else if (type === H265NalType.Sps) params.sps ??= nal
      else if (type === H265NalType.Pps) params.pps ??= nal
    }
  }
  return params
}

/**
 * Codec details from VPS/SPS/PPS: size, profile, tier, level and codec string from the SPS.
 * An SPS that does not parse leaves only the parameter sets themselves.
 */
export function h265DetailsFromParameterSets(vps: Buffer | undefined, sps: Buffer | undefined, pps: Buffer | undefined): CodecDetails {
  const details: CodecDetails = {}
  if (vps) details.vps = vps
  if (sps) details.sps = sps
  if (pps) details.pps = pps
  if (sps) Object.assign(details, spsDetails(sps, parseH265Sps))
  return details
}

/** Codec details of an H.265 payload type from the SDP alone, plus the DON parameters. */
export function h265DetailsFromSdp(media: MediaDescription, payloadType: number): CodecDetails & { maxDonDiff: number; depackBufNalus: number } {
  const params = parseH265Fmtp(media.fmtp.get(payloadType))
  return { ...h265DetailsFromParameterSets(params.vps, params.sps, params.pps), maxDonDiff: params.maxDonDiff, depackBufNalus: params.depackBufNalus }
}

/**
 * Take in-band parameter sets of one access unit into `details`. Returns true when the SPS
 * changed (first in-band SPS, new resolution): the session then announces a track update.
 */
export function h265UpdateDetails(details: CodecDetails, nalus: readonly Buffer[]): boolean {
  let changed = false
  for (const nal of nalus) {
    if (nal.length < 2) continue
    const type = h265NalType(nal[0]!)
    if (type === H265NalType.Vps) {
      if (details.vps === undefined || !details.vps.equals(nal)) details.vps = Buffer.from(nal)
    } else if (type === H265NalType.Pps) {
      if (details.pps === undefined || !details.pps.equals(nal)) details.pps = Buffer.from(nal)
    } else if (type === H265NalType.Sps && (details.sps === undefined || !details.sps.equals(nal))) {
      const d = spsDetails(nal, parseH265Sps) // a broken SPS is left for the decoder to judge
      if (d !== undefined) {
        details.sps = Buffer.from(nal)
        Object.assign(details, d)
        changed = true
      }
    }
  }
  return changed
}

/** fmtp parameters for an H.265 track we send (ANNOUNCE): sprop-vps/sps/pps. */
export function h265Fmtp(init: { vps?: Buffer; sps?: Buffer; pps?: Buffer }): Record<string, string> {
  const fmtp: Record<string, string> = {}
  if (init.vps && init.vps.length > 0) fmtp['sprop-vps'] = init.vps.toString('base64')
  if (init.sps && init.sps.length > 0) fmtp['sprop-sps'] = init.sps.toString('base64')
  if (init.pps && init.pps.length > 0) fmtp['sprop-pps'] = init.pps.toString('base64')
  return fmtp
}

/** A media description for an H.265 track we send (ANNOUNCE). */
export function h265MediaDescription(init: { payloadType?: number; control?: string; vps?: Buffer; sps?: Buffer; pps?: Buffer }): MediaDescription {
  return sendMediaDescription({ type: 'video', payloadType: init.payloadType ?? 96, encoding: 'H265', clockRate: 90000, fmtp: h265Fmtp(init), control: init.control })
}
