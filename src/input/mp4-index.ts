// Over 400 lines because the box walk, the sample tables and the timestamps mediabunny derives
// from them must agree field by field: split, each half would only make sense beside the other.
/**
 * A fast index of a plain (non-fragmented) MP4 or MOV file held in memory, for `rtspkit push`:
 * the sample tables of its H.264 and AAC tracks (ISO/IEC 14496-12 §8.6.1.2 stts, §8.6.1.3
 * ctts, §8.7.3 stsz/stz2, §8.6.2 stss, §8.7.4 stsc, §8.7.5 stco/co64, §8.6.6 elst) read into
 * typed arrays and turned into the very frames input/demux.ts makes of mediabunny's demux
 * (same bytes, timestamps, key flags, codec details), without loading mediabunny: its bundle
 * and its demux were ~0.045 CPU-s of a push's start-up (issue 14).
 *
 * It answers undefined, and the caller demuxes with mediabunny, for anything else: fragmented
 * files, other codecs, encrypted tracks, several sample descriptions, an edit list mediabunny
 * reads partly, tables that disagree with each other or point past the file, any box that
 * does not fit its parent. Any error on the way is an undefined too, so mediabunny's path
 * reports it as it always did. Never throws; what it allocates is bounded by the boxes' sizes.
 */
import { parseAvcC } from '../codec/decoder-config.js'
import { H264NalType, nalType } from '../codec/h264-nal.js'
import { FrameTable } from './frame-table.js'
import { setAacConfig, videoDetails } from './track-details.js'
import type { SourceTrack } from './types.js'

export interface Mp4Index {
  tracks: SourceTrack[]
  /** Seconds from the first frame to the end of the last, as openFileSource reports it. */
  duration: number
  /** Every track's frames merged in decode order, their data views of the file. */
  table: FrameTable
}

/** Frames kept ahead per track to derive decode times (input/demux.ts TrackCursor). */
const REORDER_WINDOW = 16

export function readMp4Index(file: Buffer): Mp4Index | undefined {
  try {
    return readIndex(file)
  } catch {
    return undefined
  }
}

/** One box: where its content lies in the file. */
interface Box {
  type: string
  start: number
  end: number
}

/** The boxes from `start` to `end`, or undefined when one does not fit (or has size 0: to the end). */
function children(f: Buffer, start: number, end: number): Box[] | undefined {
  const out: Box[] = []
  let o = start
  while (o + 8 <= end) {
    let size = f.readUInt32BE(o)
    let header = 8
    if (size === 1) {
      if (o + 16 > end) return undefined
      size = f.readUInt32BE(o + 8) * 0x100000000 + f.readUInt32BE(o + 12)
      header = 16
    }
    if (size < header || o + size > end) return undefined
    out.push({ type: f.toString('latin1', o + 4, o + 8), start: o + header, end: o + size })
    o += size
  }
  return o === end ? out : undefined
}

/** The size field of the box at `o` (0 when it cannot be read: no box). */
function boxSize(f: Buffer, o: number): number {
  const size = f.readUInt32BE(o)
  if (size !== 1) return size
  return o + 16 <= f.length ? f.readUInt32BE(o + 8) * 0x100000000 + f.readUInt32BE(o + 12) : 0
}

/** The single child of a type; undefined when there is none, or several (mediabunny would keep the last). */
function only(boxes: readonly Box[], type: string): Box | undefined {
  let found: Box | undefined
  for (const b of boxes) {
    if (b.type !== type) continue
    if (found !== undefined) throw new Error(`several ${type}`)
    found = b
  }
  return found
}

function need(boxes: readonly Box[], type: string): Box {
  const b = only(boxes, type)
  if (b === undefined) throw new Error(`no ${type}`)
  return b
}

