/**
 * Crash-safe .mp4 segments whatever the GOP (issue 15), against GStreamer's RTSP server:
 * `rtspkit pull --segment` flushes a fragment at least every half second, not once a GOP.
 * A camera with a 10 s GOP that has sent 3.5 s (105 frames) has at least 2.5 s of them in
 * the file, which a kill -9 at a random moment after leaves decoding clean; x264 B-frames
 * come out of the segments in order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { killChild, runCli, runProcess, spawnCli } from '../helpers/cli.js'
import { decodeErrors } from '../helpers/media-check.js'
import { scanFragmentedMp4 } from '../../src/record/fmp4-repair.js'

/** 105 frames at 30 fps in one GOP (key-int-max 300: the next key frame would be at 10 s), then nothing. */
const LONG_GOP =
  'videotestsrc is-live=true num-buffers=105 ! video/x-raw,width=320,height=240,framerate=30/1 ' +
  '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 ! rtph264pay name=pay0 pt=96'
const SENT = 105

/** x264 with 2 B-frames between references (tune=zerolatency would turn them off, and so would the baseline profile x264enc picks for rtph264pay unless told main). */
const B_FRAMES =
  'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ' +
  '! x264enc speed-preset=ultrafast bframes=2 b-adapt=false key-int-max=30 ! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=-1'

