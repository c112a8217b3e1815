/**
 * mediabunny's demuxed tracks turned into SourceTracks and SourceFrames: codec details from the
 * decoder configuration (or, for MPEG-TS, the first sample), samples split into NAL units or raw
 * AAC frames, and the tracks merged in decode order with dts derived from pts.
 */
import { EncodedPacketSink, type EncodedPacket, type InputTrack } from '../util/mediabunny.js'
import { buildAudioSpecificConfig } from '../codec/aac-config.js'
import { parseAdtsHeader } from '../codec/adts.js'
import { parseAvcC, parseHvcC, splitLengthPrefixed } from '../codec/decoder-config.js'
import { H264NalType, nalType, splitAnnexB } from '../codec/h264-nal.js'
import { H265NalType, h265NalType, isH265Irap } from '../codec/h265-nal.js'
import { MediaError } from '../errors.js'
import { setAacConfig, videoDetails } from './track-details.js'
import type { SourceFrame, SourceTrack } from './types.js'

/** What a track needs to turn a demuxed sample into a SourceFrame. */
export interface TrackReader {
  track: InputTrack
  info: SourceTrack
  /** AVCC/HVCC NAL length field size; 0 = Annex B (MPEG-TS). */
  lengthSize: number
  /** MPEG-TS AAC arrives with ADTS headers. */
  adts: boolean
}

/** Frames kept ahead per track to derive decode times from presentation times (B-frame reorder depth). */
const REORDER_WINDOW = 16

export async function describeTrack(track: InputTrack): Promise<TrackReader | undefined> {
  if (track.isVideoTrack()) {
    const codec = await track.getCodec()
    if (codec !== 'avc' && codec !== 'hevc') return undefined
    const config = await track.getDecoderConfig()
    const desc = config?.description ? toBuffer(config.description) : undefined
    const info: SourceTrack = { type: 'video', codec: codec === 'avc' ? 'H264' : 'H265', clockRate: 90000, details: {} }
    let lengthSize = 0
    if (desc && desc.length > 0) {
      const parsed = codec === 'avc' ? parseAvcC(desc) : parseHvcC(desc)
      lengthSize = parsed.lengthSize
      info.details = videoDetails(info.codec, parsed.nalus)
    }
    info.details.width ??= await track.getCodedWidth()
    info.details.height ??= await track.getCodedHeight()
    if (config?.codec) info.details.codecString ??= config.codec
    return { track, info, lengthSize, adts: false }
  }
  if (track.isAudioTrack()) {
    const codec = await track.getCodec()
    const sampleRate = await track.getSampleRate()
    const channels = await track.getNumberOfChannels()
    if (codec === 'aac') {
      const config = await track.getDecoderConfig()
      const desc = config?.description ? toBuffer(config.description) : undefined
      const info: SourceTrack = { type: 'audio', codec: 'AAC', clockRate: sampleRate, details: { sampleRate, channels } }
      if (desc && desc.length >= 2) setAacConfig(info, desc)
      return { track, info, lengthSize: 0, adts: !desc || desc.length < 2 }
    }
    if (codec === 'opus') {
      // RFC 7587 §4.1: the Opus RTP clock is always 48 kHz.
      return { track, info: { type: 'audio', codec: 'OPUS', clockRate: 48000, details: { sampleRate: 48000, channels, codecString: 'opus' } }, lengthSize: 0, adts: false }
    }
  }
  return undefined
}

export async function completeFromFirstPacket(r: TrackReader): Promise<void> {
  const needsVideo = r.info.type === 'video' && (!r.info.details.sps || !r.info.details.pps)
  if (!needsVideo && !r.adts) return
  const sink = new EncodedPacketSink(r.track)
  const first = needsVideo ? await sink.getFirstKeyPacket() : await sink.getFirstPacket()
  if (!first) return
  if (r.adts) {
    const adts = parseAdtsHeader(Buffer.from(first.data.buffer, first.data.byteOffset, first.data.byteLength))
    if (!adts) throw new MediaError('MPEG-TS AAC track without ADTS headers')
    setAacConfig(r.info, buildAudioSpecificConfig({ objectType: adts.objectType, sampleRate: adts.sampleRate, channels: adts.channels }))
    return
  }
  const nalus = splitSample(r, first)
  const found = videoDetails(r.info.codec, nalus)
  r.info.details = { ...r.info.details, ...found }
}