/** A bounds-checked reader over one box's content. */
class Cursor {
  constructor(
    private readonly f: Buffer,
    public o: number,
    private readonly end: number,
  ) {}
  private take(n: number): number {
    const at = this.o
    if (at + n > this.end) throw new Error('box too short')
    this.o += n
    return at
  }
  skip(n: number): void {
    this.take(n)
  }
  u8(): number {
    return this.f[this.take(1)]!
  }
  u16(): number {
    return this.f.readUInt16BE(this.take(2))
  }
  u32(): number {
    return this.f.readUInt32BE(this.take(4))
  }
  i32(): number {
    return this.f.readInt32BE(this.take(4))
  }
  u64(): number {
    const at = this.take(8)
    return this.f.readUInt32BE(at) * 0x100000000 + this.f.readUInt32BE(at + 4)
  }
  i64(): number {
    const at = this.take(8)
    return this.f.readInt32BE(at) * 0x100000000 + this.f.readUInt32BE(at + 4)
  }
  bytes(n: number): Buffer {
    const at = this.take(n)
    return this.f.subarray(at, at + n)
  }
  /** An entry count whose entries (`entryBytes` each) must fit in what is left. */
  count(entryBytes: number): number {
    const n = this.u32()
    if (n * entryBytes > this.end - this.o) throw new Error('count past the box')
    return n
  }
  /** ISO/IEC 14496-1 §8.3.3 expandable size: up to four bytes of 7 bits (as mediabunny reads it). */
  varint(): number {
    let v = 0
    for (let i = 0; i < 4; i++) {
      const b = this.u8()
      v = (v << 7) | (b & 0x7f)
      if ((b & 0x80) === 0) break
    }
    return v
  }
}

/** One track as the sample tables give it, before frames are made. */
interface TrackTables {
  info: SourceTrack
  lengthSize: number
  timescale: number
  /** mediabunny's editListOffset: media time subtracted from every presentation time. */
  editOffset: number
  /** Per sample, decode order. */
  count: number
  pts: Float64Array
  /** The stts delta of each sample (mediabunny's duration of the last one). */
  delta: Float64Array
  offset: Float64Array
  size: Uint32Array
  /** Video: 1 for sync samples (all when there is no stss). */
  key: Uint8Array | undefined
  hasCtts: boolean
}

function readIndex(f: Buffer): Mp4Index | undefined {
  // mediabunny walks the top-level boxes up to moov (a moof first: a fragmented file). A file
  // that does not start with ftyp may be another format to its probe.
  let moov: Box | undefined
  for (let o = 0, i = 0; o + 8 <= f.length && moov === undefined; i++) {
    const head = children(f, o, Math.min(f.length, o + boxSize(f, o)))
    const b = head?.[0]
    if (b === undefined || (i === 0 && b.type !== 'ftyp') || b.type === 'moof') return undefined
    if (b.type === 'moov') moov = b
    o = b.end
  }
  if (moov === undefined) return undefined
  const inMoov = children(f, moov.start, moov.end)
  if (inMoov === undefined || only(inMoov, 'mvex') !== undefined) return undefined
  const mvhd = new Cursor(f, need(inMoov, 'mvhd').start, need(inMoov, 'mvhd').end)
  const mvhdVersion = mvhd.u8()
  mvhd.skip(3)
  mvhd.skip(mvhdVersion === 1 ? 16 : 8)
  const movieTimescale = mvhd.u32()
  if (movieTimescale === 0) return undefined

  const tracks: TrackTables[] = []
  for (const trak of inMoov) {
    if (trak.type !== 'trak') continue
    const t = readTrack(f, trak, movieTimescale)
    if (t === null) continue
    if (t === undefined) return undefined
    tracks.push(t)
  }
  if (tracks.length === 0) return undefined

  // Input.getFirstTimestamp: the smallest timestamp of each track's first sample (decode order).
  let start = Number.POSITIVE_INFINITY
  for (const t of tracks) start = Math.min(start, (t.pts[0]! - t.editOffset) / t.timescale)
  // Input.computeDuration: the largest end of a track, the end of its last sample in presentation order.
  let end = Number.NEGATIVE_INFINITY
  for (const t of tracks) end = Math.max(end, trackEnd(t))
  const duration = Math.max(0, end - start)

  // Sample views of the file itself; the table keeps its ArrayBuffer and offsets into it.
  const table = new FrameTable(f.buffer)
  if (!fillTable(f, table, tracks, start)) return undefined
  table.finish()
  return { tracks: tracks.map((t) => t.info), duration, table }
}

