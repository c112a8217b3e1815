/**
 * output/fmp4-file: rtspkit's own fragmented MP4 writer for recordings. Checked by ffprobe and
 * ffmpeg (the independent reader): a long GOP is flushed every half second, so what is on
 * disk at any moment decodes up to within a second; B-frames (x264 -bf 3, b-pyramid) keep
 * their order through derived decode times and signed composition offsets; G.711 is carried
 * as FLAC; the fragment boxes are what ISO/IEC 14496-12 §8.8 says.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { runProcess } from '../../helpers/cli.js'
import { decodeErrors } from '../../helpers/media-check.js'
import { makeFixtureClip, splitAccessUnits } from '../../helpers/media-fixture.js'
import { parseH264Sps } from '../../../src/codec/h264-sps.js'
import { DecodeTimes, Fmp4FileRecorder, movieFragment } from '../../../src/output/fmp4-file/index.js'
import type { RecorderFrame, RecorderTrack } from '../../../src/output/types.js'

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-fmp4-file-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A sink that keeps every byte, so a test can look at the file as a crash would leave it. */
function collector(): { stream: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      cb()
    },
  })
  return { stream, bytes: () => Buffer.concat(chunks) }
}

/** Decoded video frames of a file, and ffmpeg's errors. */
async function countFrames(file: string): Promise<number> {
  const r = await runProcess('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file])
  return Number(r.stdout.trim())
}

test('decode times: the i-th picture decodes at the i-th smallest pts; offsets signed; no B-frames: dts = pts', () => {
  const run = (order: Array<[number, boolean]>): number[] => {
    const d = new DecodeTimes()
    const out: number[] = []
    for (const [pts, key] of order) {
      if (key) out.push(...d.drain())
      const n = d.push(pts, key)
      if (key) out.push(...d.drain())
      else for (let i = 0; i < n; i++) out.push(d.take())
    }
    return [...out, ...d.drain()]
  }
  // I0 P3 B1 B2 P6 B4 B5 | I7 (x264 -bf 2)
  assert.deepEqual(run([[0, true], [3, false], [1, false], [2, false], [6, false], [4, false], [5, false], [7, true]]), [0, 1, 2, 3, 4, 5, 6, 7])
  // b-pyramid: I0 P4 B2 b1 b3 P8 B6 b5 b7
  assert.deepEqual(run([[0, true], [4, false], [2, false], [1, false], [3, false], [8, false], [6, false], [5, false], [7, false]]), [0, 1, 2, 3, 4, 5, 6, 7, 8])
  // No reordering: decode time is the pts, and after one GOP nothing waits.
  const d = new DecodeTimes()
  d.push(0, true)
  d.drain()
  for (let i = 1; i < 5; i++) d.push(i, false)
  d.drain()
  d.push(5, true)
  d.drain()
  assert.equal(d.push(6, false), 1)
  assert.equal(d.take(), 6)
})

test('movie fragment: one moof with a traf per track; trun version 1 with signed offsets only when one is negative', () => {
  const data = Buffer.from([1, 2, 3])
  const frag = movieFragment(7, [
    { trackId: 1, baseDecodeTime: 9000, lengthPrefixed: true, samples: [
      { duration: 3000, compositionOffset: 6000, keyFrame: true, data: [data] },
      { duration: 3000, compositionOffset: -3000, keyFrame: false, data: [data, data] },
    ] },
    { trackId: 2, baseDecodeTime: 48000, lengthPrefixed: false, samples: [{ duration: 1024, compositionOffset: 0, keyFrame: true, data: [data] }] },
    { trackId: 3, baseDecodeTime: 0, lengthPrefixed: false, samples: [] },
  ])
  const moofSize = frag.readUInt32BE(0)
  assert.equal(frag.toString('latin1', 4, 8), 'moof')
  assert.equal(frag.readUInt32BE(20), 7) // mfhd sequence_number
  assert.equal(frag.toString('latin1', moofSize + 4, moofSize + 8), 'mdat')
  assert.equal(frag.length, moofSize + 8 + (4 + 3) + 2 * (4 + 3) + 3)
  const truns: number[] = []
  for (let i = frag.indexOf('trun'); i > 0 && i < moofSize; i = frag.indexOf('trun', i + 4)) truns.push(i)
  assert.equal(truns.length, 2, 'no traf for a track without samples')
  const v = truns[0]!
  assert.equal(frag[v + 4], 1, 'version 1: signed composition offsets')
  assert.equal(frag.readUIntBE(v + 5, 3), 0x000f01)
  assert.equal(frag.readUInt32BE(v + 8), 2) // sample_count
  assert.equal(frag.readInt32BE(v + 12), moofSize + 8) // data_offset: first byte of the mdat payload
  assert.equal(frag.readInt32BE(v + 16 + 16 + 12), -3000)
  assert.equal(frag.readUInt32BE(v + 16 + 8), 0x02000000) // sync
  assert.equal(frag.readUInt32BE(v + 16 + 16 + 8), 0x01010000) // non-sync
  const a = truns[1]!
  assert.equal(frag[a + 4], 0)
  assert.equal(frag.readUIntBE(a + 5, 3), 0x000701, 'no offsets for a track without reordering')
  assert.equal(frag.readInt32BE(a + 12), moofSize + 8 + 7 + 14)
  assert.equal(frag.readBigUInt64BE(frag.indexOf('tfdt', truns[0]! - 30) + 8), 9000n)
})

test('a 10 s GOP is flushed every half second: the bytes out at any moment decode up to within a second', async (t) => {
  const dir = await tempDir(t)
  const clip = await makeFixtureClip({ seconds: 5, gop: 300 })
  const sink = collector()
  const rec = await Fmp4FileRecorder.create({ tracks: clip.tracks, sink: sink.stream })
  const checks = [1.3, 2.75, 4.2]
  for (const f of clip.frames) {
    if (checks.length > 0 && f.pts >= checks[0]!) {
      // What a kill -9 here would leave: every byte handed to the file so far.
      const at = checks.shift()!
      const file = join(dir, `at-${at}.mp4`)
      await writeFile(file, sink.bytes())
      assert.equal(await decodeErrors(file), '', `${file} decodes`)
      const frames = await countFrames(file)
      assert.ok(frames >= Math.floor((at - 1) * clip.fps), `${frames} frames on disk at ${at} s`)
    }
    await rec.write(f)
  }
  await rec.finalize()
  assert.ok(rec.fragmentsWritten >= 10, `${rec.fragmentsWritten} fragments in 5 s`)
  const file = join(dir, 'whole.mp4')
  await writeFile(file, sink.bytes())
  assert.equal(await decodeErrors(file), '')
  assert.equal(await countFrames(file), clip.videoFrames.length)
  const r = await runProcess('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,duration', '-of', 'csv=p=0', file])
  const durations = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(',') as [string, string]))
  assert.ok(Math.abs(Number(durations.h264) - 5) < 1e-6, r.stdout)
  assert.ok(Math.abs(Number(durations.aac) - clip.audioFrames.length * clip.audioFrameDuration) < 1e-3, r.stdout)
})

