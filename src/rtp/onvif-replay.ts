/**
 * The RTP header extension of ONVIF replay (ONVIF Streaming Specification §6.3): the
 * recording's absolute time of each access unit, so a client can show when it was
 * captured whatever the playback speed or position.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |            0xABAC             |          length = 3           |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                    NTP timestamp (seconds)                    |
 *  |                    NTP timestamp (fraction)                   |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |C|E|D|T|  mbz  |     CSeq      |            padding            |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * C: the unit is a clean point (a key frame); E: the last unit of a contiguous section of
 * the recording; D: the first unit after a discontinuity (a gap, or a new PLAY); T: the
 * last unit the server will send for the request (added in Streaming 2.4; 0 before). CSeq:
 * the low byte of the PLAY request that produced the unit. The extension is carried at
 * least by the first packet of each access unit.
 */
import { ntpToUnixMs } from '../rtcp/packets.js'

const BLANK: Readonly<ReplayInfo> = { time: 0, cleanPoint: false, end: false, discontinuity: false, terminal: false, cseq: 0 }

/** The extension's profile (the 16 bits before its length). */
export const ONVIF_REPLAY_PROFILE = 0xabac

/** What the replay extension says of one access unit. */
export interface ReplayInfo {
  /** The recording's capture time, ms since the Unix epoch (from the NTP timestamp). */
  time: number
  /** C: a clean point (random access: a key frame). */
  cleanPoint: boolean
  /** E: the last unit before a gap in the recording. */
  end: boolean
  /** D: the first unit after a discontinuity (a gap, a seek, a new PLAY). */
  discontinuity: boolean
  /** T: the last unit of the requested range. */
  terminal: boolean
  /** Low 8 bits of the CSeq of the PLAY this unit answers. */
  cseq: number
}

/**
 * Read the extension from an RTP packet's extension profile and data (RtpPacketView's
 * `extensionProfile` and `extension`). Undefined when the packet carries another profile
 * or too short a one.
 */
export function parseOnvifReplayExtension(profile: number, data: Uint8Array | undefined): ReplayInfo | undefined {
  if (profile !== ONVIF_REPLAY_PROFILE || data === undefined || data.length < 12) return undefined
  const msw = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0
  const lsw = ((data[4]! << 24) | (data[5]! << 16) | (data[6]! << 8) | data[7]!) >>> 0
  const flags = data[8]!
  return {
    time: ntpToUnixMs({ msw, lsw }),
    cleanPoint: (flags & 0x80) !== 0,
    end: (flags & 0x40) !== 0,
    discontinuity: (flags & 0x20) !== 0,
    terminal: (flags & 0x10) !== 0,
    cseq: data[9]!,
  }
}

/** The 12 data bytes of the extension (after profile and length), for servers and tests. */
export function buildOnvifReplayExtension(info: Omit<ReplayInfo, 'cseq'> & { cseq?: number }): Buffer {
  const out = Buffer.alloc(12)
  const seconds = Math.floor(info.time / 1000)
  const fraction = Math.round(((info.time - seconds * 1000) / 1000) * 0x100000000)
  // NTP era 0 ends in 2036; the seconds word wraps modulo 2^32 (RFC 4330 §3).
  out.writeUInt32BE((seconds + 2208988800 + Math.floor(fraction / 0x100000000)) % 0x100000000, 0)
  out.writeUInt32BE(fraction % 0x100000000, 4)
  out[8] = (info.cleanPoint ? 0x80 : 0) | (info.end ? 0x40 : 0) | (info.discontinuity ? 0x20 : 0) | (info.terminal ? 0x10 : 0)
  out[9] = (info.cseq ?? 0) & 0xff
  return out
}

/**
 * Matches the extension of a track's packets to the access units made of them: the
 * depacketizer hands a unit out at its last packet or at the first packet of the next one,
 * so the extensions of the last two RTP timestamps seen are kept. A unit's time is that of
 * its last packet carrying the extension, its flags those of any of them: GStreamer's
 * rtponviftimestamp stamps every packet but sets C and D on the first only, and its first
 * packet after PLAY may carry the time it was made before PLAY (the media's preroll). One
 * per track; two info objects, refilled, so nothing is allocated per packet.
 */
export class ReplayTimes {
  private ts0 = -1
  private info0: ReplayInfo = { ...BLANK }
  private ts1 = -1
  private info1: ReplayInfo = { ...BLANK }

  /** A packet as received (before depacketizing). */
  onPacket(timestamp: number, profile: number, extension: Uint8Array | undefined): void {
    if (profile !== ONVIF_REPLAY_PROFILE || extension === undefined || extension.length < 12) return
    if (timestamp !== this.ts0) {
      // A new unit: the last one moves to the second slot, the oldest's object is refilled.
      const spare = this.info1
      this.info1 = this.info0
      this.ts1 = this.ts0
      this.info0 = Object.assign(spare, BLANK)
      this.ts0 = timestamp
    }
    const info = this.info0
    const msw = ((extension[0]! << 24) | (extension[1]! << 16) | (extension[2]! << 8) | extension[3]!) >>> 0
    const lsw = ((extension[4]! << 24) | (extension[5]! << 16) | (extension[6]! << 8) | extension[7]!) >>> 0
    const flags = extension[8]!
    info.time = ntpToUnixMs({ msw, lsw })
    info.cleanPoint ||= (flags & 0x80) !== 0
    info.end ||= (flags & 0x40) !== 0
    info.discontinuity ||= (flags & 0x20) !== 0
    info.terminal ||= (flags & 0x10) !== 0
    info.cseq = extension[9]!
  }

  /** A copy of the extension of the unit with this RTP timestamp, when one of its packets had it. */
  lookup(timestamp: number): ReplayInfo | undefined {
    if (timestamp === this.ts0) return { ...this.info0 }
    if (timestamp === this.ts1) return { ...this.info1 }
    return undefined
  }

  /** Forget (a new PLAY). */
  reset(): void {
    this.ts0 = this.ts1 = -1
  }
}

