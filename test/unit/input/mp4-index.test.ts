import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { openFileSource, type SourceFrame } from '../../../src/input/file-source.js'
import { readMp4Index } from '../../../src/input/mp4-index.js'

let dir: string

function ffmpeg(args: string[]): boolean {
  try {
    execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'ignore'] })
    return true
  } catch {
    return false
  }
}

let hevc = false
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-mp4-index-'))
  const p = (name: string): string => join(dir, name)
  // 2 s, 25 fps, GOP 25, two B-frames (ctts, and an edit list for their delay); 48 kHz mono AAC.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '48k', p('bf.mp4')])
  ffmpeg(['-i', p('bf.mp4'), '-c', 'copy', p('bf.mov')])
  ffmpeg(['-i', p('bf.mp4'), '-c', 'copy', '-movflags', '+faststart', p('faststart.mp4')])
  ffmpeg(['-i', p('bf.mp4'), '-an', '-c', 'copy', p('video.mp4')])
  ffmpeg(['-i', p('bf.mp4'), '-vn', '-c', 'copy', p('audio.m4a')])
  ffmpeg(['-i', p('bf.mp4'), '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov', p('fragmented.mp4')])
  ffmpeg(['-i', p('bf.mp4'), '-c', 'copy', p('bf.ts')])
  // No B-frames (no ctts), 44.1 kHz stereo, several GOPs.
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=44100', '-t', '3',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', '30', '-c:a', 'aac', '-ac', '2', '-b:a', '64k', p('no-bframes.mp4')])
  // Audio starting 0.5 s after video: an empty edit before the audio's media.
  ffmpeg(['-i', p('no-bframes.mp4'), '-itsoffset', '0.5', '-i', p('no-bframes.mp4'), '-map', '0:v', '-map', '1:a', '-c', 'copy', p('late-audio.mp4')])
  hevc = ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-t', '1', '-c:v', 'libx265', '-preset', 'ultrafast', '-tag:v', 'hvc1', p('hevc.mp4')])
})
after(() => rmSync(dir, { recursive: true, force: true }))

async function open(path: string, mp4Index: boolean): Promise<{ tracks: unknown; duration: number; frames: SourceFrame[] }> {
  const src = await openFileSource(path, { mp4Index })
  const frames: SourceFrame[] = []
  for await (const f of src.frames()) frames.push(f)
  await src.close()
  return { tracks: src.tracks, duration: src.duration, frames }
}

/** The index gives what mediabunny's demux gives: tracks, duration, and every frame's bytes, times and key flag. */
async function assertSameAsDemux(name: string): Promise<void> {
  const path = join(dir, name)
  const demuxed = await open(path, false)
  const indexed = await open(path, true)
  assert.deepEqual(indexed.tracks, demuxed.tracks)
  assert.equal(indexed.duration, demuxed.duration)
  assert.equal(indexed.frames.length, demuxed.frames.length)
  for (let i = 0; i < demuxed.frames.length; i++) assert.deepEqual(indexed.frames[i], demuxed.frames[i], `frame ${i}`)
}

describe('readMp4Index', () => {
  for (const name of ['bf.mp4', 'bf.mov', 'faststart.mp4', 'video.mp4', 'audio.m4a', 'no-bframes.mp4', 'late-audio.mp4']) {
    test(`${name}: the same frames as mediabunny's demux`, async () => {
      assert.ok(readMp4Index(readFileSync(join(dir, name))) !== undefined, 'indexed without mediabunny')
      await assertSameAsDemux(name)
    })
  }

  test('B-frames: decode times below presentation times, key frames from stss', () => {
    const frames = [...readMp4Index(readFileSync(join(dir, 'bf.mp4')))!.table.replay()]
    const video = frames.filter((f) => f.trackIndex === 0)
    assert.equal(video.length, 50)
    assert.equal(video.filter((f) => f.keyFrame).length, 2)
    assert.ok(video.some((f) => f.dts < f.pts))
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.dts >= frames[i - 1]!.dts, 'merged in decode order')
  })

  test('files it does not index fall back to mediabunny with the same result', async () => {
    const names = ['fragmented.mp4', 'bf.ts', ...(hevc ? ['hevc.mp4'] : [])]
    for (const name of names) {
      assert.equal(readMp4Index(readFileSync(join(dir, name))), undefined, name)
      await assertSameAsDemux(name)
    }
  })

  test('an entry count larger than the file is refused before anything is allocated', () => {
    const bytes = Buffer.from(readFileSync(join(dir, 'bf.mp4')))
    const stts = bytes.indexOf('stts')
    assert.ok(stts > 0)
    // The first run's sample_count (after version/flags and entry_count).
    bytes.writeUInt32BE(0xffffffff, stts + 12)
    assert.equal(readMp4Index(bytes), undefined)
  })

  test('malformed boxes: never throws, and whatever it indexes lies in the file (fast-check)', () => {
    const good = readFileSync(join(dir, 'bf.mp4'))
    const moov = good.indexOf('moov') - 4
    assert.ok(moov > 0)
    const moovEnd = moov + good.readUInt32BE(moov)
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: moov, max: moovEnd - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }),
        fc.option(fc.integer({ min: 0, max: good.length }), { nil: undefined }),
        (edits, cut) => {
          const bytes = Buffer.from(good)
          for (const e of edits) bytes[e.at] = e.byte
          const file = cut === undefined ? bytes : bytes.subarray(0, cut)
          const index = readMp4Index(file)
          if (index === undefined) return
          const frames = [...index.table.replay()]
          assert.ok(frames.length <= file.length)
          for (const f of frames) {
            assert.ok(Number.isFinite(f.dts) || f.dts === Number.NEGATIVE_INFINITY)
            for (const d of f.data) {
              assert.equal(d.buffer, file.buffer)
              assert.ok(d.byteOffset - file.byteOffset + d.length <= file.length)
            }
          }
        },
      ),
      { numRuns: 400 },
    )
  })

  test('random bytes and truncated files: undefined, no throw (fast-check)', () => {
    const good = readFileSync(join(dir, 'bf.mp4'))
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        readMp4Index(Buffer.from(bytes))
      }),
      { numRuns: 300 },
    )
    for (let cut = 0; cut < good.length; cut += 997) readMp4Index(good.subarray(0, cut))
  })
})
