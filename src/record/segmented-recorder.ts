/**
 * Record like an NVR: a pull (or a reconnecting supervisor) into a chain of files of about
 * `segment` seconds each, named from a strftime pattern, with an index.jsonl beside them
 * (one JSON line per segment opened, segment closed, outage, deletion, repair), retention by
 * age and size, and recovery of a segment a crash left unfinished.
 *
 * One file: the segment state machine, the index and retention share the same ordering
 * (everything runs in one serialized chain), which splitting would only hide.
 *
 * Segments cut at the primary video track's key frames: a segment closes at the first key
 * frame at least `segment` seconds after its own first one, and that key frame opens the
 * next, so the segments tile the stream (the end of one is the start of the next). Audio
 * whose pts is before the cut, arriving after the key frame, still goes to the old segment
 * (it is kept open until every audio track has passed the cut, or one second at most).
 */
import { EventEmitter } from 'node:events'
import { createWriteStream } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { dirname, join, basename, extname, relative, resolve } from 'node:path'
import { createRecorder, formatFromPath } from '../output/recorder.js'
import type { OutputFormat, Recorder, RecorderTrack } from '../output/types.js'
import type { Frame, Track } from '../client/track.js'
import { PullSupervisor } from '../client/supervisor.js'
import type { OutageEvent } from '../client/supervisor.js'
import type { PullSession } from '../client/pull-session.js'
import { InvalidArgumentError, OutputError, RtspError } from '../errors.js'
import { checkSegmentPath, formatName, staticDirectory } from './strftime.js'
import { parseDuration, parseSize } from './units.js'
import { repairSegment } from './fmp4-repair.js'
import type { RepairFs } from './fmp4-repair.js'
import { segmentsToDelete } from './retention.js'
import type { RetainedSegment } from './retention.js'

/** Where wall-clock times come from: the camera's RTCP sender reports (NTP), or this machine. */
export type WallClockSource = 'camera' | 'local'

/** What the recorder needs of the file system; tests inject failures (ENOSPC) through it. */
export interface RecordFs extends RepairFs {
  createWriteStream(path: string, options: { flags: string }): NodeJS.WritableStream
  appendFile(path: string, data: string): Promise<void>
  readFile(path: string, encoding: 'utf8'): Promise<string>
  mkdir(path: string, options: { recursive: true }): Promise<unknown>
  unlink(path: string): Promise<void>
  stat(path: string): Promise<{ size: number }>
  /** For compacting the index (write a new one, then rename it over the old); without them it only grows. */
  writeFile?(path: string, data: string): Promise<void>
  rename?(from: string, to: string): Promise<void>
}

const NODE_FS: RecordFs = {
  createWriteStream: (path, options) => createWriteStream(path, options),
  appendFile: (path, data) => fsp.appendFile(path, data),
  readFile: (path, encoding) => fsp.readFile(path, encoding),
  mkdir: (path, options) => fsp.mkdir(path, options),
  unlink: (path) => fsp.unlink(path),
  stat: (path) => fsp.stat(path),
  open: (path, flags) => fsp.open(path, flags),
  writeFile: (path, data) => fsp.writeFile(path, data),
  rename: (from, to) => fsp.rename(from, to),
}

export interface SegmentedRecorderOptions {
  /** File name pattern with strftime conversions, e.g. `rec/cam1/%Y-%m-%d_%H-%M-%S.mp4`; .mp4, .mov or .ts. */
  path: string
  /** Segment length: seconds, or `10s`, `10m`, `1h`. Default 10 minutes. */
  segment?: number | string
  /** Delete segments older than this: seconds, or `7d`, `12h`. */
  keep?: number | string
  /** Delete the oldest segments while the recording's segments exceed this: bytes, or `50GB`. */
  maxSize?: number | string
  /** Name files in UTC instead of local time. */
  utc?: boolean
  /** index.jsonl by default in the pattern's directory (before its first conversion). */
  indexPath?: string
  /** After a write failure (disk full, permission denied), try a new segment this often (ms). Default 5000. */
  retryMs?: number
  /** A file system stand-in (tests). */
  fs?: RecordFs
}

