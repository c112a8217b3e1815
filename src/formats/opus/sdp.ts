import type { MediaDescription } from '../../sdp/types.js'
import { sendMediaDescription } from '../../sdp/media.js'
import type { CodecDetails } from '../types.js'

/** RFC 7587 §4.1: the RTP clock of Opus is always 48 kHz, and the rtpmap always says /2. */
export const OPUS_CLOCK_RATE = 48000

/**
 * Channels of an Opus stream from its fmtp (RFC 7587 §6.1): `sprop-stereo` says what the
 * sender sends; without it `stereo` (what the receiver asked for); without either, 2 as in
 * the rtpmap (FFmpeg does the same; an Opus decoder outputs any packet in either layout).
 */
export function opusChannels(fmtp: Readonly<Record<string, string>> | undefined): 1 | 2 {
  const flag = fmtp?.['sprop-stereo'] ?? fmtp?.['stereo']
  if (flag === undefined) return 2
  return flag.trim() === '1' ? 2 : 1
}

export function opusDetails(fmtp: Readonly<Record<string, string>> | undefined): CodecDetails {
  return { sampleRate: OPUS_CLOCK_RATE, channels: opusChannels(fmtp), codecString: 'opus' }
}

/** A media description for an Opus track we send (ANNOUNCE): opus/48000/2 with sprop-stereo. */
export function opusMediaDescription(init: { channels: number; payloadType?: number; control?: string }): MediaDescription {
  const stereo = init.channels >= 2 ? '1' : '0'
  // RFC 7587 §7: always opus/48000/2, whatever is sent; stereo says what is.
  return sendMediaDescription({ type: 'audio', payloadType: init.payloadType ?? 111, encoding: 'opus', clockRate: OPUS_CLOCK_RATE, channels: 2, fmtp: { 'sprop-stereo': stereo, stereo }, control: init.control })
}
