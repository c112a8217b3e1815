/**
 * The live per-frame fMP4 writer, checked by an independent reader: ffprobe sees the codecs
 * and every frame, ffmpeg decodes it without a message; G.711 carried as FLAC decodes to the
 * same PCM as ffmpeg's own G.711 decoder.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openFileSource } from '../../../src/input/file-source.js'
import { LiveFmp4Muxer, fragment, ALAW_TO_PCM, ULAW_TO_PCM } from '../../../src/output/live-fmp4/index.js'
import type { MuxFrameInput } from '../../../src/output/live-fmp4/index.js'
import { runProcess } from '../../helpers/cli.js'
import { decodeErrors } from '../../helpers/media-check.js'

const SAMPLE = new URL('../../../assets/sample.mp4', import.meta.url).pathname
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-live-fmp4-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function probe(path: string): Promise<{ streams: Array<Record<string, unknown>> }> {
  const r = await runProcess('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', path])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as { streams: Array<Record<string, unknown>> }
}

describe('live fMP4', () => {
  it('H.264 + AAC from the sample clip: one moof/mdat per frame, decodes without a message', async () => {
    const src = await openFileSource(SAMPLE)
    const muxer = new LiveFmp4Muxer(src.tracks.map((t, index) => ({ index, ...t })))
    assert.equal(muxer.trackCount, 2)
    assert.match(muxer.mimeType, /^video\/mp4; codecs="avc1\.[0-9a-f]{6},mp4a\.40\.2"$/)
    const parts = [muxer.initSegment()]
    const last = new Map<number, number>()
    let frames = 0
    const counts = [0, 0]
    // Video durations come from the next frame's time here (the producer estimates them live).
    const all: MuxFrameInput[] = []
    for await (const f of src.frames()) all.push({ track: f.trackIndex, timestamp: 0, pts: f.pts, keyFrame: f.keyFrame, data: f.data })
    await src.close()
    for (let i = 0; i < all.length; i++) {
      const f = all[i]!
      const prev = last.get(f.track)
      last.set(f.track, f.pts)
      const frag = muxer.fragment({ ...f, duration: prev === undefined ? 1 / 30 : f.pts - prev })
      assert.ok(frag)
      assert.equal(frag.toString('latin1', 4, 8), 'moof')
      parts.push(frag)
      frames++
      counts[f.track]!++
    }
    const file = join(dir, 'h264-aac.mp4')
    await writeFile(file, Buffer.concat(parts))
    const p = await probe(file)
    const v = p.streams.find((s) => s.codec_type === 'video')!
    const a = p.streams.find((s) => s.codec_type === 'audio')!
    assert.equal(v.codec_name, 'h264')
    assert.equal(v.width, 320)
    assert.equal(v.height, 240)
    assert.equal(Number(v.nb_read_frames), counts[0])
    assert.equal(a.codec_name, 'aac')
    assert.ok(Number(a.nb_read_frames) >= counts[1]! - 1)
    assert.equal(await decodeErrors(file), '')
    assert.ok(frames > 300)
  })

  for (const law of ['alaw', 'mulaw'] as const) {
    it(`G.711 ${law} as FLAC with VERBATIM subframes decodes to ffmpeg's own G.711 PCM`, async () => {
      const raw = join(dir, `tone.${law}`)
      const gen = await runProcess('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=2', '-c:a', `pcm_${law}`, '-f', law, '-y', raw])
      assert.equal(gen.code, 0, gen.stderr)
      const bytes = await readFile(raw)
      const muxer = new LiveFmp4Muxer([{ index: 0, type: 'audio', codec: law === 'alaw' ? 'PCMA' : 'PCMU', clockRate: 8000, channels: 1, details: {} }])
      assert.equal(muxer.mimeType, 'audio/mp4; codecs="flac"')
      const parts = [muxer.initSegment()]
      for (let o = 0; o < bytes.length; o += 160) {
        const payload = bytes.subarray(o, o + 160)
        parts.push(muxer.fragment({ track: 0, timestamp: o, pts: o / 8000, keyFrame: true, data: [payload] })!)
      }
      const file = join(dir, `${law}.mp4`)
      await writeFile(file, Buffer.concat(parts))
      const p = await probe(file)
      assert.equal(p.streams[0]!.codec_name, 'flac')
      assert.equal(await decodeErrors(file), '')
      const pcm = join(dir, `${law}.s16`)
      const dec = await runProcess('ffmpeg', ['-v', 'error', '-i', file, '-f', 's16le', '-y', pcm])
      assert.equal(dec.code, 0, dec.stderr)
      const ref = join(dir, `${law}-ref.s16`)
      const decRef = await runProcess('ffmpeg', ['-v', 'error', '-f', law, '-ar', '8000', '-ac', '1', '-i', raw, '-f', 's16le', '-y', ref])
      assert.equal(decRef.code, 0, decRef.stderr)
      assert.ok((await readFile(pcm)).equals(await readFile(ref)), 'FLAC-carried PCM equals ffmpeg G.711 decode')
    })
  }

  it('G.711 tables: silence codes decode near zero, extremes to ±32124/±32256', () => {
    assert.equal(ULAW_TO_PCM[0xff], 0)
    assert.equal(ULAW_TO_PCM[0x00], -32124)
    assert.equal(ALAW_TO_PCM[0xd5], 8)
    assert.equal(ALAW_TO_PCM[0x2a], -32256)
  })

  it('a fragment is moof(100) + mdat with the sample after 4-byte NAL lengths', () => {
    const f = fragment(7, 2, { decodeTime: 2 ** 33, duration: 3000, keyFrame: true, data: [Buffer.from([0x65, 1, 2])], lengthPrefixed: true })
    assert.equal(f.readUInt32BE(0), 100)
    assert.equal(f.readUInt32BE(20), 7) // mfhd sequence_number
    assert.equal(f.readUInt32BE(44), 2) // tfhd track_ID
    assert.equal(f.readBigUInt64BE(60), 2n ** 33n) // tfdt v1
    assert.equal(f.toString('latin1', 104, 108), 'mdat')
    assert.deepEqual([...f.subarray(108)], [0, 0, 0, 3, 0x65, 1, 2])
  })
})