/** A trak's tables; null for a track mediabunny does not list (neither video nor audio); undefined to fall back. */
function readTrack(f: Buffer, trak: Box, movieTimescale: number): TrackTables | null | undefined {
  const inTrak = children(f, trak.start, trak.end)
  if (inTrak === undefined) return undefined
  const mdia = only(inTrak, 'mdia')
  const inMdia = mdia && children(f, mdia.start, mdia.end)
  if (inMdia === undefined) return undefined
  const hdlr = need(inMdia, 'hdlr')
  if (hdlr.end - hdlr.start < 12) return undefined
  const handler = f.toString('latin1', hdlr.start + 8, hdlr.start + 12)
  if (handler !== 'vide' && handler !== 'soun') return null

  const tkhd = new Cursor(f, need(inTrak, 'tkhd').start, need(inTrak, 'tkhd').end)
  const tkhdVersion = tkhd.u8()
  if (tkhdVersion > 1) return undefined

  const mdhd = new Cursor(f, need(inMdia, 'mdhd').start, need(inMdia, 'mdhd').end)
  const mdhdVersion = mdhd.u8()
  if (mdhdVersion > 1) return undefined
  mdhd.skip(3 + (mdhdVersion === 1 ? 16 : 8))
  const timescale = mdhd.u32()
  if (timescale === 0) return undefined

  const minf = need(inMdia, 'minf')
  const inMinf = children(f, minf.start, minf.end)
  if (inMinf === undefined) return undefined
  const stbl = need(inMinf, 'stbl')
  const inStbl = children(f, stbl.start, stbl.end)
  if (inStbl === undefined) return undefined

  const entry = sampleEntry(f, need(inStbl, 'stsd'), handler)
  if (entry === undefined) return undefined
  const editOffset = editListOffset(f, inTrak, movieTimescale, timescale)
  if (editOffset === undefined) return undefined
  const tables = sampleTables(f, inStbl, handler === 'vide')
  if (tables === undefined) return undefined
  return { ...entry, timescale, editOffset, ...tables }
}

/** The one sample description of a track, as input/demux.ts describeTrack makes it of mediabunny's. */
function sampleEntry(f: Buffer, stsd: Box, handler: string): Pick<TrackTables, 'info' | 'lengthSize'> | undefined {
  const c = new Cursor(f, stsd.start, stsd.end)
  const stsdVersion = c.u8()
  c.skip(3)
  if (c.u32() !== 1) return undefined
  const entries = children(f, c.o, stsd.end)
  if (entries === undefined || entries.length !== 1) return undefined
  const e = entries[0]!
  const name = e.type.toLowerCase()
  const body = new Cursor(f, e.start, e.end)
  if (handler === 'vide') {
    if (name !== 'avc1' && name !== 'avc3') return undefined
    // ISO/IEC 14496-12 §12.1.3 VisualSampleEntry: 6 reserved, data_reference_index, 16 pre_defined/reserved, width, height, ...
    body.skip(6 + 2 + 2 + 2 + 12)
    body.skip(4)
    body.skip(4 + 4 + 4 + 2 + 32 + 2 + 2)
    const inEntry = children(f, body.o, e.end)
    // A protection scheme (sinf) means encrypted samples: mediabunny decrypts them.
    if (inEntry === undefined || only(inEntry, 'sinf') !== undefined) return undefined
    const avcC = only(inEntry, 'avcC')
    if (avcC === undefined || avcC.end === avcC.start) return undefined
    const parsed = parseAvcC(f.subarray(avcC.start, avcC.end))
    const info: SourceTrack = { type: 'video', codec: 'H264', clockRate: 90000, details: videoDetails('H264', parsed.nalus) }
    // Width, height and codec string from the SPS; mediabunny's own would be needed otherwise.
    if (info.details.codecString === undefined || info.details.width === undefined || info.details.height === undefined) return undefined
    return { info, lengthSize: parsed.lengthSize }
  }
  if (name !== 'mp4a') return undefined
  // §12.2.3 AudioSampleEntry, and QuickTime's sound description versions 1 and 2 (as mediabunny reads them).
  body.skip(6 + 2)
  const version = body.u16()
  body.skip(6 + 2 + 2 + 4 + 4)
  if (stsdVersion === 0 && version === 1) body.skip(16)
  else if (stsdVersion === 0 && version === 2) body.skip(36)
  let inEntry = children(f, body.o, e.end)
  if (inEntry === undefined || only(inEntry, 'sinf') !== undefined) return undefined
  let esds = only(inEntry, 'esds')
  const wave = only(inEntry, 'wave')
  if (wave !== undefined) {
    if (esds !== undefined) return undefined
    inEntry = children(f, wave.start, wave.end)
    esds = inEntry && only(inEntry, 'esds')
  }
  if (esds === undefined) return undefined
  const asc = audioSpecificConfig(f, esds)
  if (asc === undefined || asc.length < 2) return undefined
  const info: SourceTrack = { type: 'audio', codec: 'AAC', clockRate: 0, details: {} }
  setAacConfig(info, asc)
  return { info, lengthSize: 0 }
}

