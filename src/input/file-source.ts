import { readFile, stat } from 'node:fs/promises'
import { ALL_FORMATS, BufferSource, EncodedPacketSink, FilePathSource, Input, type EncodedPacket, type InputTrack } from 'mediabunny'
import { aacCodecString, buildAudioSpecificConfig, parseAudioSpecificConfig, AAC_SAMPLE_RATES } from '../codec/aac-config.js'
import { H264NalType, nalType, splitAnnexB } from '../codec/h264-nal.js'
import { H265NalType, h265NalType, isH265Irap } from '../codec/h265-nal.js'
import { InvalidArgumentError, MediaError, UnsupportedError } from '../errors.js'
import { h264DetailsFromParameterSets } from '../formats/h264/sdp.js'
import type { CodecDetails } from '../formats/types.js'

/** One elementary stream of a media file, in the terms the RTP side needs. */
export interface SourceTrack {
  type: 'video' | 'audio'
  codec: 'H264' | 'H265' | 'AAC' | 'OPUS' | (string & {})
  /** RTP clock: 90000 for video, the sample rate for AAC, 48000 for Opus. */
  clockRate: number
  /** sps/pps (and vps for H.265) without start codes, audioSpecificConfig, sampleRate, channels, codecString. */
  details: CodecDetails & { vps?: Buffer }
}

export interface SourceFrame {
  trackIndex: number
  /** Presentation time, seconds. */
  pts: number
  /** Decode time, seconds (never above pts; non-decreasing per track). */
  dts: number
  keyFrame: boolean
  /** H.264/H.265: NAL units without start codes or length prefixes. AAC/Opus: [raw frame]. */
  data: Buffer[]
}

export interface FileSource {
  tracks: SourceTrack[]
  /** Seconds from the first to the end of the last frame. */
  duration: number
  /** Frames of every track, merged in decode order; each call starts from the beginning. */
  frames(): AsyncIterable<SourceFrame>
  /**
   * The same frames, synchronously, for a file held in memory (demuxed once when opened):
   * fresh frame objects whose data are views of memory. Undefined for files read in chunks.
   */
  cachedFrames?(): Iterable<SourceFrame> | undefined
  close(): Promise<void>
}

/** What a track needs to turn a demuxed sample into a SourceFrame. */
interface TrackReader {
  track: InputTrack
  info: SourceTrack
  /** AVCC/HVCC NAL length field size; 0 = Annex B (MPEG-TS). */
  lengthSize: number
  /** MPEG-TS AAC arrives with ADTS headers. */
  adts: boolean
}

/** Frames kept ahead per track to derive decode times from presentation times (B-frame reorder depth). */
const REORDER_WINDOW = 16

export interface FileSourceOptions {
  /**
   * Files up to this size are read into memory once: samples are then views of that buffer
   * and every loop pass demuxes without a file read or a copy. Larger files are read in
   * chunks (mediabunny's FilePathSource, 8 MiB cache). Default 64 MiB.
   */
  inMemoryMaxBytes?: number
}

/**
 * Open an MP4, MOV or MPEG-TS file with mediabunny's demuxer. H.264/H.265 samples become
 * NAL unit lists (length prefixes or start codes removed), AAC samples raw frames (ADTS
 * headers removed), with SPS/PPS/VPS and the AudioSpecificConfig in `details`.
 * Timestamps are shifted so the file starts at 0.
 */
