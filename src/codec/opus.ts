/**
 * Opus bitstream helpers: the TOC byte of a packet (RFC 6716 §3.1) for its duration, and the
 * OpusHead identification header (RFC 7845 §5.1) that MP4/Ogg muxers want as a description.
 */
import { InvalidArgumentError } from '../errors.js'

/** Frame size in 48 kHz samples for each TOC config 0..31 (RFC 6716 Table 2). */
const FRAME_SAMPLES: readonly number[] = [
  // SILK NB/MB/WB: 10, 20, 40, 60 ms
  480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880,
  // Hybrid SWB/FB: 10, 20 ms
  480, 960, 480, 960,
  // CELT NB/WB/SWB/FB: 2.5, 5, 10, 20 ms
  120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960,
]

/**
 * Samples (at 48 kHz) one Opus packet decodes to, from its TOC byte and, for code 3, the frame
 * count byte (RFC 6716 §3.2). Undefined for an empty or truncated packet.
 */
export function opusPacketSamples(packet: Uint8Array): number | undefined {
  const toc = packet[0]
  if (toc === undefined) return undefined
  const frame = FRAME_SAMPLES[toc >> 3]!
  const code = toc & 3
  if (code === 0) return frame
  if (code !== 3) return 2 * frame
  const count = packet[1]
  if (count === undefined) return undefined
  const n = count & 0x3f
  // §3.2.5: at most 120 ms per packet.
  return n === 0 || n * frame > 5760 ? undefined : n * frame
}

export interface OpusHeadInit {
  channels: number
  /** Samples (48 kHz) to drop at the start. Default 0: RTP carries no encoder delay (RFC 7587). */
  preSkip?: number
  /** The original input rate, informational. Default 48000. */
  inputSampleRate?: number
}

/**
 * The 19-byte OpusHead (RFC 7845 §5.1) for channel mapping family 0 (mono or stereo):
 *
 *   'OpusHead' | version 1 | channels | pre-skip (LE16) | input rate (LE32) | gain (LE16) | family 0
 */
export function buildOpusHead(init: OpusHeadInit): Buffer {
  const { channels } = init
  if (channels !== 1 && channels !== 2) throw new InvalidArgumentError(`an OpusHead for mapping family 0 has 1 or 2 channels, not ${channels}`)
  const head = Buffer.alloc(19)
  head.write('OpusHead', 0, 'latin1')
  head[8] = 1 // version
  head[9] = channels
  head.writeUInt16LE(init.preSkip ?? 0, 10)
  head.writeUInt32LE(init.inputSampleRate ?? 48000, 12)
  head.writeInt16LE(0, 16) // output gain
  head[18] = 0 // channel mapping family
  return head
}
