/**
 * Record like an NVR: a pull (or a reconnecting supervisor) into a chain of files of about
 * `segment` seconds each, named from a strftime pattern, with an index.jsonl beside them
 * (segment-index.ts), retention by age and size (retention.ts), and recovery of a segment a
 * crash left unfinished (fmp4-repair.ts). This file is the segment state machine.
 *
 * Segments cut at the primary video track's key frames: a segment closes at the first key
 * frame at least `segment` seconds after its own first one, and that key frame opens the
 * next, so the segments tile the stream (the end of one is the start of the next). Audio
 * whose pts is before the cut, arriving after the key frame, still goes to the old segment
 * (it is kept open until every audio track has passed the cut, or one second at most).
 * Everything runs in one serialized chain, so segments, index lines and deletions keep
 * their order. That is why this file stays one (a little over 400 lines): the cut, the tail,
 * outages, write failures and retention read and change the same state in that chain; the
 * file, index, options and retention work live beside it (segment-file.ts, segment-index.ts,
 * options.ts, retention.ts, record-fs.ts).
 *
 * .mp4 segments are written by output/fmp4-file (a fragment at least every flushInterval
 * and at each key frame: a crash loses under a second whatever the GOP); .mov and .ts by
 * mediabunny (a fragment per GOP for .mov; TS is a packet stream).
 */
import { EventEmitter } from 'node:events'
import type { OutputFormat, RecorderTrack } from '../output/types.js'
import type { Frame, Track } from '../client/track.js'
import { PullSupervisor } from '../client/supervisor.js'
import type { OutageEvent } from '../client/supervisor.js'
import type { PullSession } from '../client/pull-session.js'
import { OutputError, RtspError } from '../errors.js'
import { formatName } from './strftime.js'
import { repairSegment } from './fmp4-repair.js'
import { deleteOldSegments } from './retention.js'
import type { RetainedSegment } from './retention.js'
import { RecordingWriteError } from './record-fs.js'
import { containerOf, createSegmentFile, finishSegmentFile, openSegmentWriter } from './segment-file.js'
import type { SegmentWriter } from './segment-file.js'
import type { RecordFs } from './record-fs.js'
import { SegmentIndex, round, segmentLine } from './segment-index.js'
import { resolveOptions } from './options.js'
import type { GapInfo, SegmentInfo, SegmentedRecorderEvents, SegmentedRecorderOptions, WallClockSource } from './options.js'

export { RecordingWriteError } from './record-fs.js'
export type { RecordFs } from './record-fs.js'
export type { GapInfo, SegmentInfo, SegmentedRecorderEvents, SegmentedRecorderOptions, WallClockSource } from './options.js'

