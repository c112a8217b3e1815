import { InvalidArgumentError } from '../errors.js'

/**
 * (Over 400 lines: every RTCP packet type we read and write, with its wire diagram, in one place.)
 *
 * RTCP packets (RFC 3550 §6.4-6.6). Every packet starts with one common word:
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |V=2|P|   RC    |      PT       |  length (32-bit words - 1)    |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * and a datagram (or interleaved frame) carries a compound packet: several of them back
 * to back, starting with an SR or RR (§6.1).
 */
export const RTCP_SR = 200
export const RTCP_RR = 201
export const RTCP_SDES = 202
export const RTCP_BYE = 203
export const RTCP_APP = 204

/** SDES item types (RFC 3550 §6.5). */
export const SDES_CNAME = 1
export const SDES_NAME = 2
export const SDES_TOOL = 6

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch. */
export const NTP_UNIX_OFFSET_S = 2208988800
const TWO_32 = 0x100000000

/** A 64-bit NTP timestamp (RFC 3550 §4) as its two 32-bit words. */
export interface NtpTimestamp {
  /** Whole seconds since 1900-01-01 (modulo 2^32). */
  msw: number
  /** Fraction of a second, in units of 2^-32 s. */
  lsw: number
}

/** One reception report block (RFC 3550 §6.4.1). */
export interface ReportBlock {
  /** The source this block reports on (SSRC_n). */
  ssrc: number
  /** Packets lost since the previous report, as a fraction of 256 (0..255). */
  fractionLost: number
  /** Packets lost since reception began; signed 24 bits (duplicates make it negative). */
  cumulativeLost: number
  /** Extended highest sequence number: cycles in the high 16 bits. */
  highestSequence: number
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number
  /** Middle 32 bits of the NTP timestamp of the last SR received from the source, or 0. */
  lastSr: number
  /** Delay since that SR, in units of 1/65536 s, or 0. */
  delaySinceLastSr: number
}

/** SR (RFC 3550 §6.4.1). */
export interface SenderReport {
  type: 'sr'
  ssrc: number
  ntp: NtpTimestamp
  /** The NTP timestamp as seconds since 1900 (fractional). */
  ntpSeconds: number
  /** The NTP timestamp as milliseconds since the Unix epoch (fractional). */
  unixMs: number
  /** RTP timestamp of the same instant as `ntp`, in the sender's media clock. */
  rtpTimestamp: number
  packetCount: number
  octetCount: number
  reports: ReportBlock[]
}

/** RR (RFC 3550 §6.4.2). */
export interface ReceiverReport {
  type: 'rr'
  ssrc: number
  reports: ReportBlock[]
}

export interface SdesItem {
  /** 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV. */
  type: number
  value: string
}

export interface SdesChunk {
  ssrc: number
  /** The CNAME item's value, when the chunk has one. */
  cname?: string
  items: SdesItem[]
}

/** SDES (RFC 3550 §6.5). */
export interface SourceDescription {
  type: 'sdes'
  chunks: SdesChunk[]
}

