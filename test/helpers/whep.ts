/** WHEP test helpers shared by the unit (werift) and interop (Chromium) tests. */
import { RTCRtpCodecParameters, type RTCPeerConnection } from 'werift'
import type { WhepSession } from '../../src/webrtc/whep-session.js'

/**
 * A werift peer's config on loopback (IPv4 host candidates only), with H.264 Constrained
 * Baseline 3.1, NACK and PLI, as Chromium offers it. Also bench/latency-harness.ts's hand
 * relay. A fresh object each call: werift writes payload types into its codecs.
 */
export function weriftLoopbackH264(): ConstructorParameters<typeof RTCPeerConnection>[0] {
  return {
    codecs: {
      video: [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90000,
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        }),
      ],
    },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
  }
}

/** The reason `session` closes with, chained after the registry's own onClose (which forgets it). */
export function closeReason(session: WhepSession): Promise<string> {
  return new Promise<string>((resolve) => {
    const prev = session.onClose
    session.onClose = (s, reason) => {
      prev?.(s, reason)
      resolve(reason)
    }
  })
}