interface OpenSegment extends SegmentWriter {
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
  private readonly index: SegmentIndex
  private readonly flushInterval: number | undefined
  private readonly durationS: number | undefined
  /** The pts of the first frame written (the first segment's first), for `duration`. */
  private firstPts: number | undefined
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
    const o = resolveOptions(options)
    this.pattern = o.pattern
    this.format = o.format
    this.segmentS = o.segmentS
    this.keepS = o.keepS
    this.maxBytes = o.maxBytes
    this.indexPath = o.indexPath
    this.fs = o.fs
    this.utc = o.utc
    this.retryMs = o.retryMs
    this.flushInterval = o.flushInterval
    this.durationS = o.durationS
    this.index = new SegmentIndex(this.fs, this.indexPath, (e) => this.notify('write-error', e))
    this.tracks = session.tracks
    this.primaryVideo = this.tracks.findIndex((t) => t.type === 'video')
    this.done = new Promise((resolve) => (this.resolveDone = resolve))
  }

  /** @hidden Read the index: finished segments (for retention), segments a crash left open (repaired). */
  async prepare(): Promise<void> {
    const { lines, open, closed } = await this.index.read()
    for (const file of open) {
      try {
        const r = await repairSegment(this.fs, file, containerOf(file))
        this.index.append({ type: 'repaired', file, bytes: r.after, before: r.before, closedAt: Date.now() })
        this.notify('repaired', { file, before: r.before, after: r.after })
        if (r.after > 0) closed.set(file, { file, bytes: r.after, closedAt: Date.now() })
        else {
          // Not one whole fragment: no media to keep.
          await this.fs.unlink(file).catch(() => {})
          this.index.append({ type: 'deleted', file, bytes: 0, reason: 'empty' })
        }
      } catch {
        // Gone (deleted by hand): nothing to repair.
        this.index.append({ type: 'deleted', file, reason: 'missing' })
      }
    }
    this.finished = [...closed.values()].sort((a, b) => a.closedAt - b.closedAt)
    if (SegmentIndex.wantsCompaction(lines.length, closed.size + open.size)) await this.index.compact(lines, closed, this.segmentS)
    await this.index.flush()
    await this.prune()
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
        if (this.durationS !== undefined && this.firstPts !== undefined) {
          if (r.value.pts - this.firstPts >= this.durationS) {
            // `duration` of media recorded: the rest is not ours; the session is closed.
            this.stopped = true
            void this.session.close()
            break
          }
        }
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
    await this.index.flush()
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
    let created
    try {
      created = await createSegmentFile(this.fs, formatName(this.pattern, wall.ms, this.utc))
    } catch (err) {
      this.retryAt = Date.now() + this.retryMs
      this.emit('write-error', err as RecordingWriteError)
      return false
    }
    const writer = await openSegmentWriter(this.fs, created, this.format, this.tracks.map(recorderTrack), this.flushInterval)
    const file = writer.file
    const seg: OpenSegment = { ...writer, start: wall.ms, startPts: frame.pts, clock: wall.clock, lastPts: frame.pts, lastVideoPts: frame.pts, videoInterval: 0, failed: undefined }
    this.current = seg
    this.index.append({ type: 'segment-start', file, start: new Date(wall.ms).toISOString(), startPts: round(frame.pts), clock: wall.clock })
    await this.index.flush()
    this.firstPts ??= frame.pts
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
    const { failure, bytes } = await finishSegmentFile(this.fs, seg, endPts, seg.failed)
    if (failure !== undefined) this.writeFailed(seg, failure)
    if (bytes === 0 && failure !== undefined) {
      this.index.append({ type: 'deleted', file: seg.file, bytes: 0, reason: 'empty' })
      await this.index.flush()
      return
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
    this.index.append(segmentLine(info, closedAt))
    this.finished.push({ file: seg.file, bytes, closedAt })
    await this.index.flush()
    this.emit('segment', info)
    // At the end of a recording its last segment stays (the next start applies retention).
    if (reason !== 'stop') await this.prune()
  }

  private async logGap(e: OutageEvent): Promise<void> {
    const gap: GapInfo = { start: e.start, end: e.end, cause: e.error.message, code: e.error.code }
    this.index.append({ type: 'gap', start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), durationMs: e.durationMs, cause: gap.cause, code: gap.code, recovered: e.recovered })
    await this.index.flush()
    this.emit('gap', gap)
  }

  /** Retention: delete the oldest finished segments over keep / maxSize; never the one being written. */
  private async prune(): Promise<void> {
    if (this.keepS === undefined && this.maxBytes === undefined) return
    const currentBytes = (this.current?.recorder.bytesWritten ?? 0) + (this.tail?.seg.recorder.bytesWritten ?? 0)
    const deleted = await deleteOldSegments((f) => this.fs.unlink(f), this.finished, { keepS: this.keepS, maxBytes: this.maxBytes }, currentBytes)
    for (const d of deleted) {
      this.index.append({ type: 'deleted', file: d.file, bytes: d.bytes, reason: d.reason })
      this.notify('deleted', { file: d.file, bytes: d.bytes, reason: d.reason })
    }
    if (deleted.length > 0) await this.index.flush()
  }
}

function recorderTrack(t: Track): RecorderTrack {
  return { type: t.type === 'video' ? 'video' : 'audio', codec: t.codec, clockRate: t.clockRate, details: t.details }
}
