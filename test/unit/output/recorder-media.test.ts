/**
 * Recordings checked by an independent reader: every file must probe as H.264 (+ AAC) with
 * the packets we wrote, and decode without a single ffmpeg error.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { Input, ALL_FORMATS, FilePathSource } from 'mediabunny'
import { splitAnnexB } from '../../../src/codec/h264-nal.js'
import { parseH264Sps } from '../../../src/codec/h264-sps.js'
import { buildAvcDecoderConfigurationRecord } from '../../../src/output/avc-config.js'
import { createRecorder } from '../../../src/output/index.js'
import type { OutputFormat, Recorder, RecorderFrame, RecorderTrack } from '../../../src/output/index.js'
import { runProcess } from '../../helpers/cli.js'
import { makeFixtureClip, mergeByPts, withoutParameterSets } from '../../helpers/media-fixture.js'
import type { FixtureClip } from '../../helpers/media-fixture.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../../helpers/media-check.js'
import type { ProbeResult } from '../../helpers/media-check.js'

let clip: FixtureClip
let dir: string

before(async () => {
  clip = await makeFixtureClip()
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-output-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function record(
  format: OutputFormat,
  name: string,
  frames: readonly RecorderFrame[],
  tracks: RecorderTrack[] = clip.tracks,
  extra: { maxTrackLag?: number } = {},
): Promise<{ path: string; rec: Recorder }> {
  const path = join(dir, `${name}.${format}`)
  const rec = await createRecorder({ format, tracks, sink: path, ...extra })
  for (const f of frames) await rec.write(f)
  await rec.finalize()
  return { path, rec }
}

function packets(probe: ProbeResult, type: string): number {
  const [s] = streamsOf(probe, type)
  assert.ok(s, `no ${type} stream`)
  return Number(s.nb_read_packets)
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1, `${what}: ${actual} packets, expected ${expected} ± 1`)
}

/** Probe and decode: h264 (+aac) with the expected packet counts, no decode errors. */
async function check(path: string, video: number, audio: number | undefined): Promise<ProbeResult> {
  const probe = await ffprobeFile(path)
  const [v] = streamsOf(probe, 'video')
  assert.equal(v?.codec_name, 'h264')
  assert.equal(v?.width, 320)
  assert.equal(v?.height, 240)
  near(packets(probe, 'video'), video, 'video')
  if (audio === undefined) {
    assert.equal(streamsOf(probe, 'audio').length, 0)
  } else {
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    near(packets(probe, 'audio'), audio, 'audio')
  }
  assert.equal(await decodeErrors(path), '')
  return probe
}

/** Top-level MP4 box types. */
function boxes(buf: Buffer): string[] {
  const out: string[] = []
  for (let o = 0; o + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(o)
    out.push(buf.toString('latin1', o + 4, o + 8))
    if (size < 8) break
    o += size
  }
  return out
}

/** pts of the first packet of each stream (seconds), via ffprobe. */
async function firstPts(path: string): Promise<Record<string, number>> {
  const r = await runProcess('ffprobe', ['-v', 'error', '-show_entries', 'packet=codec_type,pts_time', '-of', 'csv=p=0', path])
  const first: Record<string, number> = {}
  for (const line of r.stdout.trim().split('\n')) {
    const [type, pts] = line.split(',')
    if (type && pts && !(type in first)) first[type] = Number(pts)
  }
  return first
}

/** avcC fields; parameter sets without trailing zero bytes (ffmpeg keeps one from a 4-byte start code). */
function parseAvcc(b: Buffer): unknown {
  let o = 5
  const sets = (count: number): string[] => {
    const out: string[] = []
    for (let i = 0; i < count; i++) {
      const len = b.readUInt16BE(o)
      let nal = b.subarray(o + 2, o + 2 + len)
      while (nal.length > 0 && nal[nal.length - 1] === 0) nal = nal.subarray(0, -1)
      out.push(nal.toString('hex'))
      o += 2 + len
    }
    return out
  }
  const sps = sets(b[o++]! & 0x1f)
  const pps = sets(b[o++]!)
  return { head: b.subarray(0, 5).toString('hex'), sps, pps, extension: b.subarray(o).toString('hex') }
}