/** A closed segment, as its index line says. */
export interface SegmentInfo {
  file: string
  /** Wall-clock ms of the first frame. */
  start: number
  /** Wall-clock ms where the segment ends (= the next segment's start when cut at a key frame). */
  end: number
  /** On the session's timeline (seconds): first frame's pts, and where the segment ends. */
  startPts: number
  endPts: number
  frames: number
  bytes: number
  clock: WallClockSource
  /** Why it closed: `segment` (its length reached), `outage`, `stop`, `error`. */
  reason: 'segment' | 'outage' | 'stop' | 'error'
}

/** A time without media: the source dropped and came back (or the recording stopped meanwhile). */
export interface GapInfo {
  /** Wall-clock ms (this machine's clock) of the drop and of the return. */
  start: number
  end: number
  cause: string
  code: string
}

/** A write failed: the path, the OS error code (ENOSPC, EACCES, EROFS...); recording resumes when a new segment can be written. */
export class RecordingWriteError extends OutputError {
  readonly path: string
  readonly errno: string | undefined
  constructor(path: string, cause: unknown) {
    const errno = findErrno(cause)
    const why =
      errno === 'ENOSPC'
        ? 'the disk is full; free space (or lower --keep/--max-size) and recording resumes'
        : errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS'
          ? 'permission denied; make the directory writable and recording resumes'
          : errno === 'ENOTDIR' || errno === 'ENOENT'
            ? 'the directory cannot be created (a file stands in its path?)'
            : 'recording resumes with a new segment when writing works again'
    super(`cannot write ${path}: ${errno ?? (cause instanceof Error ? cause.message : String(cause))}; ${why}`, { cause })
    this.path = path
    this.errno = errno
  }
}

export interface SegmentedRecorderEvents {
  /** A segment file was created (its first frame is a key frame). */
  'segment-start': [info: { file: string; start: number; startPts: number; clock: WallClockSource }]
  /** A segment was closed: complete and playable. */
  segment: [info: SegmentInfo]
  /** An outage ended (logged in the index). */
  gap: [info: GapInfo]
  /** A segment was deleted by retention. */
  deleted: [info: { file: string; bytes: number; reason: 'keep' | 'max-size' }]
  /** A file left unfinished by a crash was truncated to its playable part. */
  repaired: [info: { file: string; before: number; after: number }]
  /** Writing failed; frames are dropped until a new segment can be written (retried every retryMs). */
  'write-error': [error: RecordingWriteError]
  /** The source ended and the last segment is closed; `error` is why the source ended, if it failed. */
  close: [error: RtspError | undefined]
}


interface OpenSegment {
  file: string
  format: OutputFormat
  stream: NodeJS.WritableStream
  recorder: Recorder
  start: number
  startPts: number
  clock: WallClockSource
  /** Largest pts written (any track). */
  lastPts: number
  /** The primary video track's last pts and frame interval: the file's media ends one interval after it. */
  lastVideoPts: number
  videoInterval: number
  failed: RecordingWriteError | undefined
}

interface IndexSegmentLine {
  type: 'segment'
  file: string
  bytes: number
  closedAt: number
}

const DEFAULT_SEGMENT_S = 600
/** Rewrite index.jsonl at start when it has this many lines, mostly about deleted segments. */
const COMPACT_LINES = 2000
const TAIL_WAIT_S = 1

/**
 * Record `session` (a PullSession, or a PullSupervisor for `--reconnect`) into segments.
 * Reads `session.frames()`: the recorder is the session's consumer. Resolves once the
 * index is read, crashed segments repaired and old ones pruned; recording runs until the
 * session ends (`done` resolves) or `stop()` is called.
 */
export async function createSegmentedRecorder(session: PullSession | PullSupervisor, options: SegmentedRecorderOptions): Promise<SegmentedRecorder> {
  const r = new SegmentedRecorder(session, options)
  await r.prepare()
  r.run()
  return r
}

export class SegmentedRecorder extends EventEmitter<SegmentedRecorderEvents> {
  readonly pattern: string
  readonly format: OutputFormat
  readonly segmentS: number
  readonly keepS: number | undefined
  readonly maxBytes: number | undefined
  readonly indexPath: string
  /** Resolves when the source has ended and every segment is closed. */
  readonly done: Promise<void>