async function decodedFrames(file: string): Promise<number> {
  const r = await runProcess('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file])
  const n = Number(r.stdout.trim())
  return Number.isFinite(n) ? n : 0
}

/** Frames in the whole fragments of a file being written (a fragment half written is not counted). */
async function framesInWholeFragments(file: string, scratch: string): Promise<number> {
  const bytes = await readFile(file)
  const { end } = await scanFragmentedMp4(async (pos, len) => bytes.subarray(pos, pos + len), bytes.length)
  if (end === 0) return 0
  await writeFile(scratch, bytes.subarray(0, end))
  return decodedFrames(scratch)
}

async function mp4In(dir: string): Promise<string | undefined> {
  const f = (await readdir(dir).catch(() => [] as string[])).find((n) => n.endsWith('.mp4'))
  return f === undefined ? undefined : join(dir, f)
}

test('a 10 s GOP camera: 3.5 s sent, the segment holds all but the last second; kill -9 at a random moment after leaves it decoding clean', async (t) => {
  const server = await startGstServer({ extra: { longgop: LONG_GOP } })
  t.after(() => server.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-longgop-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  // --timeout 60000: the stalled stream (GStreamer sends nothing after its 105 frames) must not end the pull before the kill.
  const child = spawnCli(['pull', server.url('/longgop'), '-o', join(dir, '%Y%m%d-%H%M%S.mp4'), '--segment', '60s', '--transport', 'tcp', '--timeout', '60000', '-q'])
  t.after(() => killChild(child))
  // Poll what is on disk (never what the process holds in memory) until a second of the end.
  const until = Date.now() + 60_000
  let file: string | undefined
  let frames = 0
  while (frames < SENT - 30) {
    assert.ok(Date.now() < until, `only ${frames} of ${SENT} frames reached ${file ?? 'a file'}: fragments are not flushed within the GOP`)
    assert.equal(child.exitCode, null, 'the pull ended early')
    await new Promise((r) => setTimeout(r, 250))
    file ??= await mp4In(dir)
    if (file !== undefined) frames = await decodedFrames(file)
  }
  await new Promise((r) => setTimeout(r, Math.random() * 1000))
  child.kill('SIGKILL')
  await killChild(child)
  assert.equal(await decodeErrors(file!), '', 'the killed segment decodes')
  const after = await decodedFrames(file!)
  assert.ok(after >= SENT - 30 && after <= SENT, `${after} of ${SENT} frames in the killed segment`)
  // The next start repairs it (nothing torn to cut here, or a torn tail) and it still decodes.
  const again = await runCli(['pull', server.url('/longgop'), '-o', join(dir, '%Y%m%d-%H%M%S.mp4'), '--segment', '60s', '--transport', 'tcp', '-t', '0.5'], { timeoutMs: 30_000 })
  assert.match(again.stderr, /repaired .* left by an interrupted run/)
  assert.equal(await decodeErrors(file!), '')
  assert.equal(await decodedFrames(file!), after)
})

test('a live 10 s GOP camera killed at a random moment in its first GOP: the segment decodes clean, and the next run keeps every frame that was on disk', async (t) => {
  const server = await startGstServer({ extra: { live: LONG_GOP.replace('num-buffers=105 ', '') } })
  t.after(() => server.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-longgop-live-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const pattern = join(dir, '%Y%m%d-%H%M%S.mp4')
  const child = spawnCli(['pull', server.url('/live'), '-o', pattern, '--segment', '60s', '--transport', 'tcp', '-q'])
  t.after(() => killChild(child))
  // Wait for the first fragment (half a second of media), then kill somewhere in the next 0..3 s.
  const until = Date.now() + 30_000
  let file: string | undefined
  let onDisk = 0
  while (onDisk === 0) {
    assert.ok(Date.now() < until, 'no fragment on disk')
    await new Promise((r) => setTimeout(r, 100))
    file ??= await mp4In(dir)
    if (file !== undefined) onDisk = await framesInWholeFragments(file, join(dir, 'scratch.bin'))
  }
  await new Promise((r) => setTimeout(r, Math.random() * 3000))
  child.kill('SIGKILL')
  await killChild(child)
  const again = await runCli(['pull', server.url('/live'), '-o', pattern, '--segment', '60s', '--transport', 'tcp', '-t', '0.5'], { timeoutMs: 30_000 })
  assert.match(again.stderr, /repaired .* left by an interrupted run/)
  assert.equal(await decodeErrors(file!), '')
  const kept = await decodedFrames(file!)
  assert.ok(kept >= onDisk, `${kept} frames kept, ${onDisk} were on disk before the kill`)
})

test('B-frames (x264 bframes=2): each segment starts at a key frame, decodes clean, pictures in order, segments tile', async (t) => {
  const server = await startGstServer({ extra: { bframes: B_FRAMES } })
  t.after(() => server.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-seg-bframes-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const r = await runCli(['pull', server.url('/bframes'), '-o', join(dir, '%H%M%S-%f.mp4'), '--segment', '2s', '-t', '5', '--transport', 'tcp'], { timeoutMs: 40_000 })
  assert.equal(r.code, 0, r.stderr)
  const index = (await readFile(join(dir, 'index.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; file: string; startPts: number; endPts: number; frames: number })
    .filter((l) => l.type === 'segment')
  assert.ok(index.length >= 2, `${index.length} segments`)
  let reordered = false
  for (const [i, s] of index.entries()) {
    const file = join(dir, s.file)
    if (i > 0) assert.equal(s.startPts, index[i - 1]!.endPts, 'no gap, no overlap')
    assert.equal(await decodeErrors(file), '', file)
    const p = await runProcess('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,dts_time,flags', '-of', 'json', file])
    const packets = (JSON.parse(p.stdout) as { packets: Array<{ pts_time: string; dts_time: string; flags: string }> }).packets
    assert.ok(packets[0]!.flags.startsWith('K'), `${file} starts with a key frame`)
    for (let j = 1; j < packets.length; j++) {
      assert.ok(Number(packets[j]!.dts_time) > Number(packets[j - 1]!.dts_time), `${file}: decode times increase`)
      if (Number(packets[j]!.pts_time) < Number(packets[j - 1]!.pts_time)) reordered = true
    }
    const f = await runProcess('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file])
    const shown = f.stdout.split('\n').map((l) => l.replace(/,/g, '').trim()).filter((l) => l !== '').map(Number)
    assert.equal(shown.length, packets.length, `${file}: every picture decoded`)
    for (let j = 1; j < shown.length; j++) assert.ok(shown[j]! > shown[j - 1]!, `${file}: picture ${j} at ${shown[j]} after ${shown[j - 1]}`)
  }
  assert.ok(reordered, 'the source had B-frames (packets out of presentation order)')
})
