import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { aacDetailsFromSdp, aacFmtp, aacFrameDuration, aacMediaDescription, parseAacFmtp } from '../../../src/formats/aac/sdp.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { writeSdp } from '../../../src/sdp/write.js'

const media = (name: string, index: number) => parseSdp(readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url))).media[index]!

describe('AAC SDP mapping', () => {
  test('config 1190 → LC 48000 Hz stereo (GStreamer)', () => {
    const d = aacDetailsFromSdp(media('gstreamer-h264-aac.sdp', 1), 97)
    assert.deepEqual([d.objectType, d.sampleRate, d.channels, d.codecString], [2, 48000, 2, 'mp4a.40.2'])
    assert.equal(d.audioSpecificConfig?.toString('hex'), '1190')
  })

  test('config 1408 → LC 16000 Hz mono (Axis)', () => {
    const d = aacDetailsFromSdp(media('axis.sdp', 1), 97)
    assert.deepEqual([d.sampleRate, d.channels], [16000, 1])
  })

  test('AAC-hbr header layout, mixed-case keys', () => {
    const p = parseAacFmtp(media('no-header-trailing-spaces.sdp', 1).fmtp.get(97))
    assert.deepEqual([p.mode, p.sizeLength, p.indexLength, p.indexDeltaLength], ['AAC-hbr', 13, 3, 3])
    assert.equal(p.config?.toString('hex'), '1210')
  })

  test('mode defaults when sizelength and friends are missing', () => {
    assert.deepEqual(Object.values(parseAacFmtp({ mode: 'AAC-lbr' })).slice(1, 4), [6, 2, 2])
    assert.deepEqual(Object.values(parseAacFmtp({ mode: 'aac-hbr', sizelength: 'x' })).slice(1, 4), [13, 3, 3])
  })

  test('missing config: LC at the rtpmap rate and channels, with a built ASC', () => {
    const m = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/44100/2\na=fmtp:97 mode=AAC-hbr\n').media[0]!
    const d = aacDetailsFromSdp(m, 97)
    assert.deepEqual([d.objectType, d.sampleRate, d.channels], [2, 44100, 2])
    assert.equal(d.audioSpecificConfig?.toString('hex'), '1210')
  })

  test('frame duration: constantDuration, ASC frame length, HE-AAC, default', () => {
    assert.equal(aacFrameDuration(parseAacFmtp({ constantduration: '960' }), 48000), 960)
    assert.equal(aacFrameDuration(parseAacFmtp({ config: '1194' }), 48000), 960)
    assert.equal(aacFrameDuration(parseAacFmtp({ config: '2b118800' }), 48000), 2048)
    // implicit SBR: the config says LC 24 kHz, the RTP clock runs at 48 kHz
    assert.equal(aacFrameDuration(parseAacFmtp({ config: '1310' }), 48000), 2048)
    assert.equal(aacFrameDuration(parseAacFmtp({}), 8000), 1024)
    assert.equal(aacFrameDuration(parseAacFmtp({ config: 'zz' }), 8000), 1024)
  })

  test('aacFmtp for ANNOUNCE, and back', () => {
    assert.deepEqual(aacFmtp({ objectType: 2, sampleRate: 48000, channels: 2 }), {
      streamtype: '5',
      'profile-level-id': '1',
      mode: 'AAC-hbr',
      sizelength: '13',
      indexlength: '3',
      indexdeltalength: '3',
      config: '1190',
    })
    const text = writeSdp({ media: [aacMediaDescription({ config: Buffer.from('1408', 'hex'), control: 'trackID=1' })] })
    assert.match(text, /a=rtpmap:97 mpeg4-generic\/16000\/1\r\n/)
    const d = aacDetailsFromSdp(parseSdp(text).media[0]!, 97)
    assert.deepEqual([d.sampleRate, d.channels], [16000, 1])
  })
})
