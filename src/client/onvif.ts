// The request headers ONVIF adds to RTSP (ONVIF Streaming Specification): the Require tags
// of the back-channel (§5.3.1) and of replay (§6.2), and replay's PLAY headers Rate-Control
// (§6.4) and Immediate (§6.5), merged by the pull session into its requests; and the
// replay extension's times (§6.3) carried from packets to frames.
import { ONVIF_BACKCHANNEL_REQUIRE } from './backchannel.js'
import type { Frame } from './track.js'
import type { OnvifReplayOptions } from './options.js'
import { ReplayTimes, type ReplayInfo } from '../rtp/onvif-replay.js'
import type { RtpPacketView } from '../rtp/packet.js'

/** The Require tag of ONVIF replay (Streaming §6.2). */
export const ONVIF_REPLAY_REQUIRE = 'onvif-replay'

export interface OnvifRequestHeaders {
  describe: Record<string, string>
  setup: Record<string, string>
  play: Record<string, string>
}

/**
 * The extra headers of DESCRIBE, SETUP and PLAY for a session that asks for the
 * back-channel and/or replay; all empty for neither. One Require header lists every tag
 * (RFC 2326 §12.32: a comma-separated list).
 */
export function onvifRequestHeaders(opts: { backchannel?: boolean; onvifReplay?: boolean | OnvifReplayOptions }): OnvifRequestHeaders {
  const replay = opts.onvifReplay === true ? {} : opts.onvifReplay === false ? undefined : opts.onvifReplay
  const tags: string[] = []
  if (opts.backchannel === true) tags.push(ONVIF_BACKCHANNEL_REQUIRE)
  if (replay !== undefined) tags.push(ONVIF_REPLAY_REQUIRE)
  const require: Record<string, string> = tags.length > 0 ? { Require: tags.join(', ') } : {}
  const play: Record<string, string> = { ...require }
  if (replay?.rateControl === false) play['Rate-Control'] = 'no'
  if (replay?.immediate === true) play.Immediate = 'yes'
  return { describe: { ...require }, setup: { ...require }, play }
}

/**
 * The replay extension of each received unit onto the frame made of it, for every track
 * of an onvifReplay session: packets → ReplayTimes (which unit's extension), units → a
 * FIFO per track (the timeline may hold units a while before it makes frames of them, in
 * order), frames → `frame.replay` and `frame.captureTime` (the recording's time).
 */
export class ReplayStamps {
  private readonly times: ReplayTimes[] = []
  private readonly pending: Array<Array<{ timestamp: number; info: ReplayInfo }>> = []

  /** A packet of track `index` (the receiver's packet view, before depacketizing). */
  packet(index: number, pkt: RtpPacketView): void {
    const t = (this.times[index] ??= new ReplayTimes())
    t.onPacket(pkt.timestamp, pkt.extensionProfile, pkt.extension)
  }

  /** A unit of track `index` completed by its depacketizer. */
  unit(index: number, rtpTimestamp: number): void {
    const info = this.times[index]?.lookup(rtpTimestamp)
    if (info === undefined) return
    const q = (this.pending[index] ??= [])
    // Bounded: units the timeline never turns into frames must not pile up.
    if (q.length >= MAX_PENDING) q.shift()
    q.push({ timestamp: rtpTimestamp, info })
  }

  /** A frame is about to be handed out: stamp it with its unit's extension. */
  frame(frame: Frame): void {
    const q = this.pending[frame.track.index]
    if (q === undefined) return
    const ts = frame.timestamp >>> 0 // the extended timestamp back to its 32 bits (ToUint32 is modulo 2^32)
    while (q.length > 0) {
      const head = q.shift()!
      if (head.timestamp !== ts) continue // a unit the timeline dropped
      frame.replay = head.info
      frame.captureTime = head.info.time
      return
    }
  }
}

const MAX_PENDING = 4096
