import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { InvalidArgumentError, OutputError, StateError, UnsupportedError } from '../../../src/errors.js'
import { createRecorder, formatFromPath } from '../../../src/output/index.js'
import type { RecorderTrack } from '../../../src/output/index.js'
import { buildAvcDecoderConfigurationRecord, findParameterSets, withNalHeader } from '../../../src/output/avc-config.js'
import { parseH264Sps } from '../../../src/codec/h264-sps.js'
import { CAMERA_PPS, CAMERA_SPS } from '../../helpers/fake-camera.js'

const VIDEO: RecorderTrack = { type: 'video', codec: 'H264', clockRate: 90000, details: {} }
const PCMU: RecorderTrack = { type: 'audio', codec: 'PCMU', clockRate: 8000, details: {} }
const AAC_NO_CONFIG: RecorderTrack = { type: 'audio', codec: 'AAC', clockRate: 48000, details: {} }

/** A Writable that keeps what it is given. */
function collector(): Writable & { chunks: Buffer[] } {
  const chunks: Buffer[] = []
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk)
      cb()
    },
  }) as Writable & { chunks: Buffer[] }
  w.chunks = chunks
  return w
}

describe('formatFromPath', () => {
  it('maps extensions, case-insensitively', () => {
    assert.equal(formatFromPath('a.mp4'), 'mp4')
    assert.equal(formatFromPath('/x/y/A.M4V'), 'mp4')
    assert.equal(formatFromPath('rec.fmp4'), 'mp4')
    assert.equal(formatFromPath('cam.ts'), 'ts')
    assert.equal(formatFromPath('cam.h264'), 'h264')
    assert.equal(formatFromPath('cam.264'), 'h264')
    assert.equal(formatFromPath('cam.mkv'), undefined)
    assert.equal(formatFromPath('mp4'), undefined)
  })
})

