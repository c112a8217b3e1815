/**
 * The segmented recorder's options (and their checks), events and what it reports, apart
 * from the state machine.
 */
import { extname, join } from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import type { RtspError } from '../errors.js'
import { formatFromPath } from '../output/recorder.js'
import { NODE_FS } from './record-fs.js'
import type { RecordFs, RecordingWriteError } from './record-fs.js'
import { checkSegmentPath, staticDirectory } from './strftime.js'
import { parseDuration, parseSize } from './units.js'

/** Where wall-clock times come from: the camera's RTCP sender reports (NTP), or this machine. */
export type WallClockSource = 'camera' | 'local'

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
  /**
   * .mp4 segments: write a fragment at least this often (seconds of media), and at every key
   * frame; what a crash (kill -9, power loss) can lose. Default 0.5.
   */
  flushInterval?: number
  /**
   * Stop after this many seconds of media from the first frame recorded (as `pull
   * --duration`, ffmpeg's `-t`): frames from that point on are not written.
   */
  duration?: number
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

const DEFAULT_SEGMENT_S = 600

/** Options checked and with their defaults; InvalidArgumentError names the bad one. */
export interface ResolvedOptions {
  pattern: string
  format: 'mp4' | 'mov' | 'ts'
  segmentS: number
  keepS: number | undefined
  maxBytes: number | undefined
  indexPath: string
  fs: RecordFs
  utc: boolean
  retryMs: number
  flushInterval: number | undefined
  durationS: number | undefined
}

export function resolveOptions(options: SegmentedRecorderOptions): ResolvedOptions {
  if (typeof options?.path !== 'string' || options.path === '') throw new InvalidArgumentError('path must be a file name pattern such as rec/cam1/%Y-%m-%d_%H-%M-%S.mp4')
  checkSegmentPath(options.path)
  const format = formatFromPath(options.path.replace(/%./g, 'x'))
  if (format !== 'mp4' && format !== 'mov' && format !== 'ts') {
    throw new InvalidArgumentError(`segments are written as .mp4, .mov or .ts, not "${extname(options.path) || options.path}"`)
  }
  return {
    pattern: options.path,
    format,
    segmentS: options.segment === undefined ? DEFAULT_SEGMENT_S : parseDuration('segment', options.segment),
    keepS: options.keep === undefined ? undefined : parseDuration('keep', options.keep),
    maxBytes: options.maxSize === undefined ? undefined : parseSize('maxSize', options.maxSize),
    indexPath: options.indexPath ?? join(staticDirectory(options.path), 'index.jsonl'),
    fs: options.fs ?? NODE_FS,
    utc: options.utc ?? false,
    retryMs: options.retryMs ?? 5000,
    flushInterval: options.flushInterval,
    durationS: options.duration === undefined ? undefined : parseDuration('duration', options.duration),
  }
}
