/**
 * A WHEP offer (RFC 9725 §4.2) against a live path's tracks: which payload type of each
 * offered m-section carries which track, and the offer cut down to those payload types so
 * that werift (which negotiates by MIME type only and sends on the first match) answers
 * with exactly them. Pure: text in, text out.
 */
import { SdpError, UnsupportedError } from '../errors.js'
import type { LiveTrack } from '../http/live-media.js'
import { parseSdp, rtpMapFor } from '../sdp/parse.js'
import type { MediaDescription } from '../sdp/types.js'

/** What one offered audio/video m-section will carry. */
export interface SectionPlan {
  /** Index of the m-section in the offer. */
  index: number
  kind: 'audio' | 'video'
  /** The offer's payload type we answer with. */
  payloadType: number
  /** MIME type for werift: 'video/H264', 'audio/opus', 'audio/PCMA', 'audio/PCMU'. */
  mimeType: string
  clockRate: number
  channels?: number
  /** fmtp of our answer for that payload type ('' for none). */
  fmtp: string
  /** The live track it carries; undefined: the section is answered inactive. */
  track?: LiveTrack
  /** The offer's extmap id for the playout-delay header extension, when offered. */
  playoutDelayId?: number
}

/** Chromium's playout-delay RTP header extension (webrtc.org experiments): min/max delay the receiver applies. */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'

export interface OfferPlan {
  sections: SectionPlan[]
  /** Why a track of the path is not sent (e.g. AAC), for the viewer. */
  notes: string[]
}

/**
 * H.264 profile families as WebRTC compares them (profile_idc plus the constraint flags
 * that make a Baseline or High stream "constrained"; RFC 6184 §8.1 profile-level-id).
 */
export function h264ProfileFamily(profileLevelId: string): string {
  const idc = Number.parseInt(profileLevelId.slice(0, 2), 16)
  const iop = Number.parseInt(profileLevelId.slice(2, 4), 16)
  if (!Number.isFinite(idc) || !Number.isFinite(iop)) return 'unknown'
  switch (idc) {
    case 0x42:
      return iop & 0x40 ? 'constrained-baseline' : 'baseline'
    case 0x4d:
      return iop & 0x80 ? 'constrained-baseline' : 'main'
    case 0x58:
      return (iop & 0xc0) === 0xc0 ? 'constrained-baseline' : 'extended'
    case 0x64:
      return (iop & 0x0c) === 0x0c ? 'constrained-high' : 'high'
    case 0xf4:
      return 'high-444'
    default:
      return `idc-${idc}`
  }
}

/** profile-level-id (6 hex digits) from an SPS NAL unit: profile_idc, constraint flags, level_idc (H.264 §7.3.2.1.1). */
export function profileLevelIdFromSps(sps: Buffer | undefined): string | undefined {
  if (!sps || sps.length < 4) return undefined
  return sps.subarray(1, 4).toString('hex')
}

/** The H.264 fmtp we answer with (RFC 6184 §8.1): the camera's profile and level, packetization mode 1. */
export function h264AnswerFmtp(profileLevelId: string): string {
  return `level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=${profileLevelId}`
}

const AUDIO_CODECS: Record<string, { encoding: string; mimeType: string; clockRate: number }> = {
  OPUS: { encoding: 'OPUS', mimeType: 'audio/opus', clockRate: 48000 },
  PCMA: { encoding: 'PCMA', mimeType: 'audio/PCMA', clockRate: 8000 },
  PCMU: { encoding: 'PCMU', mimeType: 'audio/PCMU', clockRate: 8000 },
}

/**
 * Match an offer against the path's tracks. Throws SdpError (→ 400) when the offer is not
 * an SDP offer, has no audio/video section, or cannot receive the path's video.
 */
