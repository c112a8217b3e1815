/**
 * One segment file: created without overwriting anything (a crashed run's file with the
 * same name gets a `_1` beside it), written by the recorder for its format, and finished:
 * finalized, closed, and after a write failure cut back to what plays (or removed when
 * nothing playable got out).
 */
import { dirname } from 'node:path'
import { createRecorder, formatFromPath } from '../output/recorder.js'
import { Fmp4FileRecorder } from '../output/fmp4-file/index.js'
import type { OutputFormat, Recorder, RecorderTrack } from '../output/types.js'
import { repairSegment } from './fmp4-repair.js'
import { RecordingWriteError, endStream, findErrno, openExclusive, withSuffix } from './record-fs.js'
import type { RecordFs } from './record-fs.js'

export interface SegmentWriter {
  file: string
  stream: NodeJS.WritableStream
  recorder: Recorder
  /** Finalize; `end` (pts) is where the next segment starts, when known (mp4: the last sample lasts until then). */
  finish: (end: number | undefined) => Promise<void>
}

/** Create the file for `base` (or `base_N` when taken); throws RecordingWriteError when it cannot be written. */
export async function createSegmentFile(fs: RecordFs, base: string): Promise<{ file: string; stream: NodeJS.WritableStream }> {
  let file = base
  try {
    await fs.mkdir(dirname(base), { recursive: true })
    // 'wx': never overwrite, not even a file of a crashed run with the same name.
    for (let n = 1; ; n++) {
      try {
        return { file, stream: await openExclusive(fs, file) }
      } catch (err) {
        if (findErrno(err) !== 'EEXIST' || n > 99) throw err
        file = withSuffix(base, n)
      }
    }
  } catch (err) {
    throw new RecordingWriteError(file, err)
  }
}

/**
 * The recorder of a new segment file. .mp4: our own fragment writer, flushed every
 * `flushInterval` s and at key frames; .mov/.ts: mediabunny's. A recorder that cannot be
 * created (nothing this format can hold) removes the file and throws.
 */
export async function openSegmentWriter(fs: RecordFs, created: { file: string; stream: NodeJS.WritableStream }, format: OutputFormat, tracks: RecorderTrack[], flushInterval: number | undefined): Promise<SegmentWriter> {
  const { file, stream } = created
  try {
    if (format === 'mp4') {
      const r = await Fmp4FileRecorder.create({ tracks, sink: stream, ...(flushInterval !== undefined ? { flushInterval } : {}) })
      return { file, stream, recorder: r, finish: (end) => r.finalize(end) }
    }
    const r = await createRecorder({ format, tracks, sink: stream })
    return { file, stream, recorder: r, finish: () => r.finalize() }
  } catch (err) {
    // Nothing this recording can hold (e.g. MJPEG only): no empty file left behind.
    await endStream(stream)
    await fs.unlink(file).catch(() => {})
    throw err
  }
}

/**
 * Finish a segment: `failure` is a write error already seen (then the recorder is only
 * closed), else finalize's own failure is returned. After a failure the file is cut back to
 * its playable prefix; `bytes` is what it holds, 0 when it was removed for holding nothing.
 */
export async function finishSegmentFile(fs: RecordFs, w: SegmentWriter, end: number | undefined, failure: unknown): Promise<{ failure: unknown; bytes: number }> {
  if (failure === undefined) {
    try {
      await w.finish(end)
    } catch (err) {
      failure = err
    }
  } else {
    await w.finish(undefined).catch(() => {})
  }
  await endStream(w.stream)
  let bytes = w.recorder.bytesWritten
  if (failure !== undefined) {
    // A torn last fragment (the write that failed): cut the file back to what plays.
    try {
      bytes = (await repairSegment(fs, w.file, containerOf(w.file))).after
      // Nothing playable got out (the disk was already full): no empty file left behind.
      if (bytes === 0) await fs.unlink(w.file).catch(() => {})
    } catch {
      // Could not even open it again: the index says what we know.
    }
  }
  return { failure, bytes }
}

/** The container repair reads a segment as. */
export function containerOf(file: string): 'mp4' | 'mov' | 'ts' {
  const f = formatFromPath(file)
  return f === 'ts' ? 'ts' : f === 'mov' ? 'mov' : 'mp4'
}