describe('createRecorder', () => {
  it('refuses when no track fits the container, naming each track', async () => {
    for (const format of ['mp4', 'ts'] as const) {
      await assert.rejects(createRecorder({ format, tracks: [PCMU, AAC_NO_CONFIG], sink: collector() }), (err: unknown) => {
        assert.ok(err instanceof UnsupportedError)
        assert.equal(err.code, 'RTSP_ERR_UNSUPPORTED')
        assert.match(err.message, /track 0: PCMU audio/)
        assert.match(err.message, /track 1: AAC without an AudioSpecificConfig/)
        return true
      })
    }
    await assert.rejects(createRecorder({ format: 'h264', tracks: [PCMU], sink: collector() }), UnsupportedError)
  })

  it('skips what it cannot hold and says why', async () => {
    const rec = await createRecorder({ format: 'mp4', tracks: [VIDEO, PCMU], sink: collector() })
    assert.deepEqual(rec.skippedTracks.map((s) => s.trackIndex), [1])
    assert.match(rec.skippedTracks[0]!.reason, /PCMU/)
    await rec.write({ trackIndex: 1, pts: 0, keyFrame: true, data: [Buffer.from([0xff])] })
    assert.equal(rec.dropped.ignored, 1)
  })

  it('builds an AudioSpecificConfig from object type, rate and channels', async () => {
    const aac: RecorderTrack = { type: 'audio', codec: 'AAC', clockRate: 44100, details: { objectType: 2, sampleRate: 44100, channels: 2 } }
    const rec = await createRecorder({ format: 'ts', tracks: [aac], sink: collector() })
    assert.deepEqual(rec.skippedTracks, [])
  })

  it('rejects a bad track index and a bad maxTrackLag', async () => {
    const rec = await createRecorder({ format: 'mp4', tracks: [VIDEO], sink: collector() })
    await assert.rejects(rec.write({ trackIndex: 3, pts: 0, keyFrame: true, data: [] }), InvalidArgumentError)
    await assert.rejects(rec.write({ trackIndex: 0, pts: Number.NaN, keyFrame: true, data: [] }), InvalidArgumentError)
    await assert.rejects(createRecorder({ format: 'mp4', tracks: [VIDEO], sink: collector(), maxTrackLag: 0 }), InvalidArgumentError)
    await assert.rejects(createRecorder({ format: 'webm' as 'mp4', tracks: [VIDEO], sink: collector() }), InvalidArgumentError)
  })

  it('fails early when the file cannot be created', async () => {
    await assert.rejects(createRecorder({ format: 'mp4', tracks: [VIDEO], sink: '/nonexistent-dir/x.mp4' }), (err: unknown) => {
      assert.ok(err instanceof OutputError)
      assert.match(err.message, /cannot open \/nonexistent-dir\/x\.mp4 for writing/)
      return true
    })
  })

  for (const format of ['mp4', 'ts', 'h264'] as const) {
    it(`${format}: finalize without a key frame throws OutputError, and writing afterwards is refused`, async () => {
      const rec = await createRecorder({ format, tracks: [VIDEO], sink: collector() })
      await rec.write({ trackIndex: 0, pts: 0, keyFrame: false, data: [Buffer.from([0x41, 0x9a])] })
      await assert.rejects(rec.finalize(), (err: unknown) => {
        assert.ok(err instanceof OutputError)
        assert.match(err.message, /nothing was recorded/)
        assert.match(err.message, /1 frames dropped before the start/)
        return true
      })
      await assert.rejects(rec.write({ trackIndex: 0, pts: 1, keyFrame: true, data: [] }), (err: unknown) => err instanceof OutputError || err instanceof StateError)
    })

    it(`${format}: a key frame without SPS/PPS anywhere cannot start the recording`, async () => {
      const rec = await createRecorder({ format, tracks: [VIDEO], sink: collector() })
      await rec.write({ trackIndex: 0, pts: 0, keyFrame: true, data: [Buffer.from([0x65, 0x88, 0x80])] })
      assert.equal(rec.framesWritten, 0)
      assert.equal(rec.dropped.beforeStart, 1)
      await assert.rejects(rec.finalize(), /nothing was recorded.*(SPS\/PPS)/)
    })
  }

  it('a failing stream surfaces as OutputError', async () => {
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error('EPIPE: broken pipe'), { code: 'EPIPE' }))
      },
    })
    const rec = await createRecorder({ format: 'h264', tracks: [{ ...VIDEO, details: { sps: CAMERA_SPS, pps: CAMERA_PPS } }], sink: broken })
    const frame = { trackIndex: 0, keyFrame: true, data: [Buffer.from([0x65, 0x88, 0x80])] }
    await rec.write({ ...frame, pts: 0 }).catch(() => {})
    await assert.rejects(
      (async () => {
        for (let i = 1; i < 5; i++) await rec.write({ ...frame, pts: i })
        await rec.finalize()
      })(),
      (err: unknown) => err instanceof OutputError && /EPIPE/.test(err.message),
    )
  })

  it('a recorder writing to a path closes the file; a lent stream stays open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-rec-'))
    try {
      const sink = collector()
      const rec = await createRecorder({ format: 'h264', tracks: [{ ...VIDEO, details: { sps: CAMERA_SPS, pps: CAMERA_PPS } }], sink })
      await rec.write({ trackIndex: 0, pts: 0, keyFrame: true, data: [Buffer.from([0x65, 0x88, 0x80])] })
      await rec.finalize()
      assert.equal(sink.writableEnded, false)
      assert.equal(rec.bytesWritten, Buffer.concat(sink.chunks).length)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('avc-config', () => {
  it('finds the last SPS/PPS of an access unit', () => {
    const a = Buffer.from([0x67, 1])
    const b = Buffer.from([0x67, 2])
    const p = Buffer.from([0x68, 3])
    assert.deepEqual(findParameterSets([Buffer.from([0x09, 0xf0]), a, b, p, Buffer.from([0x65])]), { sps: b, pps: p })
    assert.deepEqual(findParameterSets([Buffer.from([0x41])]), {})
  })

  it('adds a missing NAL header byte', () => {
    assert.equal(withNalHeader(CAMERA_SPS, 7), CAMERA_SPS)
    assert.deepEqual(withNalHeader(CAMERA_SPS.subarray(1), 7)[0], 0x67)
    assert.deepEqual(withNalHeader(CAMERA_PPS.subarray(1), 8)[0], 0x68)
  })

  it('writes the avcC fields (ISO/IEC 14496-15 §5.3.3.1), with the High-profile extension', () => {
    const baseline = buildAvcDecoderConfigurationRecord(CAMERA_SPS, CAMERA_PPS, parseH264Sps(CAMERA_SPS))
    assert.deepEqual(
      baseline,
      Buffer.concat([
        Buffer.from([1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, CAMERA_SPS.length]),
        CAMERA_SPS,
        Buffer.from([1, 0, CAMERA_PPS.length]),
        CAMERA_PPS,
      ]),
    )
    // High profile 4:2:0 8-bit (x264's SPS for 320x240).
    const sps = Buffer.from('6764000dacb40a0fd80880000003008000001e078a1550', 'hex')
    const pps = Buffer.from('68ef0fcb', 'hex')
    const high = buildAvcDecoderConfigurationRecord(sps, pps, parseH264Sps(sps))
    assert.deepEqual(high.subarray(0, 6), Buffer.from([1, 0x64, 0x00, 0x0d, 0xff, 0xe1]))
    assert.deepEqual(high.subarray(-4), Buffer.from([0xfd, 0xf8, 0xf8, 0]))
  })
})
