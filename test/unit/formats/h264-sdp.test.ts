import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { h264DetailsFromSdp, h264Fmtp, h264MediaDescription, parseH264Fmtp } from '../../../src/formats/h264/sdp.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { writeSdp } from '../../../src/sdp/write.js'
import { PPS, SPS } from '../../vectors/h264.js'

const media = (name: string, index = 0) => parseSdp(readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url))).media[index]!

describe('H.264 SDP mapping', () => {
  test('sprop-parameter-sets → SPS, PPS and details (GStreamer)', () => {
    const d = h264DetailsFromSdp(media('gstreamer-h264-aac.sdp'), 96)
    assert.equal(d.sps?.toString('hex'), SPS.toString('hex'))
    assert.equal(d.pps?.toString('hex'), PPS.toString('hex'))
    assert.deepEqual([d.width, d.height, d.profile, d.level, d.codecString, d.packetizationMode], [640, 480, 'High', '3.0', 'avc1.64001e', 1])
  })

  test('Hikvision 720p Main with spaces after ";"', () => {
    const d = h264DetailsFromSdp(media('hikvision-relative-control.sdp'), 96)
    assert.deepEqual([d.width, d.height, d.profile, d.level, d.codecString], [1280, 720, 'Main', '3.1', 'avc1.4d401f'])
  })

  test('1080p with cropping (Dahua)', () => {
    const d = h264DetailsFromSdp(media('dahua.sdp'), 96)
    assert.deepEqual([d.width, d.height], [1920, 1080])
  })

  test('no sprop-parameter-sets: profile and level from profile-level-id', () => {
    const d = h264DetailsFromSdp(media('hikvision-no-sprop.sdp'), 96)
    assert.equal(d.sps, undefined)
    assert.equal(d.width, undefined)
    assert.deepEqual([d.profile, d.level, d.codecString], ['Baseline', '4.1', 'avc1.420029'])
  })

  test('packetization-mode=0', () => {
    const d = h264DetailsFromSdp(media('packetization-mode-0.sdp'), 96)
    assert.equal(d.packetizationMode, 0)
    assert.deepEqual([d.width, d.height, d.profile], [352, 288, 'Constrained Baseline'])
  })

  test('parameter sets in any order, SEI and junk entries skipped, bad SPS tolerated', () => {
    const p = parseH264Fmtp({ 'sprop-parameter-sets': `${PPS.toString('base64')},,BgUBAg==,${SPS.toString('base64')}` })
    assert.equal(p.sps?.toString('hex'), SPS.toString('hex'))
    assert.equal(p.pps?.toString('hex'), PPS.toString('hex'))
    assert.equal(p.packetizationMode, 0)
    const broken = h264DetailsFromSdp(parseSdp('m=video 0 RTP/AVP 96\na=fmtp:96 sprop-parameter-sets=Z2QA,aOvjyyLA\n').media[0]!, 96)
    assert.equal(broken.sps?.toString('hex'), '676400')
    assert.equal(broken.width, undefined)
  })

  test('h264Fmtp for ANNOUNCE, and back', () => {
    const fmtp = h264Fmtp({ sps: SPS, pps: PPS })
    assert.deepEqual(fmtp, {
      'packetization-mode': '1',
      'profile-level-id': '64001e',
      'sprop-parameter-sets': 'Z2QAHqzZQKA9sBEAAAMAAQAAAwAyDxYtlg==,aOvjyyLA',
    })
    const text = writeSdp({ media: [h264MediaDescription({ sps: SPS, pps: PPS, control: 'trackID=0' })] })
    const back = h264DetailsFromSdp(parseSdp(text).media[0]!, 96)
    assert.deepEqual([back.width, back.height, back.packetizationMode], [640, 480, 1])
  })
})
