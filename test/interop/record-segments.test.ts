/**
 * Segmented recording (issue 15) against GStreamer's RTSP server: `rtspkit pull --segment`
 * cuts at key frames into files ffmpeg decodes on their own, tiling the stream; kill -9
 * leaves a file that decodes (repaired on the next start, never overwritten); an outage
 * (the server killed and restarted) ends a segment and is logged as a gap in index.jsonl.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { killChild, readUntil, runCli, runProcess, spawnCli } from '../helpers/cli.js'
import { decodeErrors } from '../helpers/media-check.js'
import { FRAME, checkSegmentedPull, readIndex, waitFor } from '../helpers/segments.js'
import { RtspClient } from '../../src/index.js'
import { createSegmentedRecorder } from '../../src/record/index.js'
import type { SegmentInfo } from '../../src/record/index.js'

test('pull --segment 2s: files start at key frames, decode clean, tile the recording', async (t) => {
  const server = await startGstServer()
  t.after(() => server.stop())
  await checkSegmentedPull(t, server.url('/h264aac'), 2, 7)
})

test('kill -9 mid-segment leaves a file ffmpeg decodes; the next run repairs it and writes a new file', async (t) => {
  const server = await startGstServer()
  t.after(() => server.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-kill-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const pattern = join(dir, 'cam_%Y%m%d-%H%M%S.mp4')
  const child = spawnCli(['pull', server.url('/h264'), '-o', pattern, '--segment', '60s', '--transport', 'tcp', '-q'])
  t.after(() => killChild(child))
  // Fragments reach the file every half second and at each key frame: wait for a few of them.
  const first = await waitFor('three fragments on disk', async () => {
    const f = (await readdir(dir)).find((n) => n.endsWith('.mp4'))
    if (f === undefined) return undefined
    const { size } = await stat(join(dir, f))
    return size > 300_000 ? join(dir, f) : undefined
  })
  child.kill('SIGKILL')
  await killChild(child)
  const killedSize = (await stat(first)).size
  assert.equal(await decodeErrors(first), '', 'the killed segment decodes')

  const again = await runCli(['pull', server.url('/h264'), '-o', pattern, '--segment', '60s', '-t', '2', '--transport', 'tcp'], { timeoutMs: 30_000 })
  assert.equal(again.code, 0, again.stderr)
  assert.match(again.stderr, /repaired .*cam_.*\.mp4 left by an interrupted run/)
  const index = await readIndex(dir)
  const repaired = index.find((l) => l.type === 'repaired')
  assert.equal(repaired?.file, basename(first), JSON.stringify(index))
  assert.ok((await stat(first)).size <= killedSize && (await stat(first)).size > 0)
  assert.equal(await decodeErrors(first), '')
  const files = (await readdir(dir)).filter((n) => n.endsWith('.mp4'))
  assert.equal(files.length, 2, `the first file is kept: ${files.join(', ')}`)
})

test('an outage ends the segment, is logged as a gap, and recording resumes in a new segment', async (t) => {
  let server = await startGstServer()
  t.after(() => server.stop())
  const port = server.port
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-gap-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const client = new RtspClient({ transport: 'tcp', readTimeoutMs: 2000 })
  const sup = await client.supervise(server.url('/h264'), { reconnect: { initialDelayMs: 100, maxDelayMs: 400 } })
  const rec = await createSegmentedRecorder(sup, { path: join(dir, '%Y%m%d-%H%M%S-%f.mp4'), segment: '30s' })
  t.after(() => rec.stop())
  const segments: SegmentInfo[] = []
  rec.on('segment', (s) => segments.push(s))
  const gap = new Promise((resolve) => rec.once('gap', resolve))
  await waitFor('a second of media', async () => (rec.framesWritten >= 30 ? true : undefined))
  await server.stop()
  await waitFor('the segment closed by the outage', async () => (segments.length === 1 ? true : undefined))
  server = await startGstServer({ port })
  await gap
  await waitFor('frames after the outage', async () => (rec.currentFile !== undefined && rec.currentFile !== segments[0]!.file ? true : undefined))
  const resumedAt = rec.framesWritten
  await waitFor('a second after the outage', async () => (rec.framesWritten >= resumedAt + 30 ? true : undefined))
  await rec.stop()
  assert.equal(segments.length, 2)
  assert.equal(segments[0]!.reason, 'outage')
  assert.equal(segments[1]!.reason, 'stop')
  const index = await readIndex(dir)
  const gaps = index.filter((l) => l.type === 'gap')
  assert.equal(gaps.length, 1, JSON.stringify(index))
  assert.ok(typeof gaps[0]!.cause === 'string' && typeof gaps[0]!.start === 'string' && typeof gaps[0]!.end === 'string')
  assert.ok(Date.parse(gaps[0]!.end as string) >= Date.parse(gaps[0]!.start as string))
  for (const s of segments) assert.equal(await decodeErrors(s.file), '', s.file)
})

test('pull --segment: bad durations, sizes and patterns are usage errors (exit 2) before connecting', async () => {
  const url = 'rtsp://127.0.0.1:9/none'
  const cases: Array<[string[], RegExp]> = [
    [['-o', 'rec/%H%M%S.mp4', '--segment', '10 minutes'], /--segment must be a positive duration/],
    [['-o', 'rec/%H%M%S.mp4', '--segment', '10m', '--keep', '0d'], /--keep must be a positive duration/],
    [['-o', 'rec/%H%M%S.mp4', '--segment', '10m', '--max-size', '50XB'], /--max-size must be a positive size/],
    [['-o', 'rec/cam.mp4', '--segment', '10m'], /no time conversion/],
    [['-o', 'rec/%Q.mp4', '--segment', '10m'], /"%Q" .* is not a known conversion/],
    [['-o', 'rec/%H.mkv', '--segment', '10m'], /\.mp4, \.mov or \.ts/],
    [['-o', 'rec/%H.mp4', '--keep', '7d'], /--keep and --max-size apply to segmented recordings/],
  ]
  for (const [args, message] of cases) {
    const r = await runCli(['pull', url, ...args])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
  }
})

test('pull --reconnect --segment from rtspkit serve: the server killed and restarted gives a gap in the index and segments on both sides', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-cli-gap-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const startServe = async (port: number) => {
    const serve = spawnCli(['serve', `cam=assets/sample.mp4`, '--port', String(port), '-q'])
    t.after(() => killChild(serve))
    const m = await readUntil(serve.stdout!, /listening on rtsp:\/\/127\.0\.0\.1:(\d+)/, 20_000)
    return { serve, port: Number(m[1]) }
  }
  let { serve, port } = await startServe(0)
  const pull = spawnCli(['pull', `rtsp://127.0.0.1:${port}/cam`, '-o', join(dir, '%Y%m%d-%H%M%S-%f.mp4'), '--segment', '30s', '--reconnect', '--timeout', '2000'])
  t.after(() => killChild(pull))
  let log = ''
  pull.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  const segmentsNow = async () => (await readIndex(dir)).filter((l) => l.type === 'segment-start').length
  await waitFor('the first segment', async () => ((await segmentsNow()) >= 1 ? true : undefined))
  await new Promise((r) => setTimeout(r, 1500))
  await killChild(serve)
  await waitFor('the segment closed by the outage', async () => ((await readIndex(dir)).some((l) => l.type === 'segment') ? true : undefined))
  ;({ serve } = await startServe(port))
  await waitFor('the gap and a segment after it', async () => {
    const index = await readIndex(dir)
    return index.some((l) => l.type === 'gap') && index.filter((l) => l.type === 'segment-start').length >= 2 ? true : undefined
  })
  await new Promise((r) => setTimeout(r, 1000))
  pull.kill('SIGINT')
  const exit = await new Promise<number | null>((resolve) => (pull.exitCode !== null ? resolve(pull.exitCode) : pull.once('exit', (code) => resolve(code))))
  assert.equal(exit, 0, log)
  const index = await readIndex(dir)
  const segments = index.filter((l) => l.type === 'segment')
  assert.deepEqual(
    segments.map((s) => s.reason),
    ['outage', 'stop'],
  )
  const gap = index.find((l) => l.type === 'gap')!
  assert.ok(Date.parse(gap.start as string) <= Date.parse(gap.end as string))
  assert.match(log, /gap .* → .*/)
  for (const s of segments) assert.equal(await decodeErrors(join(dir, s.file)), '', s.file)
})