function splitSample(r: TrackReader, p: EncodedPacket): Buffer[] {
  const buf = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength)
  if (r.info.type === 'audio') {
    if (!r.adts) return [buf]
    // One sample may carry several ADTS frames; mediabunny hands one, but be safe.
    const out: Buffer[] = []
    let o = 0
    while (o < buf.length) {
      const h = parseAdtsHeader(buf.subarray(o))
      if (!h || h.frameLength <= h.headerLength) break
      out.push(buf.subarray(o + h.headerLength, o + Math.min(h.frameLength, buf.length - o)))
      o += h.frameLength
    }
    return out.length > 0 ? out : [buf]
  }
  const nalus = r.lengthSize > 0 ? splitLengthPrefixed(buf, r.lengthSize) : splitAnnexB(buf)
  // Access unit delimiters mean nothing over RTP (RFC 6184 §5.3 leaves them optional); drop them.
  const aud = r.info.codec === 'H264' ? H264NalType.Aud : H265NalType.Aud
  const typeOf = r.info.codec === 'H264' ? nalType : h265NalType
  return nalus.filter((n) => n.length > 0 && typeOf(n[0]!) !== aud)
}

function isKey(r: TrackReader, p: EncodedPacket, nalus: readonly Buffer[]): boolean {
  if (r.info.type === 'audio') return true
  if (r.lengthSize > 0) return p.type === 'key'
  // Annex B (MPEG-TS): trust the NAL types over the container's random-access flag.
  if (r.info.codec === 'H264') return nalus.some((n) => nalType(n[0]!) === H264NalType.IdrSlice)
  return nalus.some((n) => isH265Irap(h265NalType(n[0]!)))
}

/** Per-track cursor: samples in decode order with dts derived from the pts of a small window. */
class TrackCursor {
  private readonly sink: EncodedPacketSink
  /** The last sample read; undefined before the first. */
  private last: EncodedPacket | undefined
  private readonly window: SourceFrame[] = []
  private done = false
  private lastDts = Number.NEGATIVE_INFINITY
  /** Reorder delay: how far the sorted-pts decode clock runs ahead of pts; fixed from the first window. */
  private delay: number | undefined
  /** pts of frames read but not yet used as a decode time, ascending. */
  private readonly pool: number[] = []

  constructor(private readonly reader: TrackReader, private readonly index: number, private readonly start: number) {
    // Samples one by one rather than through packets(): its prefetching pump costs two promises
    // per sample, and the window below already reads ahead.
    this.sink = new EncodedPacketSink(reader.track)
  }

  /** The next frame in decode order (dts filled in), or undefined at the end. */
  async next(): Promise<SourceFrame | undefined> {
    while (!this.done && this.window.length < REORDER_WINDOW) {
      const p = this.last === undefined ? await this.sink.getFirstPacket() : await this.sink.getNextPacket(this.last)
      if (p === null) {
        this.done = true
        break
      }
      this.last = p
      const data = splitSample(this.reader, p)
      const pts = p.timestamp - this.start
      this.window.push({ trackIndex: this.index, pts, dts: pts, keyFrame: isKey(this.reader, p, data), data })
      insertSorted(this.pool, pts)
    }
    const frame = this.window.shift()
    if (!frame) return undefined
    if (this.reader.info.type === 'video') {
      // dts = the i-th smallest pts (frames are decoded at the rate they are shown), shifted
      // back by the reorder delay so dts <= pts.
      if (this.delay === undefined) {
        const all = [frame, ...this.window]
        const sorted = all.map((f) => f.pts).sort((a, b) => a - b)
        let d = 0
        for (let i = 0; i < all.length; i++) d = Math.max(d, sorted[i]! - all[i]!.pts)
        this.delay = d
      }
      const min = this.pool.shift() ?? frame.pts
      let dts = Math.min(min - this.delay, frame.pts)
      if (dts < this.lastDts) dts = this.lastDts
      frame.dts = dts
    }
    this.lastDts = frame.dts
    return frame
  }

  close(): void {
    this.done = true
    this.window.length = 0
  }
}

function insertSorted(list: number[], v: number): void {
  let i = list.length
  while (i > 0 && list[i - 1]! > v) i--
  list.splice(i, 0, v)
}

export async function* mergeTracks(readers: readonly TrackReader[], start: number): AsyncGenerator<SourceFrame> {
  const cursors = readers.map((r, i) => new TrackCursor(r, i, start))
  const heads: (SourceFrame | undefined)[] = await Promise.all(cursors.map((c) => c.next()))
  try {
    for (;;) {
      let best = -1
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]
        if (h && (best < 0 || h.dts < heads[best]!.dts)) best = i
      }
      if (best < 0) return
      const frame = heads[best]!
      heads[best] = await cursors[best]!.next()
      yield frame
    }
  } finally {
    for (const c of cursors) c.close()
  }
}

function toBuffer(d: ArrayBufferLike | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
  return Buffer.from(d as ArrayBuffer)
}