  private readonly fs: RecordFs
  private readonly utc: boolean
  private readonly retryMs: number
  private readonly tracks: readonly Track[]
  private readonly primaryVideo: number
  private current: OpenSegment | undefined
  /** The previous segment, kept open for audio from before the cut. */
  private tail: { seg: OpenSegment; cut: number; waiting: Set<number>; reason: SegmentInfo['reason'] } | undefined
  private finished: RetainedSegment[] = []
  private chain: Promise<void> = Promise.resolve()
  private parked = false
  private closeWhenIdle = false
  private retryAt = 0
  private anchor: { pts: number; wall: number } | undefined
  private readonly sessionStarts = new WeakSet<object>()
  private pendingIndex: string[] = []
  private stopped = false
  private resolveDone!: () => void
  /** Frames written to closed and open segments. */
  framesWritten = 0
  /** Frames not written: before the first key frame, during a write failure. */
  framesDropped = 0
  /** Bytes in the segments this recorder wrote. */
  bytesWritten = 0

  /** @hidden Use createSegmentedRecorder(). */
  constructor(
    private readonly session: PullSession | PullSupervisor,
    options: SegmentedRecorderOptions,
  ) {
    super()
    if (typeof options?.path !== 'string' || options.path === '') throw new InvalidArgumentError('path must be a file name pattern such as rec/cam1/%Y-%m-%d_%H-%M-%S.mp4')
    checkSegmentPath(options.path)
    const format = formatFromPath(options.path.replace(/%./g, 'x'))
    if (format !== 'mp4' && format !== 'mov' && format !== 'ts') {
      throw new InvalidArgumentError(`segments are written as .mp4, .mov or .ts, not "${extname(options.path) || options.path}"`)
    }
    this.pattern = options.path
    this.format = format
    this.segmentS = options.segment === undefined ? DEFAULT_SEGMENT_S : parseDuration('segment', options.segment)
    this.keepS = options.keep === undefined ? undefined : parseDuration('keep', options.keep)
    this.maxBytes = options.maxSize === undefined ? undefined : parseSize('maxSize', options.maxSize)
    this.indexPath = options.indexPath ?? join(staticDirectory(options.path), 'index.jsonl')
    this.fs = options.fs ?? NODE_FS
    this.utc = options.utc ?? false
    this.retryMs = options.retryMs ?? 5000
    this.tracks = session.tracks
    this.primaryVideo = this.tracks.findIndex((t) => t.type === 'video')
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
  }

