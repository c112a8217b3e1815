import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { H264NalType, nalType } from '../../../src/codec/h264-nal.js'
import { MediaError, UnsupportedError, InvalidArgumentError } from '../../../src/errors.js'
import { parseAdtsHeader } from '../../../src/codec/adts.js'
import { parseAvcC, splitLengthPrefixed } from '../../../src/codec/decoder-config.js'
import { openFileSource, paceFrames, playFrames, pumpFrames, type SourceFrame } from '../../../src/input/file-source.js'

let dir: string

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-input-'))
  // 2 s, 25 fps, GOP 25, two B-frames; 48 kHz mono AAC.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', join(dir, 'bf.mp4')])
  ffmpeg(['-i', join(dir, 'bf.mp4'), '-c', 'copy', join(dir, 'bf.mov')])
  ffmpeg(['-i', join(dir, 'bf.mp4'), '-c', 'copy', join(dir, 'bf.ts')])
})
after(() => rmSync(dir, { recursive: true, force: true }))

async function collect(path: string, inMemoryMaxBytes?: number): Promise<SourceFrame[]> {
  const src = await openFileSource(path, { inMemoryMaxBytes })
  const out: SourceFrame[] = []
  for await (const f of src.frames()) out.push(f)
  await src.close()
  return out
}

describe('openFileSource', () => {
  for (const ext of ['mp4', 'mov', 'ts']) {
    test(`H.264 (B-frames) + AAC from ${ext}`, async () => {
      const src = await openFileSource(join(dir, `bf.${ext}`))
      assert.equal(src.tracks.length, 2)
      const [v, a] = src.tracks
      assert.equal(v!.codec, 'H264')
      assert.equal(v!.clockRate, 90000)
      assert.equal(nalType(v!.details.sps![0]!), H264NalType.Sps)
      assert.equal(nalType(v!.details.pps![0]!), H264NalType.Pps)
      assert.equal(v!.details.width, 160)
      assert.equal(a!.codec, 'AAC')
      assert.equal(a!.clockRate, 48000)
      assert.equal(a!.details.channels, 1)
      assert.ok(a!.details.audioSpecificConfig!.length >= 2)
      assert.ok(Math.abs(src.duration - 2) < 0.1, `duration ${src.duration}`)
      await src.close()

      const frames = await collect(join(dir, `bf.${ext}`))
      const video = frames.filter((f) => f.trackIndex === 0)
      const audio = frames.filter((f) => f.trackIndex === 1)
      assert.equal(video.length, 50)
      assert.ok(audio.length >= 93 && audio.length <= 96, `audio ${audio.length}`)
      assert.equal(video.filter((f) => f.keyFrame).length, 2)
      assert.ok(video[0]!.keyFrame)
      // Merged in decode order; per track dts non-decreasing and never above pts.
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.dts >= frames[i - 1]!.dts - 1e-9)
      for (const f of video) assert.ok(f.dts <= f.pts + 1e-9)
      // B-frames: pts not monotonic in decode order, yet every 40 ms slot appears once.
      assert.ok(video.some((f, i) => i > 0 && f.pts < video[i - 1]!.pts))
      const pts = video.map((f) => Math.round(f.pts * 1000)).sort((x, y) => x - y)
      for (let i = 1; i < pts.length; i++) assert.ok(Math.abs(pts[i]! - pts[i - 1]! - 40) <= 1)
      // NAL units, no start codes, no length prefixes, no AUDs; key frames carry a slice of type IDR.
      for (const f of video) {
        for (const n of f.data) {
          assert.ok(n.length > 0 && (n[0]! & 0x80) === 0)
          assert.notEqual(nalType(n[0]!), H264NalType.Aud)
        }
        if (f.keyFrame) assert.ok(f.data.some((n) => nalType(n[0]!) === H264NalType.IdrSlice))
      }
      // AAC raw frames: no ADTS sync word.
      for (const f of audio) assert.ok(!(f.data[0]![0] === 0xff && (f.data[0]![1]! & 0xf0) === 0xf0))
      assert.ok(Math.min(...frames.map((f) => f.pts)) >= -1e-9)
    })
  }

  test('the same access units from MP4 and MPEG-TS (parameter sets aside)', async () => {
    const strip = (fs: SourceFrame[]) => fs.filter((f) => f.trackIndex === 0).map((f) =>
      Buffer.concat(f.data.filter((n) => ![H264NalType.Sps, H264NalType.Pps].includes(nalType(n[0]!) as 7 | 8))).toString('base64'))
    assert.deepEqual(strip(await collect(join(dir, 'bf.ts'))), strip(await collect(join(dir, 'bf.mp4'))))
  })

  test('the same frames whether the file is read into memory or in chunks', async () => {
    const flat = (fs: SourceFrame[]) => fs.map((f) => ({ ...f, data: Buffer.concat(f.data).toString('base64') }))
    for (const ext of ['mp4', 'ts']) {
      assert.deepEqual(flat(await collect(join(dir, `bf.${ext}`), 0)), flat(await collect(join(dir, `bf.${ext}`))))
    }
  })

  test('a file held in memory is demuxed once: its passes replay the frames the demuxer gives (MP4 and MPEG-TS)', async () => {
    const flat = (fs: SourceFrame[]) => fs.map((f) => ({ ...f, data: f.data.map((d) => d.toString('base64')) }))
    for (const ext of ['mp4', 'ts']) {
      const demuxed = await collect(join(dir, `bf.${ext}`), 0)
      const chunked = await openFileSource(join(dir, `bf.${ext}`), { inMemoryMaxBytes: 0 })
      assert.equal(chunked.cachedFrames?.(), undefined)
      await chunked.close()
      const src = await openFileSource(join(dir, `bf.${ext}`))
      const cached = src.cachedFrames?.()
      assert.ok(cached !== undefined, `${ext}: not replayed from memory`)
      const replayed = [...cached]
      const passes: SourceFrame[][] = [[], []]
      for (const pass of passes) for await (const f of src.frames()) pass.push(f)
      await src.close()
      assert.deepEqual(flat(replayed), flat(demuxed))
      for (const pass of passes) assert.deepEqual(flat(pass), flat(demuxed))
    }
  })

  test('missing file and non-media file fail with typed errors', async () => {
    await assert.rejects(openFileSource(join(dir, 'nope.mp4')), InvalidArgumentError)
    writeFileSync(join(dir, 'junk.mp4'), Buffer.alloc(4096, 7))
    await assert.rejects(openFileSource(join(dir, 'junk.mp4')), (e) => e instanceof UnsupportedError || e instanceof MediaError)
  })
})

