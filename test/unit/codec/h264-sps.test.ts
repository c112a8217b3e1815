import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { avcCodecString, h264LevelName, parseH264Sps } from '../../../src/codec/h264-sps.js'
import { MediaError } from '../../../src/errors.js'
import { h } from '../../vectors/rtp.js'

/** SPS from libx264 via ffmpeg; expectations cross-checked with ffprobe. */
const vectors = [
  { name: '640x480 High 3.0', sps: '6764001eacd940a03db011000003000100000300320f162d96', width: 640, height: 480, profile: 'High', level: '3.0', codec: 'avc1.64001e', fps: 25 },
  { name: '1920x1080 High 4.0 (cropped from 1088)', sps: '67640028acd940780227e5c044000003000400000300c83c60c658', width: 1920, height: 1080, profile: 'High', level: '4.0', codec: 'avc1.640028' },
  { name: '352x288 Constrained Baseline 2.1', sps: '6742c015d9016096c044000003000400000300c83c58b920', width: 352, height: 288, profile: 'Constrained Baseline', level: '2.1', codec: 'avc1.42c015' },
  { name: '1280x720 Main 3.1', sps: '674d401feca02802dd80880000030008000003019078c18cb0', width: 1280, height: 720, profile: 'Main', level: '3.1', codec: 'avc1.4d401f' },
  { name: '642x362 High: odd size, crop right and bottom', sps: '6764001eacd940a42fe224c044000003000400000300c83c58b658', width: 642, height: 362, profile: 'High', level: '3.0', codec: 'avc1.64001e' },
  { name: '640x360 High with scaling matrices in the SPS', sps: '6764001eacd940a02ff97011000003000100000300320f162d96', width: 640, height: 360, profile: 'High', level: '3.0', codec: 'avc1.64001e' },
  { name: '720x576 interlaced (frame_mbs_only 0)', sps: '6764001eacd940b424d8088000000300800000190f8a14cb', width: 720, height: 576, profile: 'High', level: '3.0', codec: 'avc1.64001e', frameMbsOnly: false },
  { name: '1920x1080 interlaced, cropped in field units', sps: '67640028acd94078044fde0220000003002000000783e2c5b2c0', width: 1920, height: 1080, profile: 'High', level: '4.0', codec: 'avc1.640028', frameMbsOnly: false },
  { name: '320x240 High 4:2:2', sps: '677a000dbcd94141fb011000000300100000030320f1429960', width: 320, height: 240, profile: 'High 4:2:2', level: '1.3', codec: 'avc1.7a000d', chroma: 2 },
  { name: '322x242 High 4:2:2: vertical crop unit 1', sps: '677a000dbcd9415087888fc044000003000400000300f03c50a658', width: 322, height: 242, profile: 'High 4:2:2', level: '1.3', codec: 'avc1.7a000d', chroma: 2 },
  { name: '320x240 High 4:4:4 Predictive', sps: '67f4000d919b28283f6022000003000200000300641e28532c', width: 320, height: 240, profile: 'High 4:4:4 Predictive', level: '1.3', codec: 'avc1.f4000d', chroma: 3 },
  { name: '321x241 High 4:4:4: crop unit 1x1', sps: '67f4000d919b282a10f084218088000003000800000301e078a14cb0', width: 321, height: 241, profile: 'High 4:4:4 Predictive', level: '1.3', codec: 'avc1.f4000d', chroma: 3 },
  { name: '1280x720 High 10', sps: '676e001fa6cd9405005bb0110000030001000003003c0f183196', width: 1280, height: 720, profile: 'High 10', level: '3.1', codec: 'avc1.6e001f', bitDepth: 10 },
  { name: '322x242 High (x264 from gray input)', sps: '6764000df36505421e3e3f016c80000003008000001e078a14cb', width: 322, height: 242, profile: 'High', level: '1.3', codec: 'avc1.64000d' },
  { name: '720x480 with SAR 40:33', sps: '6764001eacd940b43db0510000030001000003003c0f162d96', width: 720, height: 480, profile: 'High', level: '3.0', codec: 'avc1.64001e', sar: [40, 33], fps: 30 },
]

describe('parseH264Sps', () => {
  for (const v of vectors) {
    test(v.name, () => {
      const info = parseH264Sps(h(v.sps))
      assert.equal(info.width, v.width)
      assert.equal(info.height, v.height)
      assert.equal(info.profile, v.profile)
      assert.equal(info.level, v.level)
      assert.equal(info.codecString, v.codec)
      if (v.frameMbsOnly !== undefined) assert.equal(info.frameMbsOnly, v.frameMbsOnly)
      if (v.chroma !== undefined) assert.equal(info.chromaFormatIdc, v.chroma)
      if (v.bitDepth !== undefined) assert.equal(info.bitDepthLuma, v.bitDepth)
      if (v.sar) assert.deepEqual([info.sarWidth, info.sarHeight], v.sar)
      if (v.fps) assert.equal(info.frameRate, v.fps)
    })
  }

  test('accepts the SPS without its NAL header byte', () => {
    const info = parseH264Sps(h('64001eacd940a03db011000003000100000300320f162d96'))
    assert.equal(info.width, 640)
  })

  test('Baseline without constraint_set1 and level 1b', () => {
    // the constraint byte does not affect the rest of the SPS
    const baseline = h('6742c015d9016096c044000003000400000300c83c58b920')
    baseline[2] = 0x80
    assert.equal(parseH264Sps(baseline).profile, 'Baseline')
    baseline[2] = 0x90
    baseline[3] = 11
    assert.equal(parseH264Sps(baseline).level, '1b')
    assert.equal(h264LevelName(9), '1b')
    assert.equal(h264LevelName(11), '1.1')
  })

  test('codec string', () => {
    assert.equal(avcCodecString(100, 0, 31), 'avc1.64001f')
  })

  test('truncated or empty input throws MediaError', () => {
    const sps = h('6764001eacd940a03db011000003000100000300320f162d96')
    for (let n = 0; n < 9; n++) {
      assert.throws(() => parseH264Sps(sps.subarray(0, n)), MediaError, `length ${n}`)
    }
  })

  test('a broken VUI still yields the size', () => {
    // cut inside the VUI timing info
    const info = parseH264Sps(h('6764001eacd940a03db011000003000100'))
    assert.equal(info.width, 640)
    assert.equal(info.frameRate, undefined)
  })
})