  /** @hidden Read the index: finished segments (for retention), segments a crash left open (repaired). */
  async prepare(): Promise<void> {
    await this.fs.mkdir(dirname(this.indexPath), { recursive: true }).catch(() => {})
    let text = ''
    try {
      text = await this.fs.readFile(this.indexPath, 'utf8')
    } catch {
      // No index yet: a new recording.
    }
    const open = new Set<string>()
    const closed = new Map<string, RetainedSegment>()
    const lines: Array<{ text: string; file: string | undefined; type: string | undefined; end: number }> = []
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      let rec: { type?: string; file?: string; bytes?: number; closedAt?: number; end?: string }
      try {
        rec = JSON.parse(line) as typeof rec
      } catch {
        continue // a line torn by a crash
      }
      lines.push({ text: line, file: typeof rec.file === 'string' ? resolve(dirname(this.indexPath), rec.file) : undefined, type: rec.type, end: Date.parse(rec.end ?? '') })
      if (typeof rec.file !== 'string') continue
      // Names in the index are relative to its directory (the recording can be moved whole).
      rec.file = resolve(dirname(this.indexPath), rec.file)
      if (rec.type === 'segment-start') open.add(rec.file)
      else if (rec.type === 'segment' || rec.type === 'repaired') {
        open.delete(rec.file)
        closed.set(rec.file, { file: rec.file, bytes: rec.bytes ?? 0, closedAt: rec.closedAt ?? Date.now() })
      } else if (rec.type === 'deleted') closed.delete(rec.file)
    }
    for (const file of open) {
      const fmt = formatFromPath(file)
      try {
        const r = await repairSegment(this.fs, file, fmt === 'ts' ? 'ts' : fmt === 'mov' ? 'mov' : 'mp4')
        closed.set(file, { file, bytes: r.after, closedAt: Date.now() })
        this.appendIndex({ type: 'repaired', file, bytes: r.after, before: r.before, closedAt: Date.now() })
        this.notify('repaired', { file, before: r.before, after: r.after })
      } catch {
        // Gone (deleted by hand): nothing to repair.
        this.appendIndex({ type: 'deleted', file, reason: 'missing' })
      }
    }
    this.finished = [...closed.values()].sort((a, b) => a.closedAt - b.closedAt)
    if (lines.length >= COMPACT_LINES && lines.length > 4 * (closed.size + open.size)) await this.compactIndex(lines, closed)
    await this.flushIndex()
    await this.prune()
  }

  /**
   * Keep the lines of segments still on disk and the gaps since the oldest of them, so an
   * index of a recording that runs for months stays small. Written beside, then renamed
   * over the old one (atomic on POSIX): a crash leaves the old index or the new one.
   */
  private async compactIndex(lines: Array<{ text: string; file: string | undefined; type: string | undefined; end: number }>, kept: ReadonlyMap<string, RetainedSegment>): Promise<void> {
    const { writeFile, rename } = this.fs
    if (writeFile === undefined || rename === undefined) return
    const oldest = Math.min(...[...kept.values()].map((s) => s.closedAt), Date.now())
    const keep = lines.filter((l) => (l.file !== undefined ? kept.has(l.file) : l.type !== 'gap' || !(l.end < oldest - this.segmentS * 1000)))
    const tmp = `${this.indexPath}.tmp`
    try {
      await writeFile.call(this.fs, tmp, keep.map((l) => l.text + '\n').join(''))
      await rename.call(this.fs, tmp, this.indexPath)
    } catch (err) {
      this.notify('write-error', new RecordingWriteError(this.indexPath, err))
    }
  }

  /** Events of prepare() wait until run(), so listeners added after createSegmentedRecorder() see them. */
  private deferred: Array<() => void> | undefined = []

  private notify<K extends keyof SegmentedRecorderEvents>(event: K, ...args: SegmentedRecorderEvents[K]): void {
    const emit = (): void => void (this.emit as (e: K, ...a: SegmentedRecorderEvents[K]) => boolean)(event, ...args)
    if (this.deferred !== undefined) this.deferred.push(emit)
    else emit()
  }

  /** @hidden */
  run(): void {
    const deferred = this.deferred ?? []
    this.deferred = undefined
    if (deferred.length > 0) setImmediate(() => deferred.forEach((f) => f()))
    if (this.session instanceof PullSupervisor) {
      const sup = this.session
      sup.on('reconnecting', this.onReconnecting)
      sup.on('outage', this.onOutage)
      sup.on('session', this.onSession)
    }
    void this.loop()
  }

  /** Stop recording: the session is closed and the open segment finalized. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.session.close()
    await this.done
  }

  /** The file being written, if any. */
  get currentFile(): string | undefined {
    return this.current?.file
  }

  private readonly onReconnecting = (): void => {
    // The old session is over: its last frames are queued. If the reader waits on an empty
    // queue they are all written, so the segment can close now rather than at the return.
    if (this.parked) this.enqueue(() => this.closeSegments('outage'))
    else this.closeWhenIdle = true
  }

  private readonly onOutage = (e: OutageEvent): void => {
    void this.enqueue(() => this.logGap(e))
  }

  private readonly onSession = (s: PullSession, reconnected: boolean): void => {
    if (!reconnected) return
    // The supervisor registered its own 'frame' listener first and starts the new session at
    // the same frame we mark here (its first video key frame); its copy shares `data`.
    const hasVideo = this.primaryVideo >= 0
    const mark = (f: Frame): void => {
      if (hasVideo && !(f.keyFrame && f.track.type === 'video')) return
      this.sessionStarts.add(f.data)
      s.off('frame', mark)
    }
    s.on('frame', mark)
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn)
    this.chain = p.catch(() => {})
    return p
  }

  private async loop(): Promise<void> {
    let error: RtspError | undefined
    const it = this.session.frames()
    try {
      for (;;) {
        const next = it.next()
        if (this.closeWhenIdle) {
          // Is the queue empty (the old session's frames all taken)? A resolved next() wins the race.
          const idle = await Promise.race([next.then(() => false), new Promise<boolean>((r) => setImmediate(() => r(true)))])
          if (idle) {
            this.closeWhenIdle = false
            await this.enqueue(() => this.closeSegments('outage'))
          }
        }
        this.parked = true
        const r = await next
        this.parked = false
        if (r.done) break
        await this.enqueue(() => this.handle(r.value))
      }
    } catch (err) {
      error = err instanceof RtspError ? err : new OutputError(String(err), { cause: err })
    }
    this.parked = false
    if (this.session instanceof PullSupervisor) {
      this.session.off('reconnecting', this.onReconnecting)
      this.session.off('outage', this.onOutage)
      this.session.off('session', this.onSession)
    }
    await this.enqueue(() => this.closeSegments('stop'))
    await this.flushIndex()
    // An abort (Ctrl-C) or our own stop is not a failure of the recording.
    const reported = this.stopped || error?.code === 'RTSP_ERR_ABORTED' ? undefined : error
    this.emit('close', reported)
    this.resolveDone()
  }

  private wallOf(frame: Frame): { ms: number; clock: WallClockSource } {
    if (frame.captureTime !== undefined) return { ms: frame.captureTime, clock: 'camera' }
    this.anchor ??= { pts: frame.pts, wall: Date.now() }
    return { ms: this.anchor.wall + (frame.pts - this.anchor.pts) * 1000, clock: 'local' }
  }

  private async handle(frame: Frame): Promise<void> {
    const isCut = this.primaryVideo < 0 ? true : frame.track.index === this.primaryVideo && frame.keyFrame
    if (this.sessionStarts.has(frame.data)) {
      // First frame after a reconnect: the outage ended the segment before it.
      this.closeWhenIdle = false
      await this.closeSegments('outage')
      this.anchor = undefined
    }
    // Audio from before the cut belongs to the segment that was closing.
    const tail = this.tail
    if (tail !== undefined && !isCut) {
      if (frame.pts < tail.cut && frame.track.index !== this.primaryVideo) {
        await this.writeTo(tail.seg, frame)
        return
      }
      tail.waiting.delete(frame.track.index)
      if (tail.waiting.size === 0 || frame.pts >= tail.cut + TAIL_WAIT_S) await this.finishTail()
    }
    const cur = this.current
    if (cur === undefined || cur.failed !== undefined) {
      if (!isCut) {
        this.framesDropped++
        return
      }
      if (cur?.failed !== undefined) await this.closeSegment(cur, 'error', cur.lastPts)
      if (Date.now() < this.retryAt) {
        this.framesDropped++
        return
      }
      if (!(await this.open(frame))) {
        this.framesDropped++
        return
      }
    } else if (isCut && frame.pts - cur.startPts >= this.segmentS - 1e-6) {
      await this.finishTail()
      // Audio only: every frame is a cut point, nothing to wait for.
      const waiting = new Set(this.primaryVideo < 0 ? [] : this.tracks.filter((t) => t.index !== this.primaryVideo).map((t) => t.index))
      this.current = undefined
      this.tail = { seg: cur, cut: frame.pts, waiting, reason: 'segment' }
      if (waiting.size === 0) await this.finishTail()
      if (!(await this.open(frame))) {
        this.framesDropped++
        return
      }
    }
    await this.writeTo(this.current!, frame)
  }

  private async writeTo(seg: OpenSegment, frame: Frame): Promise<void> {
    if (seg.failed !== undefined) {
      this.framesDropped++
      return
    }
    const before = seg.recorder.bytesWritten
    try {
      await seg.recorder.write({ trackIndex: frame.track.index, pts: frame.pts, keyFrame: frame.keyFrame, data: frame.data })
    } catch (err) {
      this.writeFailed(seg, err)
      return
    }
    this.bytesWritten += seg.recorder.bytesWritten - before
    this.framesWritten++
    if (frame.pts > seg.lastPts) seg.lastPts = frame.pts
    if (frame.track.index === this.primaryVideo && frame.pts > seg.lastVideoPts) {
      seg.videoInterval = frame.pts - seg.lastVideoPts
      seg.lastVideoPts = frame.pts
    }
  }

  private writeFailed(seg: OpenSegment, err: unknown): void {
    if (seg.failed !== undefined) return
    seg.failed = new RecordingWriteError(seg.file, err)
    this.retryAt = Date.now() + this.retryMs
    this.emit('write-error', seg.failed)
  }

  /** A new segment starting with `frame` (a key frame); false when it cannot be created. */
  private async open(frame: Frame): Promise<boolean> {
    const wall = this.wallOf(frame)
    const base = formatName(this.pattern, wall.ms, this.utc)
    let stream: NodeJS.WritableStream | undefined
    let file = base
    try {
      await this.fs.mkdir(dirname(base), { recursive: true })
      // 'wx': never overwrite, not even a file of a crashed run with the same name.
      for (let n = 1; ; n++) {
        try {
          stream = await openExclusive(this.fs, file)
          break
        } catch (err) {
          if (findErrno(err) !== 'EEXIST' || n > 99) throw err
          file = withSuffix(base, n)
        }
      }
    } catch (err) {
      const e = new RecordingWriteError(file, err)
      this.retryAt = Date.now() + this.retryMs
      this.emit('write-error', e)
      return false
    }
    let recorder: Recorder
    try {
      recorder = await createRecorder({ format: this.format, tracks: this.tracks.map(recorderTrack), sink: stream })
    } catch (err) {
      // Nothing this recording can hold (e.g. MJPEG only): no empty file left behind.
      await endStream(stream)
      await this.fs.unlink(file).catch(() => {})
      throw err
    }
    const seg: OpenSegment = { file, format: this.format, stream, recorder, start: wall.ms, startPts: frame.pts, clock: wall.clock, lastPts: frame.pts, lastVideoPts: frame.pts, videoInterval: 0, failed: undefined }
    this.current = seg
    this.appendIndex({ type: 'segment-start', file, start: new Date(wall.ms).toISOString(), startPts: round(frame.pts), clock: wall.clock })
    await this.flushIndex()
    this.emit('segment-start', { file, start: wall.ms, startPts: frame.pts, clock: wall.clock })
    return true
  }

  private async finishTail(): Promise<void> {
    const t = this.tail
    if (t === undefined) return
    this.tail = undefined
    await this.closeSegment(t.seg, t.reason, t.cut)
  }

  /** Close the tail and the current segment (an outage, the end). */
  private async closeSegments(reason: SegmentInfo['reason']): Promise<void> {
    await this.finishTail()
    const cur = this.current
    this.current = undefined
    if (cur !== undefined) await this.closeSegment(cur, cur.failed ? 'error' : reason, undefined)
  }

  private async closeSegment(seg: OpenSegment, reason: SegmentInfo['reason'], endPts: number | undefined): Promise<void> {
    if (seg === this.current) this.current = undefined
    let failure: unknown = seg.failed
    if (failure === undefined) {
      try {
        await seg.recorder.finalize()
      } catch (err) {
        failure = err
        this.writeFailed(seg, err)
      }
    } else {
      await seg.recorder.finalize().catch(() => {})
    }
    await endStream(seg.stream)
    let bytes = seg.recorder.bytesWritten
    if (failure !== undefined) {
      // A torn last fragment (the write that failed): cut the file back to what plays.
      try {
        const r = await repairSegment(this.fs, seg.file, seg.format === 'ts' ? 'ts' : seg.format === 'mov' ? 'mov' : 'mp4')
        bytes = r.after
        if (bytes === 0) {
          // Nothing playable got out (the disk was already full): no empty file left behind.
          await this.fs.unlink(seg.file).catch(() => {})
          this.appendIndex({ type: 'deleted', file: seg.file, bytes: 0, reason: 'empty' })
          await this.flushIndex()
          return
        }
      } catch {
        // Could not even open it again: the index says what we know.
      }
    }
    // Cut at a key frame: the segment ends where the next begins. Otherwise one frame
    // interval past its last frame (the recorder gave that frame the same duration).
    const end = endPts ?? (this.primaryVideo >= 0 ? seg.lastVideoPts + seg.videoInterval : seg.lastPts)
    const info: SegmentInfo = {
      file: seg.file,
      start: seg.start,
      end: seg.start + (end - seg.startPts) * 1000,
      startPts: seg.startPts,
      endPts: end,
      frames: seg.recorder.framesWritten,
      bytes,
      clock: seg.clock,
      reason: failure !== undefined ? 'error' : reason,
    }
    const closedAt = Date.now()
    this.appendIndex({
      type: 'segment',
      file: info.file,
      start: new Date(info.start).toISOString(),
      end: new Date(info.end).toISOString(),
      duration: round(end - seg.startPts),
      startPts: round(info.startPts),
      endPts: round(info.endPts),
      frames: info.frames,
      bytes: info.bytes,
      clock: info.clock,
      reason: info.reason,
      closedAt,
    })
    this.finished.push({ file: seg.file, bytes, closedAt } satisfies Omit<IndexSegmentLine, 'type'>)
    await this.flushIndex()
    this.emit('segment', info)
    // At the end of a recording its last segment stays (the next start applies retention).
    if (reason !== 'stop') await this.prune()
  }

  private async logGap(e: OutageEvent): Promise<void> {
    const gap: GapInfo = { start: e.start, end: e.end, cause: e.error.message, code: e.error.code }
    this.appendIndex({ type: 'gap', start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), durationMs: e.durationMs, cause: gap.cause, code: gap.code, recovered: e.recovered })
    await this.flushIndex()
    this.emit('gap', gap)
  }

  /** Retention: delete the oldest finished segments over keep / maxSize; never the one being written. */
  private async prune(): Promise<void> {
    if (this.keepS === undefined && this.maxBytes === undefined) return
    const currentBytes = (this.current?.recorder.bytesWritten ?? 0) + (this.tail?.seg.recorder.bytesWritten ?? 0)
    const now = Date.now()
    const doomed = segmentsToDelete(this.finished, { keepS: this.keepS, maxBytes: this.maxBytes }, now, currentBytes)
    if (doomed.length === 0) return
    for (const s of doomed) {
      const reason = this.keepS !== undefined && now - s.closedAt > this.keepS * 1000 ? 'keep' : 'max-size'
      try {
        await this.fs.unlink(s.file)
      } catch (err) {
        if (findErrno(err) !== 'ENOENT') continue // try again at the next segment
      }
      this.finished.splice(this.finished.indexOf(s), 1)
      this.appendIndex({ type: 'deleted', file: s.file, bytes: s.bytes, reason })
      this.notify('deleted', { file: s.file, bytes: s.bytes, reason })
    }
    await this.flushIndex()
  }

  private appendIndex(record: Record<string, unknown>): void {
    if (typeof record.file === 'string') record.file = relative(dirname(this.indexPath), record.file)
    this.pendingIndex.push(JSON.stringify(record) + '\n')
  }

  /** Append pending index lines; on failure they stay pending (disk full) and go with the next flush. */
  private async flushIndex(): Promise<void> {
    if (this.pendingIndex.length === 0) return
    const text = this.pendingIndex.join('')
    const n = this.pendingIndex.length
    try {
      await this.fs.appendFile(this.indexPath, text)
      this.pendingIndex.splice(0, n)
    } catch (err) {
      this.notify('write-error', new RecordingWriteError(this.indexPath, err))
    }
  }
}

