/**
 * createSegmentedRecorder without a network: a scripted session hands it the frames of an
 * ffmpeg-made clip (H.264 with a 1 s GOP + AAC). Disk full is simulated through the
 * injected fs layer (ENOSPC from the segment's write stream); permission denied with a
 * directory path that runs through a regular file (tests run as root, so mode bits do not stop us).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createWriteStream } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { makeFixtureClip } from '../../helpers/media-fixture.js'
import type { FixtureClip } from '../../helpers/media-fixture.js'
import { decodeErrors } from '../../helpers/media-check.js'
import { createSegmentedRecorder, formatName, RecordingWriteError } from '../../../src/record/index.js'
import type { RecordFs, SegmentInfo } from '../../../src/record/index.js'
import type { Frame, Track } from '../../../src/client/track.js'
import type { PullSession } from '../../../src/client/pull-session.js'

let clip: FixtureClip | undefined
async function getClip(): Promise<FixtureClip> {
  clip ??= await makeFixtureClip({ seconds: 6, gop: 30 })
  return clip
}

/**
 * A stand-in session: `tracks`, `frames()` and `close()` are all the recorder uses. `before`
 * runs ahead of each frame (to flip the disk full, wait...).
 */
function scriptedSession(c: FixtureClip, before?: (f: Frame, i: number) => Promise<void> | void): PullSession {
  const tracks = c.tracks.map((t, index) => ({ index, type: t.type, codec: t.codec, clockRate: t.clockRate, details: t.details }) as unknown as Track)
  let closed = false
  async function* frames(): AsyncGenerator<Frame> {
    for (const [i, f] of c.frames.entries()) {
      if (closed) return
      const frame = { track: tracks[f.trackIndex]!, timestamp: 0, pts: f.pts, keyFrame: f.keyFrame, data: f.data } satisfies Frame
      await before?.(frame, i)
      yield frame
    }
  }
  return {
    tracks,
    frames,
    close: async () => {
      closed = true
    },
  } as unknown as PullSession
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'rtspkit-rec-unit-'))
  t.after(() => fsp.rm(dir, { recursive: true, force: true }))
  return dir
}

async function indexOf(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await fsp.readFile(join(dir, 'index.jsonl'), 'utf8')
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

test('segments of 2 s from a 6 s clip with a 1 s GOP: 3 files that tile it, each decoding clean', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const rec = await createSegmentedRecorder(scriptedSession(c), { path: join(dir, 'cam_%Y%m%d_%H%M%S_%f.mp4'), segment: 2 })
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  await rec.done
  assert.equal(segments.length, 3)
  for (const [i, s] of segments.entries()) {
    if (i > 0) assert.equal(s.startPts, segments[i - 1]!.endPts)
    assert.equal(s.clock, 'local')
    assert.equal(await decodeErrors(s.file), '', s.file)
  }
  assert.deepEqual(
    segments.map((s) => s.reason),
    ['segment', 'segment', 'stop'],
  )
  const lines = await indexOf(dir)
  assert.equal(lines.filter((l) => l.type === 'segment').length, 3)
  assert.equal(rec.framesWritten, c.frames.length)
})