/** ISO/IEC 14496-1 §7.2.6.5 ES_Descriptor → DecoderConfigDescriptor (AAC) → DecoderSpecificInfo. */
function audioSpecificConfig(f: Buffer, esds: Box): Buffer | undefined {
  const c = new Cursor(f, esds.start, esds.end)
  c.skip(4)
  if (c.u8() !== 0x03) return undefined
  c.varint()
  c.skip(2)
  const flags = c.u8()
  if (flags & 0x80) c.skip(2)
  if (flags & 0x40) c.skip(c.u8())
  if (flags & 0x20) c.skip(2)
  if (c.u8() !== 0x04) return undefined
  const length = c.varint()
  const payloadStart = c.o
  const objectType = c.u8()
  // 0x40 MPEG-4 audio, 0x67 MPEG-2 AAC LC.
  if (objectType !== 0x40 && objectType !== 0x67) return undefined
  c.skip(1 + 3 + 4 + 4)
  if (length <= c.o - payloadStart) return undefined
  if (c.u8() !== 0x05) return undefined
  return c.bytes(c.varint())
}

/**
 * mediabunny's editListOffset (§8.6.6): the media time of the first edit that is not empty,
 * less the empty edits before it (in movie time) in the track's timescale. mediabunny reads
 * only that one edit: a rate other than 1 leaves the offset at 0.
 */
function editListOffset(f: Buffer, inTrak: readonly Box[], movieTimescale: number, timescale: number): number | undefined {
  const edts = only(inTrak, 'edts')
  if (edts === undefined) return 0
  const inEdts = children(f, edts.start, edts.end)
  if (inEdts === undefined) return undefined
  const elst = only(inEdts, 'elst')
  if (elst === undefined) return 0
  const c = new Cursor(f, elst.start, elst.end)
  const version = c.u8()
  c.skip(3)
  const n = c.count(version === 1 ? 20 : 12)
  let previous = 0
  let mediaTime = 0
  let empty = 0
  for (let i = 0; i < n; i++) {
    const segmentDuration = version === 1 ? c.u64() : c.u32()
    const time = version === 1 ? c.i64() : c.i32()
    const rate = c.i32() / 0x10000
    if (time === -1) {
      empty += segmentDuration
      continue
    }
    if (rate !== 1) break
    previous = empty
    mediaTime = time
    break
  }
  return mediaTime - Math.round((previous / movieTimescale) * timescale)
}

/** The sample tables into per-sample arrays (decode order), checked against each other. */
function sampleTables(f: Buffer, inStbl: readonly Box[], video: boolean): Omit<TrackTables, 'info' | 'lengthSize' | 'timescale' | 'editOffset'> | undefined {
  // stts: (count, delta) runs of decode times.
  const stts = new Cursor(f, need(inStbl, 'stts').start, need(inStbl, 'stts').end)
  stts.skip(4)
  const runs = stts.count(8)
  const runCount = new Uint32Array(runs)
  const runDelta = new Uint32Array(runs)
  let count = 0
  for (let i = 0; i < runs; i++) {
    runCount[i] = stts.u32()
    runDelta[i] = stts.u32()
    if (runCount[i] === 0) return undefined
    count += runCount[i]!
  }
  // Every sample takes at least a byte of the file or of a table: a count above that is a lie
  // that would allocate gigabytes below.
  if (count === 0 || count > f.length) return undefined

  // stsz / stz2 bound the sample count by their own size before anything per sample is allocated.
  const size = new Uint32Array(sampleSizes(f, inStbl, count) ?? [])
  if (size.length !== count) return undefined

  const pts = new Float64Array(count)
  const delta = new Float64Array(count)
  let s = 0
  let t = 0
  for (let i = 0; i < runs; i++) {
    const d = runDelta[i]!
    for (let j = 0; j < runCount[i]!; j++) {
      pts[s] = t + j * d
      delta[s++] = d
    }
    t += runCount[i]! * d
  }

  const ctts = only(inStbl, 'ctts')
  if (ctts !== undefined) {
    const c = new Cursor(f, ctts.start, ctts.end)
    c.skip(4)
    const n = c.count(8)
    let at = 0
    for (let i = 0; i < n; i++) {
      const k = c.u32()
      const off = c.i32()
      if (k === 0) return undefined
      for (let j = at; j < at + k && j < count; j++) pts[j]! += off
      at += k
    }
  }

  let key: Uint8Array | undefined
  if (video) {
    key = new Uint8Array(count)
    const stss = only(inStbl, 'stss')
    if (stss === undefined) key.fill(1)
    else {
      const c = new Cursor(f, stss.start, stss.end)
      c.skip(4)
      const n = c.count(4)
      // mediabunny marks the first sample a key frame when stss does not (a common writer mistake).
      let last = 0
      key[0] = 1
      for (let i = 0; i < n; i++) {
        const index = c.u32() - 1
        if (index === 0 && i === 0) continue
        if (index <= last) return undefined
        last = index
        if (index < count) key[index] = 1
      }
    }
  }

  const offset = sampleOffsets(f, inStbl, size, count)
  if (offset === undefined) return undefined
  return { count, pts, delta, offset, size, key, hasCtts: ctts !== undefined }
}