export function planOffer(offer: string, tracks: readonly LiveTrack[]): OfferPlan {
  if (!/^v=0\s*$/m.test(offer)) throw new SdpError('the body is not an SDP offer (no v=0 line)')
  const sdp = parseSdp(offer)
  if (!/^a=ice-ufrag:/m.test(offer)) throw new SdpError('the offer has no a=ice-ufrag: not a WebRTC offer')
  if (!/^a=fingerprint:/m.test(offer)) throw new SdpError('the offer has no a=fingerprint: WebRTC needs DTLS-SRTP')
  const notes: string[] = []
  const sections: SectionPlan[] = []
  const video = tracks.find((t) => t.type === 'video')
  const audio = tracks.find((t) => t.type === 'audio')
  let videoUsed = false
  let audioUsed = false

  if (video && video.codec !== 'H264') {
    notes.push(`${video.codec} video cannot be sent over WebRTC by this server (H.264 only); use the MSE player or the snapshot`)
  }
  if (audio && !AUDIO_CODECS[audio.codec]) {
    notes.push(`${audio.codec} audio cannot go over WebRTC (Opus, PCMA and PCMU only): video only; use the MSE player for sound`)
  }

  sdp.media.forEach((m, index) => {
    if (m.type === 'video') {
      const sendable = video && video.codec === 'H264' && !videoUsed ? video : undefined
      const pick = pickH264(m, sendable)
      if (!pick) {
        if (sendable) throw new SdpError('the offer has no H.264 with packetization-mode=1; the path sends H.264 only')
        // Nothing to send: answer the section inactive with any codec werift knows.
        const any = pickAny(m, ['H264', 'VP8'])
        if (any) sections.push({ index, kind: 'video', ...any })
        return
      }
      if (sendable) videoUsed = true
      sections.push({ index, kind: 'video', ...pick, track: sendable, playoutDelayId: extmapId(m, PLAYOUT_DELAY_URI) })
    } else if (m.type === 'audio') {
      const sendable = audio && AUDIO_CODECS[audio.codec] && !audioUsed ? audio : undefined
      const codec = sendable ? AUDIO_CODECS[sendable.codec]! : undefined
      const pt = codec ? findPayloadType(m, codec.encoding, codec.clockRate, sendable!.channels) : undefined
      if (sendable && pt !== undefined) {
        audioUsed = true
        const fmtp = sendable.codec === 'OPUS' ? 'minptime=10;useinbandfec=1' + ((sendable.channels ?? 2) > 1 ? ';stereo=1;sprop-stereo=1' : '') : ''
        sections.push({
          index,
          kind: 'audio',
          payloadType: pt,
          mimeType: codec!.mimeType,
          clockRate: codec!.clockRate,
          channels: sendable.codec === 'OPUS' ? 2 : 1,
          fmtp,
          track: sendable,
        })
        return
      }
      if (sendable) notes.push(`the browser offered no ${sendable.codec} audio: video only`)
      const any = pickAny(m, ['PCMU', 'PCMA', 'OPUS'])
      if (any) sections.push({ index, kind: 'audio', ...any })
    }
  })
  if (sections.length === 0) throw new SdpError('the offer has no audio or video section this server can answer')
  if (video && video.codec === 'H264' && !videoUsed) throw new SdpError('the offer has no video section; the path sends video')
  if (!sections.some((s) => s.track)) {
    throw new UnsupportedError(`nothing on this path can go over WebRTC: ${notes.join('; ') || 'the browser offered none of its codecs'}`)
  }
  return { sections, notes }
}

/** a=extmap:<id>[/<direction>] <uri> (RFC 8285 §8) */
function extmapId(m: MediaDescription, uri: string): number | undefined {
  for (const [name, value] of m.attributes) {
    if (name !== 'extmap') continue
    const x = /^(\d+)(?:\/\w+)?\s+(\S+)/.exec(value)
    if (x && x[2] === uri) {
      const id = Number(x[1])
      // One-byte header form (RFC 8285 §4.2) carries ids 1-14.
      return id >= 1 && id <= 14 ? id : undefined
    }
  }
  return undefined
}

function findPayloadType(m: MediaDescription, encoding: string, clockRate: number, channels?: number): number | undefined {
  for (const pt of m.formats) {
    const map = rtpMapFor(m, pt)
    if (!map || map.encoding.toUpperCase() !== encoding || map.clockRate !== clockRate) continue
    // Opus is always announced as opus/48000/2 (RFC 7587 §7); G.711 mono.
    if (encoding !== 'OPUS' && channels !== undefined && (map.channels ?? 1) !== channels) continue
    return pt
  }
  return undefined
}

function pickAny(m: MediaDescription, encodings: string[]): Omit<SectionPlan, 'index' | 'kind'> | undefined {
  for (const enc of encodings) {
    for (const pt of m.formats) {
      const map = rtpMapFor(m, pt)
      if (map?.encoding.toUpperCase() !== enc) continue
      const mimeType = `${m.type}/${map.encoding}`
      return { payloadType: pt, mimeType, clockRate: map.clockRate, channels: map.channels, fmtp: fmtpLine(m, pt) }
    }
  }
  return undefined
}