describe('paceFrames', () => {
  test('loops with continuous timestamps', async () => {
    const src = await openFileSource(join(dir, 'bf.mp4'))
    const seen: (SourceFrame & { loop: number })[] = []
    for await (const f of paceFrames(src, { loop: true, realtime: false })) {
      if (f.loop === 3) break
      seen.push({ ...f })
    }
    await src.close()
    const perLoop = seen.filter((f) => f.loop === 0).length
    assert.equal(seen.length, perLoop * 3)
    for (const track of [0, 1]) {
      const fs = seen.filter((f) => f.trackIndex === track)
      for (let i = 1; i < fs.length; i++) assert.ok(fs[i]!.dts > fs[i - 1]!.dts - 1e-9, `track ${track} dts at ${i}`)
      const pts = fs.map((f) => f.pts).sort((x, y) => x - y)
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i]! - pts[i - 1]! > 0.005 && pts[i]! - pts[i - 1]! < 0.065, `track ${track} gap at ${i}`)
    }
  })

  for (const inMemoryMaxBytes of [undefined, 0]) test(`playFrames hands over the frames paceFrames yields (${inMemoryMaxBytes === 0 ? 'demuxed' : 'replayed'} passes)`, async () => {
    const src = await openFileSource(join(dir, 'bf.mp4'), { inMemoryMaxBytes })
    const paced: string[] = []
    for await (const f of paceFrames(src, { loop: true, realtime: false })) {
      if (f.loop === 3) break
      paced.push(`${f.trackIndex} ${f.loop} ${f.pts.toFixed(6)} ${f.dts.toFixed(6)} ${f.keyFrame} ${Buffer.concat(f.data).length}`)
    }
    const ac = new AbortController()
    const played: string[] = []
    await playFrames(src, { loop: true, realtime: false, signal: ac.signal }, (f) => {
      if (f.loop === 3) return ac.abort()
      played.push(`${f.trackIndex} ${f.loop} ${f.pts.toFixed(6)} ${f.dts.toFixed(6)} ${f.keyFrame} ${Buffer.concat(f.data).length}`)
    })
    await src.close()
    assert.ok(paced.length > 100)
    assert.deepEqual(played, paced)
  })

  for (const inMemoryMaxBytes of [undefined, 0]) test(`pumpFrames hands over the same frames, each after the promise the last one returned (${inMemoryMaxBytes === 0 ? 'demuxed' : 'replayed'} passes)`, async () => {
    const src = await openFileSource(join(dir, 'bf.mp4'), { inMemoryMaxBytes })
    const paced: string[] = []
    for await (const f of paceFrames(src, { loop: true, realtime: false })) {
      if (f.loop === 2) break
      paced.push(`${f.trackIndex} ${f.loop} ${f.pts.toFixed(6)} ${f.dts.toFixed(6)} ${f.keyFrame} ${Buffer.concat(f.data).length}`)
    }
    const ac = new AbortController()
    const pumped: string[] = []
    let pending = false
    await pumpFrames(src, { loop: true, realtime: false, signal: ac.signal }, (f) => {
      assert.equal(pending, false, 'a frame came before the last one\'s promise settled')
      if (f.loop === 2) {
        ac.abort()
        return undefined
      }
      pumped.push(`${f.trackIndex} ${f.loop} ${f.pts.toFixed(6)} ${f.dts.toFixed(6)} ${f.keyFrame} ${Buffer.concat(f.data).length}`)
      // Every third frame waits (a socket above its high-water mark), the others go on at once.
      if (pumped.length % 3 !== 0) return undefined
      pending = true
      return new Promise<void>((resolve) => setImmediate(() => {
        pending = false
        resolve()
      }))
    })
    assert.ok(paced.length > 100)
    assert.deepEqual(pumped, paced)
    // A rejected promise ends the pump with its error.
    const boom = new Error('server went away')
    let n = 0
    await assert.rejects(pumpFrames(src, { loop: true, realtime: false }, () => (++n === 5 ? Promise.reject(boom) : undefined)), boom)
    assert.equal(n, 5)
    await src.close()
  })

  test('realtime pacing follows dts; abort stops it', async () => {
    const src = await openFileSource(join(dir, 'bf.mp4'))
    const ac = new AbortController()
    const t0 = performance.now()
    let last = 0
    for await (const f of paceFrames(src, { loop: false, realtime: true, signal: ac.signal })) {
      last = f.dts
      if (f.dts >= 0.5) ac.abort()
    }
    const elapsed = (performance.now() - t0) / 1000
    await src.close()
    assert.ok(last >= 0.5 && last < 0.6)
    assert.ok(elapsed >= 0.45 && elapsed < 1.0, `elapsed ${elapsed}`)
  })

  test('playFrames in real time follows dts; abort ends it at once', async () => {
    const src = await openFileSource(join(dir, 'bf.mp4'))
    const ac = new AbortController()
    const t0 = performance.now()
    let last = 0
    setTimeout(() => ac.abort(), 500)
    await playFrames(src, { loop: true, realtime: true, signal: ac.signal }, (f) => {
      last = f.dts
    })
    const elapsed = (performance.now() - t0) / 1000
    await src.close()
    assert.ok(last >= 0.4 && last < 0.6, `last dts ${last}`)
    assert.ok(elapsed >= 0.45 && elapsed < 1.0, `elapsed ${elapsed}`)
  })
})