function recorderTrack(t: Track): RecorderTrack {
  return { type: t.type === 'video' ? 'video' : 'audio', codec: t.codec, clockRate: t.clockRate, details: t.details }
}

function round(s: number): number {
  return Math.round(s * 1e6) / 1e6
}

/** `a/b.mp4` → `a/b_1.mp4`. */
function withSuffix(file: string, n: number): string {
  const ext = extname(file)
  return join(dirname(file), `${basename(file, ext)}_${n}${ext}`)
}

function findErrno(err: unknown): string | undefined {
  for (let e = err, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code
  }
  return undefined
}

function openExclusive(fs: RecordFs, file: string): Promise<NodeJS.WritableStream> {
  const stream = fs.createWriteStream(file, { flags: 'wx' })
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => {
      stream.off('open', onOpen)
      reject(err)
    }
    const onOpen = (): void => {
      stream.off('error', onError)
      // Later errors reach the recorder through its write callbacks; keep them from crashing.
      stream.on('error', () => {})
      resolve(stream)
    }
    stream.once('open', onOpen)
    stream.once('error', onError)
  })
}

function endStream(stream: NodeJS.WritableStream): Promise<void> {
  const s = stream as NodeJS.WritableStream & { destroyed?: boolean; closed?: boolean }
  if (s.destroyed || s.closed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => resolve()
    stream.once('close', done)
    stream.once('error', done)
    stream.end()
  })
}
