/**
 * A media file (MP4, MOV, MPEG-TS) as a source of frames: opened with mediabunny's demuxer
 * (input/demux.ts) or, for a plain MP4/MOV when asked, indexed without it (input/mp4-index.ts),
 * held in memory when small (input/frame-table.ts), played in real time by input/pace.ts.
 */
import { open, stat } from 'node:fs/promises'
import { InvalidArgumentError, MediaError, UnsupportedError } from '../errors.js'
import type { TrackReader } from './demux.js'
import { FrameTable } from './frame-table.js'
import { readMp4Index } from './mp4-index.js'
import type { FileSource, FileSourceOptions } from './types.js'

export type { FileSource, FileSourceOptions, SourceFrame, SourceTrack } from './types.js'
export { paceFrames, playFrames, pumpFrames } from './pace.js'
export type { PaceOptions, PaceSource, PacedFrame } from './pace.js'

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
    if (size <= (options.inMemoryMaxBytes ?? 64 * 1024 * 1024)) bytes = await readWhole(path)
  } catch (err) {
    throw new InvalidArgumentError(`cannot read input file ${path}: ${(err as Error).message}`)
  }
  if (bytes !== undefined && options.mp4Index === true) {
    const index = readMp4Index(bytes)
    if (index !== undefined) {
      const table = index.table
      return {
        tracks: index.tracks,
        duration: index.duration,
        frames: () => table.replayAsync(),
        cachedFrames: () => table.replay(),
        close: async () => {},
      }
    }
  }
  // Loaded here, not with this module: a push of a plain MP4 (above) runs without it (issue 14).
  const { ALL_FORMATS, BufferSource, FilePathSource, Input } = await import('../util/mediabunny.js')
  const { completeFromFirstPacket, describeTrack, mergeTracks } = await import('./demux.js')
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

/**
 * The whole file in one read where the kernel allows (fs.promises.readFile reads 512 KiB at a
 * time, a thread-pool round trip each: ~50 for a 25 MB clip, ~25 % of the read's CPU; issue 14).
 */
async function readWhole(path: string): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const size = (await fh.stat()).size
    const buf = Buffer.allocUnsafeSlow(size)
    let n = 0
    while (n < size) {
      const { bytesRead } = await fh.read(buf, n, size - n, n)
      if (bytesRead === 0) break
      n += bytesRead
    }
    return n === size ? buf : buf.subarray(0, n)
  } finally {
    await fh.close()
  }
}