test('B-frames (x264 -bf 3, b-pyramid): every picture decodes, presentation order and count kept', async (t) => {
  const dir = await tempDir(t)
  const src = join(dir, 'bf.mp4')
  const gen = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '4', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-b_strategy', '0', '-g', '60', '-pix_fmt', 'yuv420p', src])
  assert.equal(gen.code, 0, gen.stderr)
  await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-i', src, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', join(dir, 'bf.h264')])
  // Pictures in decode order (the Annex B stream) with their presentation times (the packets, same order).
  const packets = (JSON.parse((await runProcess('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=pts_time,flags', '-of', 'json', src])).stdout) as { packets: Array<{ pts_time: string; flags: string }> }).packets
  const units = splitAccessUnits(await readFile(join(dir, 'bf.h264')))
  assert.equal(units.length, packets.length)
  assert.ok(packets.some((p, i) => i > 0 && Number(p.pts_time) < Number(packets[i - 1]!.pts_time)), 'the source has B-frames')
  const sps = units[0]!.find((n) => (n[0]! & 0x1f) === 7)!
  const pps = units[0]!.find((n) => (n[0]! & 0x1f) === 8)!
  const info = parseH264Sps(sps)
  const track: RecorderTrack = { type: 'video', codec: 'H264', clockRate: 90000, details: { sps, pps, width: info.width, height: info.height } }
  const out = join(dir, 'out.mp4')
  const rec = await Fmp4FileRecorder.create({ tracks: [track], sink: out })
  // A session's pts start anywhere: 10 s here.
  const frames: RecorderFrame[] = units.map((data, i) => ({ trackIndex: 0, pts: 10 + Number(packets[i]!.pts_time), keyFrame: packets[i]!.flags.startsWith('K'), data }))
  for (const f of frames) await rec.write(f)
  await rec.finalize()
  assert.deepEqual(rec.dropped, { beforeStart: 0, backwards: 0, ignored: 0 })
  assert.equal(await decodeErrors(out), '')
  const shown = (await runProcess('ffprobe', ['-v', 'error', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', out])).stdout
    .split('\n')
    .map((l) => l.replace(/,/g, '').trim())
    .filter((l) => l !== '')
    .map(Number)
  assert.equal(shown.length, units.length)
  for (let i = 1; i < shown.length; i++) assert.ok(shown[i]! > shown[i - 1]!, `frame ${i}: ${shown[i - 1]} then ${shown[i]}`)
  // One frame interval apart (ffmpeg shifts a track with negative offsets so no pts precedes its dts).
  for (let i = 1; i < shown.length; i++) assert.ok(Math.abs(shown[i]! - shown[i - 1]! - 1 / 30) < 1e-3)
})

test('G.711 (PCMA) with H.264 goes in .mp4 as FLAC, and decodes', async (t) => {
  const dir = await tempDir(t)
  const clip = await makeFixtureClip({ seconds: 2, audio: false })
  const raw = join(dir, 'a.alaw')
  const gen = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000', '-t', '2', '-f', 'alaw', raw])
  assert.equal(gen.code, 0, gen.stderr)
  const alaw = await readFile(raw)
  const audio: RecorderFrame[] = []
  for (let o = 0, i = 0; o < alaw.length; o += 160, i++) audio.push({ trackIndex: 1, pts: i * 0.02, keyFrame: true, data: [alaw.subarray(o, o + 160)] })
  const frames = [...clip.videoFrames, ...audio].sort((a, b) => a.pts - b.pts || a.trackIndex - b.trackIndex)
  const out = join(dir, 'g711.mp4')
  const rec = await Fmp4FileRecorder.create({ tracks: [clip.tracks[0]!, { type: 'audio', codec: 'PCMA', clockRate: 8000, details: {} }], sink: out })
  for (const f of frames) await rec.write(f)
  await rec.finalize()
  assert.equal(await decodeErrors(out), '')
  const r = await runProcess('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,duration', '-of', 'csv=p=0', out])
  assert.match(r.stdout, /^flac,2\.000000$/m)
  assert.match(r.stdout, /^h264,2\.000000$/m)
})