/** BYE (RFC 3550 §6.6). */
export interface Goodbye {
  type: 'bye'
  ssrcs: number[]
  reason?: string
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye

/** Unix milliseconds → NTP timestamp (RFC 3550 §4). */
export function ntpFromDate(unixMs: number): NtpTimestamp {
  const seconds = Math.floor(unixMs / 1000)
  let lsw = Math.round(((unixMs - seconds * 1000) / 1000) * TWO_32)
  let msw = seconds + NTP_UNIX_OFFSET_S
  if (lsw >= TWO_32) {
    lsw -= TWO_32
    msw += 1
  }
  return { msw: msw >>> 0, lsw: lsw >>> 0 }
}

/**
 * NTP timestamp → Unix milliseconds. A `msw` below 2^31 is read as NTP era 1 (from
 * 2036-02-07 on), as RFC 4330 §3 suggests, so the 2036 rollover keeps working.
 */
export function ntpToUnixMs(ntp: NtpTimestamp): number {
  const seconds = ntp.msw < 0x80000000 ? ntp.msw + TWO_32 : ntp.msw
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (ntp.lsw / TWO_32) * 1000
}

/** The middle 32 bits of an NTP timestamp: the LSR field of a report block (§6.4.1). */
export function ntpMiddle32(ntp: NtpTimestamp): number {
  return (((ntp.msw & 0xffff) << 16) | (ntp.lsw >>> 16)) >>> 0
}

// ---------------------------------------------------------------------------------------
// Parsing

function readReportBlocks(buf: Buffer, offset: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = []
  for (let i = 0; i < count; i++, offset += 24) {
    reports.push({
      ssrc: buf.readUInt32BE(offset),
      fractionLost: buf[offset + 4]!,
      // Signed 24-bit: read the 3 bytes as the top of an int32, then shift back down.
      cumulativeLost: buf.readInt32BE(offset + 4) << 8 >> 8,
      highestSequence: buf.readUInt32BE(offset + 8),
      jitter: buf.readUInt32BE(offset + 12),
      lastSr: buf.readUInt32BE(offset + 16),
      delaySinceLastSr: buf.readUInt32BE(offset + 20),
    })
  }
  return reports
}

/** Parse one packet's body; `end` excludes padding. Undefined when it does not hold up. */
function parseOne(buf: Buffer, start: number, end: number, pt: number, count: number): RtcpPacket | undefined {
  switch (pt) {
    case RTCP_SR: {
      // Trailing profile-specific extensions (§6.4.1) are ignored.
      if (start + 28 + count * 24 > end) return undefined
      const ntp = { msw: buf.readUInt32BE(start + 8), lsw: buf.readUInt32BE(start + 12) }
      return {
        type: 'sr',
        ssrc: buf.readUInt32BE(start + 4),
        ntp,
        ntpSeconds: ntp.msw + ntp.lsw / TWO_32,
        unixMs: ntpToUnixMs(ntp),
        rtpTimestamp: buf.readUInt32BE(start + 16),
        packetCount: buf.readUInt32BE(start + 20),
        octetCount: buf.readUInt32BE(start + 24),
        reports: readReportBlocks(buf, start + 28, count),
      }
    }
    case RTCP_RR: {
      if (start + 8 + count * 24 > end) return undefined
      return { type: 'rr', ssrc: buf.readUInt32BE(start + 4), reports: readReportBlocks(buf, start + 8, count) }
    }
    case RTCP_SDES: {
      const chunks: SdesChunk[] = []
      let o = start + 4
      for (let c = 0; c < count; c++) {
        if (o + 4 > end) return undefined
        const chunk: SdesChunk = { ssrc: buf.readUInt32BE(o), items: [] }
        o += 4
        // Items until a zero type octet, then pad to the next 32-bit boundary (§6.5).
        for (;;) {
          if (o >= end) return undefined
          const type = buf[o]!
          if (type === 0) break
          if (o + 2 > end) return undefined
          const itemEnd = o + 2 + buf[o + 1]!
          if (itemEnd > end) return undefined
          const value = buf.toString('utf8', o + 2, itemEnd)
          chunk.items.push({ type, value })
          if (type === SDES_CNAME && chunk.cname === undefined) chunk.cname = value
          o = itemEnd
        }
        o = (o + 4 - start) & ~3
        o += start
        chunks.push(chunk)
      }
      return { type: 'sdes', chunks }
    }
    case RTCP_BYE: {
      const ssrcEnd = start + 4 + count * 4
      if (ssrcEnd > end) return undefined
      const ssrcs: number[] = []
      for (let o = start + 4; o < ssrcEnd; o += 4) ssrcs.push(buf.readUInt32BE(o))
      const bye: Goodbye = { type: 'bye', ssrcs }
      if (ssrcEnd < end) {
        const reasonEnd = ssrcEnd + 1 + buf[ssrcEnd]!
        if (reasonEnd <= end) bye.reason = buf.toString('utf8', ssrcEnd + 1, reasonEnd)
      }
      return bye
    }
    default:
      return undefined
  }
}

/**
 * Parse a compound RTCP packet (RFC 3550 §6.1). SR, RR, SDES and BYE come back in order;
 * other types (APP, RTPFB/PSFB feedback, XR, ...) and packets whose body contradicts its
 * own counts are skipped. Parsing stops at a header that is not RTCP version 2 or whose
 * length overruns the buffer. Returns undefined when not even the first header is valid.
 * Never throws.
 */
export function parseRtcpPacket(buf: Buffer): RtcpPacket[] | undefined {
  const packets: RtcpPacket[] = []
  let offset = 0
  let valid = false
  while (offset + 4 <= buf.length) {
    const b0 = buf[offset]!
    if ((b0 & 0xc0) !== 0x80) break
    const next = offset + (buf.readUInt16BE(offset + 2) + 1) * 4
    if (next > buf.length) break
    let end = next
    if ((b0 & 0x20) !== 0) {
      // §6.4.1: the last octet counts padding, itself included. The RFC allows padding
      // only on the last packet of a compound; it is honoured wherever it appears.
      end -= buf[next - 1]!
      if (end < offset + 4) break
    }
    valid = true
    const packet = parseOne(buf, offset, end, buf[offset + 1]!, b0 & 0x1f)
    if (packet) packets.push(packet)
    offset = next
  }
  return valid ? packets : undefined
}

/** True when the bytes look like RTCP rather than RTP (RFC 5761 §4: PT 192..223). */
export function isRtcp(buf: Buffer): boolean {
  return isRtcpAt(buf, 0, buf.length)
}

/** `isRtcp` of the bytes at `buf[start, end)` (a $-frame as a range of the read buffer). */
export function isRtcpAt(buf: Buffer, start: number, end: number): boolean {
  if (end - start < 4 || (buf[start]! & 0xc0) !== 0x80) return false
  const pt = buf[start + 1]!
  return pt >= 192 && pt <= 223
}

// ---------------------------------------------------------------------------------------
// Building

function u32(name: string, value: number): number {
  if (!Number.isInteger(value)) throw new InvalidArgumentError(`RTCP ${name} must be an integer, got ${value}`)
  return value >>> 0
}

function writeHeader(out: Buffer, offset: number, count: number, pt: number, byteLength: number): void {
  out[offset] = 0x80 | count
  out[offset + 1] = pt
  out.writeUInt16BE(byteLength / 4 - 1, offset + 2)
}

function writeReportBlocks(out: Buffer, offset: number, reports: readonly ReportBlock[]): void {
  for (const r of reports) {
    out.writeUInt32BE(u32('report SSRC', r.ssrc), offset)
    const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(r.cumulativeLost)))
    out.writeUInt32BE((((Math.max(0, Math.min(255, r.fractionLost)) & 0xff) << 24) | (lost & 0xffffff)) >>> 0, offset + 4)
    out.writeUInt32BE(u32('highest sequence', r.highestSequence), offset + 8)
    out.writeUInt32BE(u32('jitter', Math.trunc(r.jitter)), offset + 12)
    out.writeUInt32BE(u32('LSR', r.lastSr), offset + 16)
    out.writeUInt32BE(u32('DLSR', r.delaySinceLastSr), offset + 20)
    offset += 24
  }
}

