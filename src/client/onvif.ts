// The request headers ONVIF adds to RTSP (ONVIF Streaming Specification): the Require tags
// of the back-channel (§5.3.1) and of replay (§6.2), and replay's PLAY headers Rate-Control
// (§6.4) and Immediate (§6.5). Pure: the pull session merges them into its requests.
import { ONVIF_BACKCHANNEL_REQUIRE } from './backchannel.js'

/** The Require tag of ONVIF replay (Streaming §6.2). */
export const ONVIF_REPLAY_REQUIRE = 'onvif-replay'

/** ONVIF replay of a recorder (Streaming §6): `PullOptions.onvifReplay`. */
export interface OnvifReplayOptions {
  /**
   * Rate-Control (§6.4): false sends `Rate-Control: no`, the recorder sends as fast as it
   * can (a download; the frames keep their media timing). Default true: real time (no header).
   */
  rateControl?: boolean
  /** Immediate: yes (§6.5): the server drops what it queued for an earlier PLAY and starts at once. Default false. */
  immediate?: boolean
}

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
