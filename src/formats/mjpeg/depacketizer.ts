import { JPEG_EOI, buildJpegHeader, rfc2435QuantTables } from '../../codec/jpeg.js'
import { InvalidArgumentError } from '../../errors.js'
import type { RtpPacket } from '../../rtp/packet-types.js'
import type { AccessUnit, Depacketizer } from '../types.js'

export interface MjpegDepacketizerOptions {
  /** Bytes of scan data in one frame before it is dropped. Default 16 MiB. */
  maxFrameSize?: number
}

const NONE: readonly AccessUnit[] = Object.freeze([])

/**
 * RTP → JPEG frames (RFC 2435). Each frame's packets carry only the scan data and a small
 * header; the full JFIF-compatible file (SOI, DQT, DRI, SOF0, DHT, SOS, scan, EOI) is
 * rebuilt from it, one buffer per frame. Fragment offsets must run on without a gap: a frame
 * with a missing fragment is dropped and counted. Never throws on peer data.
 *
 *   0                   1                   2                   3
 *  | Type-specific |              Fragment Offset                  |
 *  |      Type     |       Q       |     Width     |     Height    |
 *  [ Restart Interval (16) |F|L|       Restart Count (14)         ]  types 64–127
 *  [      MBZ      |   Precision   |             Length            ]  Q ≥ 128, offset 0
 *  [                   Quantization Table Data ...                 ]
 */
export class MjpegDepacketizer implements Depacketizer {
  private _dropped = 0
  private readonly maxSize: number
  /** In-band tables of Q 128–254, which a sender may send once and then refer to (§4.2). */
  private readonly tableCache = new Map<number, Buffer[]>()

  private state: 'idle' | 'collecting' | 'skipping' = 'idle'
  private timestamp = 0
  private header: Buffer | undefined
  private readonly parts: Buffer[] = []
  private size = 0
  /** The last frame's header and what it was built from, to reuse it when nothing changed. */
  private lastKey = ''
  private lastTables: Buffer[] | undefined
  private lastHeader: Buffer | undefined

  constructor(opts: MjpegDepacketizerOptions = {}) {
    const max = opts.maxFrameSize ?? 16 * 1024 * 1024
    if (!Number.isInteger(max) || max <= 0) throw new InvalidArgumentError(`maxFrameSize must be a positive integer, got ${max}`)
    this.maxSize = max
  }

  get dropped(): number {
    return this._dropped
  }

  push(packet: RtpPacket): readonly AccessUnit[] {
    const p = packet.payload
    if (this.state !== 'idle' && packet.timestamp !== this.timestamp) {
      // The marker packet of the previous frame was lost: it cannot be complete.
      if (this.state === 'collecting') this._dropped++
      this.clear()
    }
    if (p.length < 8) {
      this.fail(packet.timestamp)
      return NONE
    }
    const offset = p.readUIntBE(1, 3)
    if (offset === 0) {
      if (this.state === 'collecting') this._dropped++
      this.clear()
      if (!this.start(packet)) {
        this.fail(packet.timestamp)
        return NONE
      }
    } else if (this.state !== 'collecting' || offset !== this.size) {
      // A fragment went missing (or the frame's start did): drop the frame, count it once.
      this.fail(packet.timestamp)
      return NONE
    } else {
      const data = p.subarray(8 + ((p[4]! & 0x40) !== 0 ? 4 : 0))
      if (!this.append(data)) {
        this.fail(packet.timestamp)
        return NONE
      }
    }
    if (!packet.marker) return NONE
    return [this.finish()]
  }

  reset(): void {
    if (this.state === 'collecting') this._dropped++
    this.clear()
  }

  /** The first packet of a frame: build the JPEG header from its fields. */
  private start(packet: RtpPacket): boolean {
    const p = packet.payload
    const type = p[4]!
    const q = p[5]!
    const width = p[6]! * 8
    const height = p[7]! * 8
    // Types 0/1 and, with restart markers, 64/65 (§4.1, §3.1.7); 2–63 and 66–127 are reserved, 128+ dynamic.
    if ((type & 0xbe) !== 0 || q === 0 || width === 0 || height === 0) return false
    let off = 8
    let restartInterval = 0
    if (type & 0x40) {
      if (p.length < off + 4) return false
      restartInterval = p.readUInt16BE(off)
      off += 4
    }
    let tables: Buffer[] | undefined
    if (q >= 128) {
      // Quantization table header (§3.1.8): tables in the first packet of the frame.
      if (p.length < off + 4) return false
      const precision = p[off + 1]!
      const length = p.readUInt16BE(off + 2)
      off += 4
      if (p.length < off + length) return false
      if (length > 0) {
        tables = []
        for (let o = off, i = 0; o < off + length; i++) {
          const size = (precision >> i) & 1 ? 128 : 64
          if (o + size > off + length) return false
          tables.push(Buffer.from(p.subarray(o, o + size)))
          o += size
        }
        if (q < 255) this.tableCache.set(q, tables)
      } else {
        tables = this.tableCache.get(q)
      }
      off += length
      if (!tables || tables.length === 0) return false
    }
    // The same Q (and the same cached tables) gives the same header: reuse it instead of rebuilding it per frame.
    const key = `${type & 1},${width},${height},${restartInterval},${q}`
    let header = this.lastHeader
    if (q === 255 || header === undefined || key !== this.lastKey || tables !== this.lastTables) {
      header = buildJpegHeader({ type: (type & 1) as 0 | 1, width, height, restartInterval, tables: tables ?? split(rfc2435QuantTables(q)) })
      this.lastHeader = header
      this.lastKey = key
      this.lastTables = tables
    }
    this.state = 'collecting'
    this.timestamp = packet.timestamp
    this.header = header
    return this.append(p.subarray(off))
  }

  private append(data: Buffer): boolean {
    if (this.size + data.length > this.maxSize) return false
    this.parts.push(data)
    this.size += data.length
    return true
  }

  /** Join header, scan data and EOI: the one copy per frame. */
  private finish(): AccessUnit {
    const header = this.header!
    const last = this.parts[this.parts.length - 1]
    // Some senders leave the EOI in the scan data; add one only when it is missing.
    const hasEoi = last !== undefined && last.length >= 2 && last[last.length - 2] === 0xff && last[last.length - 1] === 0xd9
    const jpeg = Buffer.allocUnsafe(header.length + this.size + (hasEoi ? 0 : 2))
    let o = header.copy(jpeg, 0)
    for (const part of this.parts) o += part.copy(jpeg, o)
    if (!hasEoi) JPEG_EOI.copy(jpeg, o)
    const unit: AccessUnit = { rtpTimestamp: this.timestamp, data: [jpeg], keyFrame: true }
    this.clear()
    return unit
  }

  /** Drop the frame at `timestamp` (counted once) and skip its remaining packets. */
  private fail(timestamp: number): void {
    if (this.state !== 'skipping') this._dropped++
    this.parts.length = 0
    this.size = 0
    this.header = undefined
    this.state = 'skipping'
    this.timestamp = timestamp
  }

  private clear(): void {
    this.parts.length = 0
    this.size = 0
    this.header = undefined
    this.state = 'idle'
  }
}

function split(tables: Buffer): Buffer[] {
  return [tables.subarray(0, 64), tables.subarray(64, 128)]
}