function sampleSizes(f: Buffer, inStbl: readonly Box[], count: number): Uint32Array | undefined {
  const stsz = only(inStbl, 'stsz')
  const stz2 = only(inStbl, 'stz2')
  if ((stsz === undefined) === (stz2 === undefined)) return undefined
  if (stsz !== undefined) {
    const c = new Cursor(f, stsz.start, stsz.end)
    c.skip(4)
    const fixed = c.u32()
    if (fixed !== 0) {
      // One size for every sample (whatever sample_count says: mediabunny keeps only the size).
      c.u32()
      if (count * fixed > f.length) return undefined
      return new Uint32Array(count).fill(fixed)
    }
    const n = c.count(4)
    if (n !== count) return undefined
    const out = new Uint32Array(n)
    for (let i = 0; i < n; i++) out[i] = c.u32()
    return out
  }
  const c = new Cursor(f, stz2!.start, stz2!.end)
  c.skip(4 + 3)
  const bits = c.u8()
  if (bits !== 4 && bits !== 8 && bits !== 16) return undefined
  const n = c.u32()
  if (n !== count || Math.ceil((n * bits) / 8) > stz2!.end - c.o) return undefined
  const out = new Uint32Array(n)
  const base = c.o
  for (let i = 0; i < n; i++) {
    if (bits === 16) out[i] = f.readUInt16BE(base + 2 * i)
    else if (bits === 8) out[i] = f[base + i]!
    else out[i] = i % 2 === 0 ? f[base + (i >> 1)]! >> 4 : f[base + (i >> 1)]! & 0x0f
  }
  return out
}

/** stsc runs of chunks and stco/co64 chunk offsets → each sample's offset; every sample inside the file. */
function sampleOffsets(f: Buffer, inStbl: readonly Box[], size: Uint32Array, count: number): Float64Array | undefined {
  const stco = only(inStbl, 'stco')
  const co64 = only(inStbl, 'co64')
  if ((stco === undefined) === (co64 === undefined)) return undefined
  const cc = new Cursor(f, (stco ?? co64)!.start, (stco ?? co64)!.end)
  cc.skip(4)
  const chunks = cc.count(stco !== undefined ? 4 : 8)
  const chunkOffset = new Float64Array(chunks)
  for (let i = 0; i < chunks; i++) chunkOffset[i] = stco !== undefined ? cc.u32() : cc.u64()

  const stsc = new Cursor(f, need(inStbl, 'stsc').start, need(inStbl, 'stsc').end)
  stsc.skip(4)
  const runs = stsc.count(12)
  const firstChunk = new Uint32Array(runs)
  const perChunk = new Uint32Array(runs)
  for (let i = 0; i < runs; i++) {
    firstChunk[i] = stsc.u32() - 1
    perChunk[i] = stsc.u32()
    stsc.u32()
    if (perChunk[i] === 0 || (i === 0 ? firstChunk[i] !== 0 : firstChunk[i]! <= firstChunk[i - 1]!)) return undefined
  }
  if (runs === 0) return undefined

  const offset = new Float64Array(count)
  let s = 0
  for (let r = 0; r < runs && s < count; r++) {
    const last = r + 1 < runs ? firstChunk[r + 1]! : Number.POSITIVE_INFINITY
    for (let chunk = firstChunk[r]!; chunk < last && s < count; chunk++) {
      if (chunk >= chunks) return undefined
      let o = chunkOffset[chunk]!
      for (let j = 0; j < perChunk[r]! && s < count; j++) {
        if (o + size[s]! > f.length) return undefined
        offset[s] = o
        o += size[s++]!
      }
    }
  }
  return s === count ? offset : undefined
}