export async function openFileSource(path: string, options: FileSourceOptions = {}): Promise<FileSource> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch {
    throw new InvalidArgumentError(`cannot read input file ${path}: not found`)
  }
  let bytes: Buffer | undefined
  try {
    if (size <= (options.inMemoryMaxBytes ?? 64 * 1024 * 1024)) bytes = await readFile(path)
  } catch (err) {
    throw new InvalidArgumentError(`cannot read input file ${path}: ${(err as Error).message}`)
  }
  const input = new Input({ source: bytes !== undefined ? new BufferSource(bytes) : new FilePathSource(path), formats: ALL_FORMATS })
  try {
    if (!(await input.canRead())) throw new UnsupportedError(`${path}: unknown container; use MP4, MOV or MPEG-TS`)
    const readers: TrackReader[] = []
    for (const track of await input.getTracks()) {
      const reader = await describeTrack(track)
      if (reader) readers.push(reader)
    }
    if (readers.length === 0) throw new UnsupportedError(`${path}: no H.264, H.265, AAC or Opus track`)
    // MPEG-TS keeps parameter sets / ADTS config in-band only: read them from the first sample.
    for (const r of readers) await completeFromFirstPacket(r)
    const used = readers.map((r) => r.track)
    const start = await input.getFirstTimestamp(used)
    const end = await input.computeDuration(used)
    const duration = Math.max(0, end - start)
    // A file held in memory is demuxed once, here: every pass (a served file loops) replays
    // where each frame's NAL units lie, with no demuxer and no promise per frame.
    let table: FrameTable | undefined
    if (bytes !== undefined) {
      table = new FrameTable(bytes.buffer)
      let n = 0
      for await (const f of mergeTracks(readers, start)) {
        table.add(f)
        // Long files: let a running server breathe while this one is indexed.
        if (++n % 2000 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      table.finish()
      if (!table.complete) table = undefined
    }
    return {
      tracks: readers.map((r) => r.info),
      duration,
      frames: () => (table !== undefined ? table.replayAsync() : mergeTracks(readers, start)),
      cachedFrames: () => table?.replay(),
      close: async () => {
        input.dispose()
      },
    }
  } catch (err) {
    input.dispose()
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('RTSP_ERR_')) throw err
    throw new MediaError(`cannot demux ${path}: ${(err as Error).message}`, { cause: err })
  }
}