describe('bitstream helpers', () => {
  test('avcC, length prefixes and ADTS', () => {
    const sps = Buffer.from('6764000dacd94141fb0110', 'hex')
    const pps = Buffer.from('68ebe3cb22c0', 'hex')
    const avcc = Buffer.concat([Buffer.from([1, 0x64, 0, 0x0d, 0xff, 0xe1, 0, sps.length]), sps, Buffer.from([1, 0, pps.length]), pps])
    const parsed = parseAvcC(avcc)
    assert.equal(parsed.lengthSize, 4)
    assert.deepEqual(parsed.nalus, [sps, pps])
    const sample = Buffer.concat([Buffer.from([0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 1, 2])])
    assert.deepEqual(splitLengthPrefixed(sample, 4), [Buffer.from([0x09, 0xf0]), Buffer.from([0x65, 1, 2])])
    assert.throws(() => splitLengthPrefixed(Buffer.from([0, 0, 0, 9, 1]), 4), MediaError)
    const adts = parseAdtsHeader(Buffer.from('fff14c4018fffcde', 'hex'))
    assert.deepEqual(adts && { o: adts.objectType, r: adts.sampleRate, c: adts.channels, h: adts.headerLength }, { o: 2, r: 48000, c: 1, h: 7 })
  })
})