/** mediabunny's InputTrack.computeDuration: the last sample in presentation order, its time plus its duration, to the timescale. */
function trackEnd(t: TrackTables): number {
  let last = t.count - 1
  if (t.hasCtts) {
    // The largest presentation time; of equal ones, the latest in decode order (a stable sort's last).
    last = 0
    for (let i = 1; i < t.count; i++) if (t.pts[i]! >= t.pts[last]!) last = i
  }
  const end = (t.pts[last]! - t.editOffset) / t.timescale + t.delta[last]! / t.timescale
  return Math.round(end * t.timescale) / t.timescale
}

/**
 * Presentation and decode times of one track in seconds from `start` (decode order), as
 * TrackCursor makes them: audio decodes when it is shown; video decode times come from the
 * presentation times (setDecodeTimes).
 */
function trackTimes(t: TrackTables, start: number): { pts: Float64Array; dts: Float64Array } {
  const pts = new Float64Array(t.count)
  for (let i = 0; i < t.count; i++) pts[i] = (t.pts[i]! - t.editOffset) / t.timescale - start
  return { pts, dts: t.key === undefined ? pts : decodeTimes(pts) }
}

/**
 * Video decode times as TrackCursor derives them: the i-th smallest presentation time of the
 * frames read so far (a window of REORDER_WINDOW ahead), less the reorder delay measured on the
 * first window, never above the frame's own pts and never going back.
 */
function decodeTimes(pts: Float64Array): Float64Array {
  const n = pts.length
  const dts = new Float64Array(n)
  const pool: number[] = []
  let read = 0
  let delay = 0
  let lastDts = Number.NEGATIVE_INFINITY
  for (let k = 0; k < n; k++) {
    while (read < n && read - k < REORDER_WINDOW) {
      const v = pts[read++]!
      let i = pool.length
      while (i > 0 && pool[i - 1]! > v) i--
      pool.splice(i, 0, v)
    }
    if (k === 0) {
      const sorted = Array.from(pts.subarray(0, read)).sort((a, b) => a - b)
      for (let i = 0; i < sorted.length; i++) delay = Math.max(delay, sorted[i]! - pts[i]!)
    }
    const min = pool.shift() ?? pts[k]!
    let d = Math.min(min - delay, pts[k]!)
    if (d < lastDts) d = lastDts
    dts[k] = d
    lastDts = d
  }
  return dts
}

/**
 * Every track's samples into the table in mergeTracks' order (the smallest dts next, the lower
 * track index on a tie), each video sample split at its length prefixes as splitSample does
 * (empty units and access unit delimiters left out). False when a length runs past its sample:
 * the demux throws there, so the caller falls back to it.
 */
function fillTable(f: Buffer, table: FrameTable, tracks: readonly TrackTables[], start: number): boolean {
  const times = tracks.map((t) => trackTimes(t, start))
  const at = tracks.map(() => 0)
  for (;;) {
    let best = -1
    for (let i = 0; i < tracks.length; i++) {
      if (at[i]! < tracks[i]!.count && (best < 0 || times[i]!.dts[at[i]!]! < times[best]!.dts[at[best]!]!)) best = i
    }
    if (best < 0) return true
    const t = tracks[best]!
    const i = at[best]!++
    const offset = t.offset[i]!
    const size = t.size[i]!
    table.beginFrame()
    if (t.key === undefined) {
      table.addFileNal(f.byteOffset + offset, size)
    } else {
      const end = offset + size
      const n = t.lengthSize
      let o = offset
      while (o + n <= end) {
        let len = 0
        for (let b = 0; b < n; b++) len = len * 256 + f[o + b]!
        o += n
        if (len === 0) continue
        if (o + len > end) return false
        if (nalType(f[o]!) !== H264NalType.Aud) table.addFileNal(f.byteOffset + o, len)
        o += len
      }
    }
    table.endFrame(best, times[best]!.pts[i]!, times[best]!.dts[i]!, t.key === undefined || t.key[i] === 1)
  }
}