test('disk full (ENOSPC): a RecordingWriteError names the file, recording goes on when space returns, earlier segments intact', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  let full = false
  const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
  const fs: RecordFs = {
    createWriteStream: (path, options) => {
      const s = createWriteStream(path, options) as ReturnType<typeof createWriteStream> & { _write: Function; _writev?: Function }
      const write = s._write.bind(s)
      const writev = s._writev?.bind(s)
      s._write = (chunk: Buffer, enc: BufferEncoding, cb: (e?: Error) => void) => (full ? cb(enospc()) : write(chunk, enc, cb))
      if (writev) s._writev = (chunks: unknown[], cb: (e?: Error) => void) => (full ? cb(enospc()) : writev(chunks, cb))
      return s
    },
    appendFile: (path, data) => (full ? Promise.reject(enospc()) : fsp.appendFile(path, data)),
    readFile: (path, enc) => fsp.readFile(path, enc),
    mkdir: (path, o) => fsp.mkdir(path, o),
    unlink: (path) => fsp.unlink(path),
    stat: (path) => fsp.stat(path),
    open: (path, flags) => fsp.open(path, flags),
  }
  // Full from 2.5 s (mid second segment) to 3.5 s of the clip.
  const session = scriptedSession(c, (f) => {
    full = f.pts >= 2.5 && f.pts < 3.5
  })
  const errors: RecordingWriteError[] = []
  const rec = await createSegmentedRecorder(session, { path: join(dir, '%H%M%S_%f.mp4'), segment: 2, retryMs: 0, fs })
  rec.on('write-error', (e) => errors.push(e))
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  await rec.done
  assert.ok(errors.length >= 1)
  const segErr = errors.find((e) => e.path.endsWith('.mp4'))!
  assert.ok(segErr instanceof RecordingWriteError)
  assert.equal(segErr.code, 'RTSP_ERR_OUTPUT')
  assert.equal(segErr.errno, 'ENOSPC')
  assert.match(segErr.message, new RegExp(`cannot write .*${segErr.path.split('/').at(-1)}: ENOSPC; the disk is full`))
  // The first segment is whole; the one hit keeps its fragments (or is gone when none got out); recording resumed at 4 s.
  assert.equal(segments[0]!.reason, 'segment')
  assert.equal(await decodeErrors(segments[0]!.file), '')
  const hit = segments.find((s) => s.reason === 'error')
  if (hit !== undefined) assert.equal(await decodeErrors(hit.file), '', 'the segment cut by ENOSPC still plays')
  // Recording resumed at the first key frame it could write from (the .mp4 writer holds the
  // frames of its first half second in memory, so a segment opened at 3 s, while still full, gets out).
  const resumed = segments.find((s) => s.startPts > 2 && s.reason !== 'error')!
  assert.ok(resumed.startPts >= 2.5 && resumed.startPts <= 4.01, `resumed at ${resumed.startPts}: ${JSON.stringify(segments)}`)
  const last = segments.at(-1)!
  assert.equal(last.reason, 'stop')
  for (const s of segments) assert.equal(await decodeErrors(s.file), '', s.file)
  // Index lines held back while the disk was full were written afterwards (names relative to the index).
  const lines = await indexOf(dir)
  assert.ok(lines.some((l) => l.type === 'segment' && l.file === basename(segments[0]!.file)))
  assert.ok(lines.some((l) => l.type === 'segment' && l.file === basename(last.file)))
})

test('permission denied (the directory runs through a file): error names the path, recording resumes once it can write', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const blocker = join(dir, 'cam')
  await fsp.writeFile(blocker, 'not a directory')
  const session = scriptedSession(c, async (f) => {
    // The operator fixes it after 3 s.
    if (f.pts >= 3 && (await fsp.stat(blocker)).isFile()) {
      await fsp.rm(blocker)
      await fsp.mkdir(blocker)
    }
  })
  const errors: RecordingWriteError[] = []
  const rec = await createSegmentedRecorder(session, { path: join(blocker, '%H%M%S_%f.mp4'), indexPath: join(dir, 'index.jsonl'), segment: 2, retryMs: 0 })
  rec.on('write-error', (e) => errors.push(e))
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  await rec.done
  assert.ok(errors.length >= 1)
  assert.ok(errors[0]!.path.startsWith(blocker), errors[0]!.path)
  assert.match(errors[0]!.message, /ENOTDIR|EEXIST/)
  assert.ok(segments.length >= 1)
  assert.ok(segments[0]!.startPts >= 3 && segments[0]!.startPts <= 4.01)
  for (const s of segments) assert.equal(await decodeErrors(s.file), '')
})

test('retention: --max-size deletes the oldest segments of this recording, never the open one; --keep by age on the next start', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const stranger = join(dir, 'not-ours.mp4')
  await fsp.writeFile(stranger, 'x')
  const deleted: string[] = []
  const rec = await createSegmentedRecorder(scriptedSession(c), { path: join(dir, '%H%M%S_%f.mp4'), segment: 1, maxSize: 1 })
  const opened: string[] = []
  rec.on('segment-start', (s) => opened.push(s.file))
  rec.on('deleted', (d) => {
    // Never the file being written.
    assert.notEqual(d.file, rec.currentFile)
    deleted.push(d.file)
  })
  await rec.done
  const left = (await fsp.readdir(dir)).filter((f) => f.endsWith('.mp4')).map((f) => join(dir, f))
  // maxSize 1 byte: only the last segment survives (it was open when the others went), and files not ours.
  assert.deepEqual(left.sort(), [opened.at(-1)!, stranger].sort())
  assert.equal(deleted.length, opened.length - 1)

  // A later run with keep 10 ms, 50 ms after, removes the survivor at start.
  await new Promise((r) => setTimeout(r, 50))
  const again = await createSegmentedRecorder(scriptedSession({ ...c, frames: [] }), { path: join(dir, '%H%M%S_%f.mp4'), keep: '10ms' })
  await again.done
  assert.deepEqual((await fsp.readdir(dir)).filter((f) => f.endsWith('.mp4')), ['not-ours.mp4'])
})