async function describeTrack(track: InputTrack): Promise<TrackReader | undefined> {
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

async function completeFromFirstPacket(r: TrackReader): Promise<void> {
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

function setAacConfig(info: SourceTrack, config: Buffer): void {
  const asc = parseAudioSpecificConfig(config)
  info.clockRate = asc.sampleRate
  info.details = {
    ...info.details,
    audioSpecificConfig: config,
    sampleRate: asc.sampleRate,
    channels: asc.channels,
    objectType: asc.objectType,
    codecString: aacCodecString(asc.objectType),
  }
}

function videoDetails(codec: string, nalus: readonly Buffer[]): SourceTrack['details'] {
  if (codec === 'H264') {
    const sps = nalus.find((n) => nalType(n[0]!) === H264NalType.Sps)
    const pps = nalus.find((n) => nalType(n[0]!) === H264NalType.Pps)
    try {
      return h264DetailsFromParameterSets(sps, pps)
    } catch {
      const d: CodecDetails = {}
      if (sps) d.sps = sps
      if (pps) d.pps = pps
      return d
    }
  }
  const d: SourceTrack['details'] = {}
  for (const n of nalus) {
    const t = h265NalType(n[0]!)
    if (t === H265NalType.Vps) d.vps ??= n
    else if (t === H265NalType.Sps) d.sps ??= n
    else if (t === H265NalType.Pps) d.pps ??= n
  }
  return d
}

/** ISO/IEC 14496-15 §5.3.3.1 AVCDecoderConfigurationRecord → length size + SPS/PPS. */
export function parseAvcC(buf: Buffer): { lengthSize: number; nalus: Buffer[] } {
  if (buf.length < 7 || buf[0] !== 1) throw new MediaError('malformed avcC box')
  const lengthSize = (buf[4]! & 3) + 1
  const nalus: Buffer[] = []
  let o = 5
  for (let kind = 0; kind < 2; kind++) {
    if (o >= buf.length) break
    const count = kind === 0 ? buf[o]! & 0x1f : buf[o]!
    o++
    for (let i = 0; i < count && o + 2 <= buf.length; i++) {
      const len = buf.readUInt16BE(o)
      if (o + 2 + len > buf.length) throw new MediaError('truncated avcC box')
      nalus.push(buf.subarray(o + 2, o + 2 + len))
      o += 2 + len
    }
  }
  return { lengthSize, nalus }
}

/** ISO/IEC 14496-15 §8.3.3.1 HEVCDecoderConfigurationRecord → length size + VPS/SPS/PPS. */
export function parseHvcC(buf: Buffer): { lengthSize: number; nalus: Buffer[] } {
  if (buf.length < 23) throw new MediaError('malformed hvcC box')
  const lengthSize = (buf[21]! & 3) + 1
  const arrays = buf[22]!
  const nalus: Buffer[] = []
  let o = 23
  for (let a = 0; a < arrays && o + 3 <= buf.length; a++) {
    const count = buf.readUInt16BE(o + 1)
    o += 3
    for (let i = 0; i < count && o + 2 <= buf.length; i++) {
      const len = buf.readUInt16BE(o)
      if (o + 2 + len > buf.length) throw new MediaError('truncated hvcC box')
      nalus.push(buf.subarray(o + 2, o + 2 + len))
      o += 2 + len
    }
  }
  return { lengthSize, nalus }
}

/** Split a length-prefixed sample into NAL units (views, no copy). */
export function splitLengthPrefixed(buf: Buffer, lengthSize: number): Buffer[] {
  const out: Buffer[] = []
  let o = 0
  while (o + lengthSize <= buf.length) {
    const len = lengthSize === 4 ? buf.readUInt32BE(o) : lengthSize === 2 ? buf.readUInt16BE(o) : lengthSize === 1 ? buf[o]! : buf.readUIntBE(o, 3)
    o += lengthSize
    if (len === 0) continue
    if (o + len > buf.length) throw new MediaError(`NAL unit length ${len} runs past the ${buf.length}-byte sample`)
    out.push(buf.subarray(o, o + len))
    o += len
  }
  return out
}

interface AdtsHeader {
  headerLength: number
  frameLength: number
  objectType: number
  sampleRate: number
  channels: number
}

/** ISO/IEC 13818-7 §6.2 adts_fixed_header + adts_variable_header. */
export function parseAdtsHeader(buf: Buffer): AdtsHeader | undefined {
  if (buf.length < 7 || buf[0] !== 0xff || (buf[1]! & 0xf6) !== 0xf0) return undefined
  const protectionAbsent = buf[1]! & 1
  const objectType = (buf[2]! >> 6) + 1
  const sampleRate = AAC_SAMPLE_RATES[(buf[2]! >> 2) & 0x0f]
  const channels = ((buf[2]! & 1) << 2) | (buf[3]! >> 6)
  const frameLength = ((buf[3]! & 3) << 11) | (buf[4]! << 3) | (buf[5]! >> 5)
  if (sampleRate === undefined) return undefined
  return { headerLength: protectionAbsent ? 7 : 9, frameLength, objectType, sampleRate, channels }
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

async function* mergeTracks(readers: readonly TrackReader[], start: number): AsyncGenerator<SourceFrame> {
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

/**
 * Where each frame of one pass lies in memory: numbers in packed arrays (about 40 bytes a
 * frame and 24 a NAL unit), so a long file costs no object per frame. NAL units of MP4/MOV
 * samples are views of the file; those the demuxer copied (MPEG-TS reassembles PES packets)
 * are copied once more into side chunks, at most the size of the file in all.
 */
class FrameTable {
  complete = false
  /** chunks[0] is the file. */
  private readonly chunks: ArrayBufferLike[]
  private side: Buffer | undefined
  private sideUsed = 0
  private readonly track: number[] = []
  private readonly pts: number[] = []
  private readonly dts: number[] = []
  private readonly key: number[] = []
  /** Frame i's NAL units are nalChunk/nalOffset/nalLength[nalStart[i] .. nalStart[i + 1]). */
  private readonly nalStart: number[] = []
  private readonly nalChunk: number[] = []
  private readonly nalOffset: number[] = []
  private readonly nalLength: number[] = []

  constructor(file: ArrayBufferLike) {
    this.chunks = [file]
  }

  add(f: SourceFrame): void {
    this.nalStart.push(this.nalOffset.length)
    for (const d of f.data) {
      if (d.buffer === this.chunks[0]) {
        this.nalChunk.push(0)
        this.nalOffset.push(d.byteOffset)
      } else {
        if (this.side === undefined || this.sideUsed + d.length > this.side.length) {
          this.side = Buffer.allocUnsafeSlow(Math.max(SIDE_CHUNK_BYTES, d.length))
          this.sideUsed = 0
          this.chunks.push(this.side.buffer)
        }
        d.copy(this.side, this.sideUsed)
        this.nalChunk.push(this.chunks.length - 1)
        this.nalOffset.push(this.side.byteOffset + this.sideUsed)
        this.sideUsed += d.length
      }
      this.nalLength.push(d.length)
    }
    this.track.push(f.trackIndex)
    this.pts.push(f.pts)
    this.dts.push(f.dts)
    this.key.push(f.keyFrame ? 1 : 0)
  }

  finish(): void {
    this.nalStart.push(this.nalOffset.length)
    this.complete = this.track.length > 0
    this.side = undefined
  }

  *replay(): Generator<SourceFrame> {
    const n = this.track.length
    for (let i = 0; i < n; i++) {
      const from = this.nalStart[i]!
      const to = this.nalStart[i + 1]!
      const data: Buffer[] = new Array(to - from)
      for (let j = from; j < to; j++) data[j - from] = Buffer.from(this.chunks[this.nalChunk[j]!]!, this.nalOffset[j]!, this.nalLength[j]!)
      yield { trackIndex: this.track[i]!, pts: this.pts[i]!, dts: this.dts[i]!, keyFrame: this.key[i] === 1, data }
    }
  }

  async *replayAsync(): AsyncGenerator<SourceFrame> {
    yield* this.replay()
  }
}

const SIDE_CHUNK_BYTES = 1024 * 1024

export interface PaceOptions {
  /** Start over at the end, timestamps continuing. */
  loop: boolean
  /** Release frames at their dts against the wall clock; false = as fast as the consumer takes them. */
  realtime: boolean
  signal?: AbortSignal
}

/**
 * Frames paced in real time by dts, with timestamps continuous across loops: each pass is
 * offset by max(duration, last dts + one frame interval) so nothing goes backwards.
 */
export async function* paceFrames(source: PaceSource, opts: PaceOptions): AsyncGenerator<PacedFrame> {
  const pacer = new Pacer(source, opts)
  try {
    for (;;) {
      const f = pacer.take()
      if (f !== undefined) {
        yield f
        continue
      }
      if (!(await pacer.advance())) return
    }
  } finally {
    pacer.stop()
  }
}

/**
 * The same frames as paceFrames, handed to `onFrame` as they fall due: a real-time pass
 * over a replayed file awaits nothing but one timer per wake-up (the frames due together go
 * out in one turn). Resolves at the end of the file (without `loop`) or on abort.
 */
export function playFrames(source: PaceSource, opts: PaceOptions, onFrame: (f: PacedFrame) => void): Promise<void> {
  const pacer = new Pacer(source, opts)
  return new Promise<void>((resolve, reject) => {
    const end = (err?: unknown): void => {
      pacer.stop()
      if (err !== undefined) reject(err)
      else resolve()
    }
    const step = (): void => {
      try {
        for (let f = pacer.take(); f !== undefined; f = pacer.take()) onFrame(f)
        if (pacer.stopped) return end()
        // A frame waits for its time: a bare timer calls back (abort calls back at once).
        if (pacer.wakeWhenDue(step)) return
        pacer.advance().then((more) => (more ? step() : end()), end)
      } catch (err) {
        end(err)
      }
    }
    step()
  })
}

export type PaceSource = Pick<FileSource, 'frames' | 'duration'> & Partial<Pick<FileSource, 'cachedFrames'>>
export type PacedFrame = SourceFrame & { loop: number }

/**
 * The pacing state shared by paceFrames and playFrames. take() returns the next frame when it
 * is due now (frames of a replayed pass are read synchronously); advance() does the waiting:
 * for the next frame of a demuxed pass, for its time, or for the next pass.
 */
class Pacer {
  private readonly signal: AbortSignal | undefined
  private offset = 0
  private epoch: number | undefined
  private loop = 0
  private pass: { sync: Iterator<SourceFrame> | undefined; async: AsyncIterator<SourceFrame> | undefined } | undefined
  private lastDts = Number.NEGATIVE_INFINITY
  private prevDts: number | undefined
  private step = 0
  private count = 0
  /** Read, offset, and waiting for its time. */
  private held: PacedFrame | undefined
  private done = false
  private timer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined
  /** The timer's callback, and abort's: wakes the waiter once. */
  private readonly fire = (): void => {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
  private readonly onAbort = (): void => {
    clearTimeout(this.timer)
    this.fire()
  }

  constructor(
    private readonly source: PaceSource,
    private readonly opts: PaceOptions,
  ) {
    this.signal = opts.signal
    this.signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  take(): PacedFrame | undefined {
    if (this.done || this.signal?.aborted) return undefined
    let f = this.held
    if (f === undefined) {
      const it = this.pass?.sync
      if (it === undefined) return undefined
      const r = it.next()
      if (r.done === true) return undefined
      f = this.admit(r.value)
    }
    if (this.opts.realtime && this.dueIn(f) > 1) {
      this.held = f
      return undefined
    }
    this.held = undefined
    return f
  }

  /** Ended or aborted. */
  get stopped(): boolean {
    return this.done || this.signal?.aborted === true
  }

  /** A frame is held for its time: call `fn` then (or on abort). False when none is held. */
  wakeWhenDue(fn: () => void): boolean {
    if (this.held === undefined) return false
    this.wake = fn
    this.timer = setTimeout(this.fire, this.dueIn(this.held))
    return true
  }

  /** Wait for what take() needs next. False once there is nothing more (end, or abort). */
  async advance(): Promise<boolean> {
    if (this.done || this.signal?.aborted) return false
    if (this.held !== undefined) {
      await this.sleep(this.dueIn(this.held))
      return !this.signal?.aborted
    }
    if (this.pass === undefined) {
      this.startPass()
      return true
    }
    const it = this.pass.async
    if (it !== undefined) {
      const r = await it.next()
      if (this.signal?.aborted) return false
      if (r.done !== true) {
        this.held = this.admit(r.value)
        return true
      }
    }
    // The pass ended.
    this.pass = undefined
    if (!this.opts.loop || this.count === 0) {
      this.done = true
      return false
    }
    // Next pass starts one frame after this one ended (at least the declared duration).
    const frameStep = this.step > 0 ? this.step : 0.04
    this.offset = Math.max(this.offset + this.source.duration, this.lastDts + frameStep)
    this.loop++
    this.startPass()
    return true
  }

  stop(): void {
    this.done = true
    clearTimeout(this.timer)
    this.signal?.removeEventListener('abort', this.onAbort)
    const it = this.pass?.async
    this.pass = undefined
    // Ends a demuxing pass left mid-way (its cursors are closed).
    void it?.return?.()?.catch(() => {})
  }

  private startPass(): void {
    this.lastDts = Number.NEGATIVE_INFINITY
    this.prevDts = undefined
    this.step = 0
    this.count = 0
    const cached = this.source.cachedFrames?.()
    this.pass = cached !== undefined ? { sync: cached[Symbol.iterator](), async: undefined } : { sync: undefined, async: this.source.frames()[Symbol.asyncIterator]() }
  }

  private admit(f: SourceFrame): PacedFrame {
    if (this.prevDts !== undefined && f.dts > this.prevDts) this.step = this.step === 0 ? f.dts - this.prevDts : Math.min(this.step, f.dts - this.prevDts)
    this.prevDts = f.dts
    const out = f as PacedFrame
    out.pts = f.pts + this.offset
    out.dts = f.dts + this.offset
    out.loop = this.loop
    if (out.dts > this.lastDts) this.lastDts = out.dts
    this.count++
    return out
  }

  /** Milliseconds until frame `f` is due (the first frame read sets the clock). */
  private dueIn(f: PacedFrame): number {
    const now = performance.now()
    this.epoch ??= now - f.dts * 1000
    return this.epoch + f.dts * 1000 - now
  }

  /** One timer, no listener per wait: the abort listener added once wakes the sleeper. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
      this.timer = setTimeout(this.fire, ms)
    })
  }
}

function toBuffer(d: ArrayBufferLike | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
  return Buffer.from(d as ArrayBuffer)
}
