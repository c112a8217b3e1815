/**
 * index.jsonl: one JSON line per segment opened (`segment-start`), closed (`segment`),
 * outage (`gap`), deletion and repair. Appended, never rewritten in place; file names are
 * relative to the index's directory (a recording moved whole still finds its files). Lines
 * wait in memory while the disk refuses them (full) and go with the next flush.
 */
import { dirname, relative, resolve } from 'node:path'
import { RecordingWriteError } from './record-fs.js'
import type { RecordFs } from './record-fs.js'
import type { RetainedSegment } from './retention.js'
import type { SegmentInfo } from './options.js'

export interface IndexLine {
  text: string
  /** Absolute path of the line's file, if it names one. */
  file: string | undefined
  type: string | undefined
  /** A gap's end (ms), NaN otherwise. */
  end: number
}

/** What an index says of a recording's files. */
export interface IndexState {
  lines: IndexLine[]
  /** Started and never closed: a crash. */
  open: Set<string>
  /** Closed and not deleted: retention's candidates. */
  closed: Map<string, RetainedSegment>
}

/** Rewrite index.jsonl at start when it has this many lines, mostly about deleted segments. */
const COMPACT_LINES = 2000

export class SegmentIndex {
  private pending: string[] = []

  constructor(
    private readonly fs: RecordFs,
    readonly path: string,
    private readonly onError: (e: RecordingWriteError) => void,
  ) {}

  /** Read the index (none yet: an empty recording); lines torn by a crash are skipped. */
  async read(): Promise<IndexState> {
    await this.fs.mkdir(dirname(this.path), { recursive: true }).catch(() => {})
    let text = ''
    try {
      text = await this.fs.readFile(this.path, 'utf8')
    } catch {
      // No index yet: a new recording.
    }
    const state: IndexState = { lines: [], open: new Set(), closed: new Map() }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      let rec: { type?: string; file?: string; bytes?: number; closedAt?: number; end?: string }
      try {
        rec = JSON.parse(line) as typeof rec
      } catch {
        continue // a line torn by a crash
      }
      const file = typeof rec.file === 'string' ? resolve(dirname(this.path), rec.file) : undefined
      state.lines.push({ text: line, file, type: rec.type, end: Date.parse(rec.end ?? '') })
      if (file === undefined) continue
      if (rec.type === 'segment-start') state.open.add(file)
      else if (rec.type === 'segment' || rec.type === 'repaired') {
        state.open.delete(file)
        state.closed.set(file, { file, bytes: rec.bytes ?? 0, closedAt: rec.closedAt ?? Date.now() })
      } else if (rec.type === 'deleted') state.closed.delete(file)
    }
    return state
  }

  /** Whether an index of `lines` lines about `live` files deserves compact(). */
  static wantsCompaction(lines: number, live: number): boolean {
    return lines >= COMPACT_LINES && lines > 4 * live
  }

  /**
   * Keep the lines of segments still on disk and the gaps since the oldest of them (minus
   * `slackS`), so an index of a recording that runs for months stays small. Written beside,
   * then renamed over the old one (atomic on POSIX): a crash leaves the old index or the new.
   */
  async compact(lines: readonly IndexLine[], kept: ReadonlyMap<string, RetainedSegment>, slackS: number): Promise<void> {
    const { writeFile, rename } = this.fs
    if (writeFile === undefined || rename === undefined) return
    const oldest = Math.min(...[...kept.values()].map((s) => s.closedAt), Date.now())
    const keep = lines.filter((l) => (l.file !== undefined ? kept.has(l.file) : l.type !== 'gap' || !(l.end < oldest - slackS * 1000)))
    const tmp = `${this.path}.tmp`
    try {
      await writeFile.call(this.fs, tmp, keep.map((l) => l.text + '\n').join(''))
      await rename.call(this.fs, tmp, this.path)
    } catch (err) {
      this.onError(new RecordingWriteError(this.path, err))
    }
  }

  /** Queue a line (its `file` made relative to the index); flush() writes it. */
  append(record: Record<string, unknown>): void {
    if (typeof record.file === 'string') record.file = relative(dirname(this.path), record.file)
    this.pending.push(JSON.stringify(record) + '\n')
  }

  /** Append queued lines; on failure they stay queued (disk full) and go with the next flush. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    const n = this.pending.length
    try {
      await this.fs.appendFile(this.path, text)
      this.pending.splice(0, n)
    } catch (err) {
      this.onError(new RecordingWriteError(this.path, err))
    }
  }
}

/** Seconds to the microsecond, for index lines. */
export function round(s: number): number {
  return Math.round(s * 1e6) / 1e6
}

/** The index line of a closed segment. */
export function segmentLine(info: SegmentInfo, closedAt: number): Record<string, unknown> {
  return {
    type: 'segment',
    file: info.file,
    start: new Date(info.start).toISOString(),
    end: new Date(info.end).toISOString(),
    duration: round(info.endPts - info.startPts),
    startPts: round(info.startPts),
    endPts: round(info.endPts),
    frames: info.frames,
    bytes: info.bytes,
    clock: info.clock,
    reason: info.reason,
    closedAt,
  }
}