function checkReports(reports: readonly ReportBlock[]): void {
  // RC is 5 bits; more sources would need a second RR in the compound.
  if (reports.length > 31) throw new InvalidArgumentError(`an RTCP report carries at most 31 report blocks, got ${reports.length}`)
}

function encodeText(name: string, text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8')
  if (bytes.length > 255) throw new InvalidArgumentError(`RTCP ${name} is ${bytes.length} bytes; at most 255 fit`)
  return bytes
}

/** SDES with one chunk holding a CNAME item (§6.5.1). */
function sdesLength(cname: Buffer): number {
  // header + SSRC + type + length + text + at least one zero octet, padded to 32 bits.
  return 8 + ((2 + cname.length + 1 + 3) & ~3)
}

function writeSdes(out: Buffer, offset: number, ssrc: number, cname: Buffer): void {
  const length = sdesLength(cname)
  writeHeader(out, offset, 1, RTCP_SDES, length)
  out.writeUInt32BE(ssrc, offset + 4)
  out[offset + 8] = SDES_CNAME
  out[offset + 9] = cname.length
  cname.copy(out, offset + 10)
  out.fill(0, offset + 10 + cname.length, offset + length)
}

function byeLength(reason: Buffer | undefined): number {
  return 8 + (reason ? (1 + reason.length + 3) & ~3 : 0)
}