function fmtpLine(m: MediaDescription, pt: number): string {
  const f = m.fmtp.get(pt)
  return f ? Object.entries(f).map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';') : ''
}

/**
 * The offer's H.264 payload type (packetization-mode=1, RFC 6184 §6.3) closest to the
 * camera's profile: same profile family first, then any. Chromium decodes every profile
 * in software, so a family mismatch still plays.
 */
function pickH264(m: MediaDescription, track: LiveTrack | undefined): Omit<SectionPlan, 'index' | 'kind'> | undefined {
  const candidates: Array<{ pt: number; profileLevelId: string }> = []
  for (const pt of m.formats) {
    const map = rtpMapFor(m, pt)
    if (map?.encoding.toUpperCase() !== 'H264' || map.clockRate !== 90000) continue
    const f = m.fmtp.get(pt) ?? {}
    if ((f['packetization-mode'] ?? '0') !== '1') continue
    candidates.push({ pt, profileLevelId: (f['profile-level-id'] ?? '42001f').toLowerCase() })
  }
  if (candidates.length === 0) return undefined
  const camera = track ? profileLevelIdFromSps(track.details.sps) ?? track.fmtp['profile-level-id']?.toLowerCase() : undefined
  let chosen = candidates[0]!
  let answerProfile = chosen.profileLevelId
  if (camera && /^[0-9a-f]{6}$/.test(camera)) {
    const family = h264ProfileFamily(camera)
    const same = candidates.find((c) => h264ProfileFamily(c.profileLevelId) === family)
    if (same) {
      chosen = same
      // Same profile, the camera's level: the answer may differ in level only (RFC 6184 §8.2.2).
      answerProfile = same.profileLevelId.slice(0, 4) + camera.slice(4)
    }
  }
  return { payloadType: chosen.pt, mimeType: 'video/H264', clockRate: 90000, fmtp: h264AnswerFmtp(answerProfile) }
}

/**
 * The offer restricted to the planned payload type of each audio/video m-section (other
 * formats and their rtpmap/fmtp/rtcp-fb lines removed). Sections without a plan are kept.
 */
export function restrictOffer(offer: string, plan: OfferPlan): string {
  const lines = offer.split(/\r\n|\n/)
  const out: string[] = []
  let section = -1
  let keep: number | undefined
  for (const line of lines) {
    if (line.startsWith('m=')) {
      section++
      const p = plan.sections.find((s) => s.index === section)
      keep = p?.payloadType
      if (keep !== undefined) {
        // m=<media> <port> <proto> <fmt> ... (RFC 8866 §5.14)
        const parts = line.split(' ')
        out.push(`${parts.slice(0, 3).join(' ')} ${keep}`)
        continue
      }
    } else if (keep !== undefined) {
      const m = /^a=(rtpmap|fmtp|rtcp-fb):(\d+)[\s]/.exec(line)
      if (m && Number(m[2]) !== keep) continue
    }
    out.push(line)
  }
  return out.join('\r\n')
}

/** Set the fmtp of `payloadType` in the m-section `index` of an SDP (adding the line if missing). */
export function setFmtp(sdp: string, index: number, payloadType: number, fmtp: string): string {
  const lines = sdp.split(/\r\n|\n/)
  let section = -1
  let at = -1
  let rtpmapAt = -1
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('m=')) section++
    if (section !== index) continue
    if (line.startsWith(`a=fmtp:${payloadType} `)) at = i
    if (line.startsWith(`a=rtpmap:${payloadType} `)) rtpmapAt = i
  }
  if (!fmtp) return sdp
  const value = `a=fmtp:${payloadType} ${fmtp}`
  if (at >= 0) lines[at] = value
  else if (rtpmapAt >= 0) lines.splice(rtpmapAt + 1, 0, value)
  return lines.join('\r\n')
}

/** Keep only host candidates on `addresses` (the answer advertises what the server listens on). */
export function filterCandidates(sdp: string, addresses: readonly string[]): string {
  const allowed = new Set(addresses)
  return sdp
    .split(/\r\n|\n/)
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true
      // a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> (RFC 8839 §5.1)
      const address = line.split(' ')[4]
      return address !== undefined && allowed.has(address)
    })
    .join('\r\n')
}
