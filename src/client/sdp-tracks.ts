// Which SDP media a pull session sets up (RFC 4566 m= lines), each as a Track with the
// format handler that receives it; media no format here can consume are listed, not set up.
import type { Track } from './track.js'
import type { TransportProtocol } from './options.js'
import { UnsupportedError } from '../errors.js'
import { resolveFormat, supportedCodecs } from '../formats/registry.js'
import type { FormatHandler } from '../formats/types.js'
import type { SessionDescription } from '../sdp/types.js'
import { redactUrl, resolveControl } from '../util/url.js'

export interface SdpTracks {
  /** In SDP order; each track's index is its position here. */
  tracks: Array<{ track: Track; handler: FormatHandler }>
  /** Media offered but not set up (codec not supported). */
  skipped: Array<{ type: string; codec: string }>
}

/** The tracks of `sdp` (the first payload type of each media that a format takes); throws when there is none. */
export function tracksFromSdp(sdp: SessionDescription, base: string, protocol: TransportProtocol): SdpTracks {
  const out: SdpTracks = { tracks: [], skipped: [] }
  for (const media of sdp.media) {
    let chosen: { pt: number; handler: FormatHandler } | undefined
    for (const pt of media.formats) {
      const handler = resolveFormat(media, pt)
      if (handler !== undefined) {
        chosen = { pt, handler }
        break
      }
    }
    if (chosen === undefined) {
      const pt = media.formats[0]
      const name = pt !== undefined ? (media.rtpmap.get(pt)?.encoding ?? `payload type ${pt}`) : 'no format'
      out.skipped.push({ type: media.type, codec: name })
      continue
    }
    const { pt, handler } = chosen
    const rtpmap = media.rtpmap.get(pt)
    const track: Track = {
      index: out.tracks.length,
      type: media.type,
      codec: handler.codec,
      payloadType: pt,
      clockRate: handler.clockRate,
      channels: rtpmap?.channels,
      control: redactUrl(resolveControl(base, media.control)),
      fmtp: media.fmtp.get(pt) ?? {},
      details: { ...handler.details },
      transport: { protocol },
      media,
    }
    out.tracks.push({ track, handler })
  }
  if (out.tracks.length === 0) {
    const offered = out.skipped.map((m) => `${m.type} ${m.codec}`).join(', ') || 'nothing'
    throw new UnsupportedError(`the stream offers no track rtspkit can receive (offered: ${offered}); supported: ${supportedCodecs.join(', ')}`)
  }
  return out
}