test('audio only: segments cut at any frame, each decodes clean', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const audioIndex = c.tracks.findIndex((tr) => tr.type === 'audio')
  const audioOnly = { ...c, tracks: [c.tracks[audioIndex]!], frames: c.audioFrames.map((f) => ({ ...f, trackIndex: 0 })) }
  const rec = await createSegmentedRecorder(scriptedSession(audioOnly), { path: join(dir, '%H%M%S_%f.mp4'), segment: 2 })
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  await rec.done
  assert.ok(segments.length >= 3, `${segments.length} segments`)
  for (const [i, s] of segments.entries()) {
    if (i > 0) assert.equal(s.startPts, segments[i - 1]!.endPts)
    // Cut at the first frame at least 2 s in: 2 s plus less than one AAC frame.
    if (i < segments.length - 1) assert.ok(s.endPts - s.startPts >= 2 - 1e-6 && s.endPts - s.startPts < 2 + c.audioFrameDuration, `${s.endPts - s.startPts} s`)
    assert.equal(await decodeErrors(s.file), '', s.file)
  }
  assert.equal(rec.framesWritten, audioOnly.frames.length)
})

test('a long-running index is compacted at start: lines of deleted segments go, those on disk stay; repairs are reported to listeners', async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const lines: string[] = []
  for (let i = 0; i < 1200; i++) {
    lines.push(JSON.stringify({ type: 'segment', file: `old-${i}.mp4`, bytes: 10, closedAt: 1000 + i }))
    lines.push(JSON.stringify({ type: 'deleted', file: `old-${i}.mp4`, bytes: 10, reason: 'keep' }))
  }
  await fsp.writeFile(join(dir, 'kept.mp4'), 'x')
  lines.push(JSON.stringify({ type: 'segment', file: 'kept.mp4', bytes: 1, closedAt: Date.now() }))
  // A crashed segment: started, never closed, nothing playable in it.
  await fsp.writeFile(join(dir, 'crashed.mp4'), Buffer.alloc(100))
  lines.push(JSON.stringify({ type: 'segment-start', file: 'crashed.mp4' }))
  await fsp.writeFile(join(dir, 'index.jsonl'), lines.join('\n') + '\n')
  const rec = await createSegmentedRecorder(scriptedSession({ ...c, frames: [] }), { path: join(dir, '%H%M%S_%f.mp4') })
  const repaired = new Promise<{ file: string; before: number; after: number }>((resolve) => rec.once('repaired', resolve))
  await rec.done
  assert.deepEqual(await repaired, { file: join(dir, 'crashed.mp4'), before: 100, after: 0 })
  const index = await indexOf(dir)
  assert.ok(index.length < 10, `${index.length} lines`)
  assert.ok(index.some((l) => l.type === 'segment' && l.file === 'kept.mp4'))
  assert.ok(index.some((l) => l.type === 'repaired' && l.file === 'crashed.mp4'))
  assert.ok(!index.some((l) => String(l.file).startsWith('old-')))
})

test("names and index times come from the camera's clock (RTCP SR capture time) when frames carry it", async (t) => {
  const c = await getClip()
  const dir = await tempDir(t)
  const cameraEpoch = Date.UTC(2020, 0, 2, 3, 4, 5, 600)
  const session = scriptedSession(c, (f) => {
    // From the first SR on (here: from 2 s), frames carry the camera's wall-clock time.
    if (f.pts >= 2) f.captureTime = cameraEpoch + f.pts * 1000
  })
  const rec = await createSegmentedRecorder(session, { path: join(dir, '%Y-%m-%d_%H-%M-%S.%f.mp4'), segment: 2, utc: true })
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  await rec.done
  assert.deepEqual(
    segments.map((s) => s.clock),
    ['local', 'camera', 'camera'],
  )
  const second = segments[1]!
  assert.equal(second.start, cameraEpoch + second.startPts * 1000)
  assert.equal(basename(second.file), formatName('%Y-%m-%d_%H-%M-%S.%f.mp4', second.start, true))
  assert.match(basename(second.file), /^2020-01-02_03-04-0[78]\.\d{3}\.mp4$/)
  const lines = await indexOf(dir)
  assert.ok(lines.some((l) => l.type === 'segment' && l.clock === 'camera' && l.start === new Date(second.start).toISOString()))
})