describe('recorders with the fixture clip', () => {
  for (const format of ['mp4', 'ts'] as const) {
    it(`${format}: the whole clip, every packet, in sync`, async () => {
      const { path, rec } = await record(format, 'full', clip.frames)
      assert.equal(rec.framesWritten, clip.frames.length)
      assert.deepEqual(rec.dropped, { beforeStart: 0, backwards: 0, ignored: 0 })
      await check(path, clip.videoFrames.length, clip.audioFrames.length)
      const first = await firstPts(path)
      // TS keeps an offset of its own; what matters is that both tracks start together.
      assert.ok(Math.abs(first.video! - first.audio!) < 0.001, JSON.stringify(first))
      const bytes = await readFile(path)
      assert.equal(rec.bytesWritten, bytes.length)
      if (format === 'mp4') {
        const top = boxes(bytes)
        assert.deepEqual(top.slice(0, 3), ['ftyp', 'moov', 'moof'])
        assert.ok(top.filter((b) => b === 'moof').length >= 2, 'one fragment per GOP')
      } else {
        assert.equal(bytes.length % 188, 0)
        for (let o = 0; o < bytes.length; o += 188) assert.equal(bytes[o], 0x47)
      }
    })
  }

  it('h264: video only, SPS/PPS before every key frame', async () => {
    // Parameter sets only in the SDP: the recorder must put them in front of each IDR.
    const frames = clip.frames.map(withoutParameterSets)
    const { path, rec } = await record('h264', 'sdp-only', frames)
    assert.deepEqual(rec.skippedTracks.map((s) => s.trackIndex), [1])
    await check(path, clip.videoFrames.length, undefined)
    const nals = splitAnnexB(await readFile(path)).map((n) => n[0]! & 0x1f)
    const idr = nals.filter((t) => t === 5).length
    assert.equal(idr, 3)
    assert.equal(nals.filter((t) => t === 7).length, idr)
    assert.equal(nals.filter((t) => t === 8).length, idr)
    assert.deepEqual(nals.slice(0, 2), [7, 8])
  })

  for (const format of ['mp4', 'ts', 'h264'] as const) {
    it(`${format}: SPS/PPS only in-band, in the first key frame`, async () => {
      const tracks = clip.tracks.map((t) => (t.type === 'video' ? { ...t, details: {} } : t))
      const { path } = await record(format, 'inband', clip.frames, tracks)
      await check(path, clip.videoFrames.length, format === 'h264' ? undefined : clip.audioFrames.length)
    })

    it(`${format}: finalized after a few frames still decodes`, async () => {
      const cut = 10 / clip.fps
      const frames = clip.frames.filter((f) => f.pts < cut)
      const audio = frames.filter((f) => f.trackIndex === 1).length
      const { path } = await record(format, 'short', frames)
      await check(path, 10, format === 'h264' ? undefined : audio)
    })
  }

  for (const format of ['mp4', 'ts'] as const) {
    it(`${format}: audio before the first key frame is dropped and both start at 0`, async () => {
      // The session joins mid-GOP: pictures 0..9 never arrive, 10..29 are not decodable.
      const video = clip.videoFrames.slice(10)
      const start = 30 / clip.fps
      const { path, rec } = await record(format, 'late-key', mergeByPts(video, clip.audioFrames))
      const audioAfter = clip.audioFrames.filter((f) => f.pts >= start).length
      assert.equal(rec.dropped.beforeStart, 20 + (clip.audioFrames.length - audioAfter))
      await check(path, 60, audioAfter)
      const first = await firstPts(path)
      const offset = first.video!
      if (format === 'mp4') assert.equal(offset, 0)
      const audioLead = first.audio! - offset
      assert.ok(audioLead >= 0 && audioLead < clip.audioFrameDuration, `audio starts ${audioLead} s after video`)
    })

    it(`${format}: duplicate and stepped-back timestamps are dropped and counted`, async () => {
      const frames = [...clip.frames]
      const a = clip.audioFrames[50]!
      frames.splice(frames.indexOf(a) + 1, 0, { ...a }) // duplicate audio frame
      // After picture 40, a key frame from half a second ago and its next picture (a camera
      // clock stepping back): dropped, and so is the rest of the GOP, whose pictures were
      // encoded against that IDR, until the next key frame (picture 60).
      const v = clip.videoFrames[40]!
      const iv = frames.indexOf(v)
      frames.splice(iv + 1, 0, { ...clip.videoFrames[30]!, pts: v.pts - 0.5 }, { ...clip.videoFrames[31]!, pts: v.pts - 0.5 + 1 / clip.fps })
      const { path, rec } = await record(format, 'backwards', frames)
      assert.equal(rec.dropped.backwards, 1 + 2 + 19)
      await check(path, clip.videoFrames.length - 19, clip.audioFrames.length)
    })

    it(`${format}: an audio track that never sends is ended, and video is written as it comes`, async () => {
      const path = join(dir, `silent-audio.${format}`)
      const rec = await createRecorder({ format, tracks: clip.tracks, sink: path, maxTrackLag: 1 })
      for (const f of clip.videoFrames) await rec.write(f)
      assert.ok(rec.bytesWritten > 10_000, `only ${rec.bytesWritten} bytes written before finalize`)
      assert.deepEqual(rec.skippedTracks.map((s) => s.trackIndex), [1])
      assert.match(rec.skippedTracks[0]!.reason, /no audio frames in the first 1 s/)
      await rec.write(clip.audioFrames[100]!)
      assert.equal(rec.dropped.ignored, 1)
      await rec.finalize()
      await check(path, clip.videoFrames.length, undefined)
    })
  }

  it('mp4: a recording cut off before finalize plays up to its last complete fragment', async () => {
    const path = join(dir, 'interrupted.mp4')
    const copy = join(dir, 'interrupted-copy.mp4')
    const rec = await createRecorder({ format: 'mp4', tracks: clip.tracks, sink: path })
    // Two GOPs and a bit: the first fragment is complete once the second GOP's key frame is in.
    for (const f of clip.frames.filter((f) => f.pts < 2.2)) await rec.write(f)
    // Wait for the file to hold what the recorder has handed to the sink.
    for (let i = 0; i < 200 && (await stat(path)).size < rec.bytesWritten; i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(rec.bytesWritten > 0)
    await copyFile(path, copy)
    await rec.finalize()
    const probe = await ffprobeFile(copy)
    const v = packets(probe, 'video')
    assert.ok(v >= 30 && v <= 66, `${v} video packets`)
    assert.equal(await decodeErrors(copy), '')
  })

  for (const format of ['mp4', 'ts'] as const) {
    it(`${format}: to a slow Writable stream (backpressure), bytes in memory`, async () => {
      const chunks: Buffer[] = []
      let writes = 0
      const sink = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, cb) {
          chunks.push(chunk)
          writes++
          setImmediate(cb)
        },
      })
      const rec = await createRecorder({ format, tracks: clip.tracks, sink })
      for (const f of clip.frames) await rec.write(f)
      await rec.finalize()
      assert.equal(sink.writableEnded, false, 'a lent stream is left open')
      const bytes = Buffer.concat(chunks)
      assert.equal(bytes.length, rec.bytesWritten)
      assert.ok(writes > 1)
      if (format === 'mp4') assert.equal(bytes.toString('latin1', 4, 8), 'ftyp')
      else assert.deepEqual([bytes[0], bytes[188], bytes[376]], [0x47, 0x47, 0x47])
      const path = join(dir, `from-stream.${format}`)
      await writeFile(path, bytes)
      await check(path, clip.videoFrames.length, clip.audioFrames.length)
    })
  }

  it('mp4: the fragment index trim still finds mediabunny internals (re-check it on upgrades)', async () => {
    // See MediabunnyRecorder.trimFragmentIndex: if this fails, mediabunny changed its muxer
    // internals and long recordings grow by ~40 MB/hour again.
    const rec = await createRecorder({ format: 'mp4', tracks: clip.tracks, sink: join(dir, 'trim.mp4') })
    for (const f of clip.frames) await rec.write(f)
    const muxer = (rec as unknown as { output: { _muxer: { trackDatas: Array<{ finalizedChunks: Array<{ samples: unknown[] }> }> } } }).output._muxer
    assert.ok(Array.isArray(muxer.trackDatas) && muxer.trackDatas.length === 2)
    for (const td of muxer.trackDatas) {
      assert.equal(td.finalizedChunks.length, 2) // fragments 0-1 s and 1-2 s; the rest is written by finalize
      for (const chunk of td.finalizedChunks) assert.equal(chunk.samples.length, 1)
    }
    await rec.finalize()
  })

  it('h264: to a Writable stream', async () => {
    const chunks: Buffer[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk)
        cb()
      },
    })
    const rec = await createRecorder({ format: 'h264', tracks: clip.tracks, sink })
    for (const f of clip.frames) await rec.write(f)
    await rec.finalize()
    const bytes = Buffer.concat(chunks)
    assert.deepEqual([...bytes.subarray(0, 5)], [0, 0, 0, 1, 0x67])
  })

  it('our avcC matches the one ffmpeg writes for the same stream', async () => {
    const h264 = join(dir, 'ref.h264')
    const mp4 = join(dir, 'ref.mp4')
    const { path } = await record('h264', 'ref-src', clip.frames)
    await copyFile(path, h264)
    const r = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-r', '30', '-i', h264, '-c', 'copy', mp4])
    assert.equal(r.code, 0, r.stderr)
    const input = new Input({ source: new FilePathSource(mp4), formats: ALL_FORMATS })
    const track = await input.getPrimaryVideoTrack()
    const config = await track?.getDecoderConfig()
    const theirs = parseAvcc(Buffer.from(config!.description as Uint8Array))
    const ours = parseAvcc(buildAvcDecoderConfigurationRecord(clip.sps, clip.pps, parseH264Sps(clip.sps)))
    assert.deepEqual(ours, theirs)
    input.dispose()
  })
})
