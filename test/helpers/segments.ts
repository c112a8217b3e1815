/**
 * Checks shared by the segmented-recording tests (issue 15): the index a recording writes,
 * ffprobe's view of a segment, and `pull --segment` end to end.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { runCli, runProcess } from './cli.js'
import { decodeErrors } from './media-check.js'
import type { SegmentInfo } from '../../src/record/index.js'

export const FRAME = 1 / 30

export interface IndexLine {
  type: string
  file: string
  [k: string]: unknown
}

export async function readIndex(dir: string): Promise<IndexLine[]> {
  const text = await readFile(join(dir, 'index.jsonl'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as IndexLine)
}

/** Poll `check` every 50 ms until it returns a value (not undefined), or fail after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The first video frame's key flag and the video stream's duration, from ffprobe. */
export async function videoFacts(file: string): Promise<{ firstKey: boolean; duration: number }> {
  const r = await runProcess('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=duration:frame=key_frame', '-read_intervals', '%+#1', '-of', 'json', file])
  const j = JSON.parse(r.stdout) as { frames?: Array<{ key_frame: number }>; streams?: Array<{ duration?: string }> }
  return { firstKey: j.frames?.[0]?.key_frame === 1, duration: Number(j.streams?.[0]?.duration) }
}

/**
 * `rtspkit pull <url> --segment <segmentS>s -t <recordS>`: files start at key frames, decode
 * clean on their own, last segmentS each (the last one the rest), and tile the recording:
 * each starts where the one before ended, and their durations sum to the recorded time
 * within one frame.
 */
export async function checkSegmentedPull(t: TestContext, url: string, segmentS: number, recordS: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const r = await runCli(['pull', url, '-o', join(dir, '%Y-%m-%d_%H-%M-%S-%f.mp4'), '--segment', `${segmentS}s`, '-t', String(recordS), '--transport', 'tcp'], { timeoutMs: (recordS + 60) * 1000 })
  assert.equal(r.code, 0, r.stderr)
  const segments = (await readIndex(dir)).filter((l) => l.type === 'segment') as unknown as Array<SegmentInfo & { duration: number }>
  const files = (await readdir(dir)).filter((f) => f.endsWith('.mp4')).sort()
  assert.equal(files.length, segments.length)
  const total = segments.at(-1)!.endPts - segments[0]!.startPts
  assert.equal(segments.length, Math.ceil(total / segmentS - 1e-6), `segments for ${total} s`)
  assert.ok(Math.abs(total - recordS) <= FRAME + 1e-6, `recorded ${total} s of ${recordS}`)
  let sum = 0
  for (const [i, s] of segments.entries()) {
    // Names in the index are relative to its directory.
    s.file = join(dir, s.file)
    if (i > 0) assert.equal(s.startPts, segments[i - 1]!.endPts, 'no gap, no overlap')
    if (i < segments.length - 1) assert.ok(Math.abs(s.duration - segmentS) < FRAME / 2, `segment ${i}: ${s.duration} s`)
    assert.equal(await decodeErrors(s.file), '', s.file)
    const facts = await videoFacts(s.file)
    assert.ok(facts.firstKey, `${s.file} starts with a key frame`)
    assert.ok(Math.abs(facts.duration - s.duration) <= FRAME + 1e-6, `${s.file}: file ${facts.duration} s, index ${s.duration} s`)
    sum += facts.duration
  }
  assert.ok(Math.abs(sum - total) <= FRAME + 1e-6, `files sum to ${sum} s, recorded ${total} s`)
}