function writeBye(out: Buffer, offset: number, ssrc: number, reason: Buffer | undefined): void {
  const length = byeLength(reason)
  writeHeader(out, offset, 1, RTCP_BYE, length)
  out.writeUInt32BE(ssrc, offset + 4)
  if (reason) {
    out[offset + 8] = reason.length
    reason.copy(out, offset + 9)
    out.fill(0, offset + 9 + reason.length, offset + length)
  }
}

interface CompoundTail {
  /** Our CNAME (RFC 3550 §6.5.1), e.g. `rtspkit@host`; at most 255 bytes of UTF-8. */
  cname: string
  /** Append a BYE for `ssrc` (§6.6: last in the compound), e.g. at TEARDOWN. */
  bye?: { reason?: string }
}

export interface ReceiverReportInit extends CompoundTail {
  /** Our own SSRC (the reporter). */
  ssrc: number
  reports?: readonly ReportBlock[]
}

export interface SenderReportInit extends CompoundTail {
  ssrc: number
  /** Wall clock of the instant `rtpTimestamp` refers to. */
  ntp: NtpTimestamp
  rtpTimestamp: number
  /** Taken modulo 2^32 (§6.4.1: the counters wrap). */
  packetCount: number
  octetCount: number
  reports?: readonly ReportBlock[]
}

function buildCompound(
  ssrc: number,
  firstLength: number,
  writeFirst: (out: Buffer) => void,
  tail: CompoundTail,
): Buffer {
  const cname = encodeText('CNAME', tail.cname)
  const reason = tail.bye?.reason !== undefined ? encodeText('BYE reason', tail.bye.reason) : undefined
  const sdes = sdesLength(cname)
  const total = firstLength + sdes + (tail.bye ? byeLength(reason) : 0)
  const out = Buffer.alloc(total)
  writeFirst(out)
  writeSdes(out, firstLength, ssrc, cname)
  if (tail.bye) writeBye(out, firstLength + sdes, ssrc, reason)
  return out
}

/** Compound RR + SDES CNAME (+ BYE), as a receiver sends it (RFC 3550 §6.1, §6.4.2). */
export function buildReceiverReport(init: ReceiverReportInit): Buffer {
  const reports = init.reports ?? []
  checkReports(reports)
  const ssrc = u32('SSRC', init.ssrc)
  const rrLength = 8 + reports.length * 24
  return buildCompound(ssrc, rrLength, (out) => {
    writeHeader(out, 0, reports.length, RTCP_RR, rrLength)
    out.writeUInt32BE(ssrc, 4)
    writeReportBlocks(out, 8, reports)
  }, init)
}

/** Compound SR + SDES CNAME (+ BYE), as a sender sends it (RFC 3550 §6.1, §6.4.1). */
export function buildSenderReport(init: SenderReportInit): Buffer {
  const reports = init.reports ?? []
  checkReports(reports)
  const ssrc = u32('SSRC', init.ssrc)
  const srLength = 28 + reports.length * 24
  return buildCompound(ssrc, srLength, (out) => {
    writeHeader(out, 0, reports.length, RTCP_SR, srLength)
    out.writeUInt32BE(ssrc, 4)
    out.writeUInt32BE(u32('NTP msw', init.ntp.msw), 8)
    out.writeUInt32BE(u32('NTP lsw', init.ntp.lsw), 12)
    out.writeUInt32BE(u32('RTP timestamp', init.rtpTimestamp), 16)
    out.writeUInt32BE(u32('packet count', init.packetCount), 20)
    out.writeUInt32BE(u32('octet count', init.octetCount), 24)
    writeReportBlocks(out, 28, reports)
  }, init)
}

/**
 * A lone RR with no report blocks (8 bytes). Not a valid compound on its own; it is the
 * NAT-opening packet sent to the server's RTCP port before PLAY, as FFmpeg and gortsplib do.
 */
export function buildEmptyReceiverReport(ssrc: number): Buffer {
  const out = Buffer.alloc(8)
  writeHeader(out, 0, 0, RTCP_RR, 8)
  out.writeUInt32BE(u32('SSRC', ssrc), 4)
  return out
}
