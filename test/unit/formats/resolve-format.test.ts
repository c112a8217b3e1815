import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { AacDepacketizer } from '../../../src/formats/aac/depacketizer.js'
import { H264Depacketizer } from '../../../src/formats/h264/depacketizer.js'
import { resolveFormat, supportedCodecs } from '../../../src/formats/index.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { SPS } from '../../vectors/h264.js'
import { h } from '../../vectors/rtp.js'

const sdp = (name: string) => parseSdp(readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url)))

describe('resolveFormat', () => {
  test('H.264 and AAC from a GStreamer SDP', () => {
    const [video, audio] = sdp('gstreamer-h264-aac.sdp').media
    const v = resolveFormat(video!, 96)!
    assert.equal(v.codec, 'H264')
    assert.equal(v.clockRate, 90000)
    assert.equal(v.details.width, 640)
    assert.ok(v.createDepacketizer() instanceof H264Depacketizer)
    const a = resolveFormat(audio!, 97)!
    assert.equal(a.codec, 'AAC')
    assert.equal(a.clockRate, 48000)
    assert.equal(a.details.sampleRate, 48000)
    assert.ok(a.createDepacketizer() instanceof AacDepacketizer)
  })

  test('the H.264 depacketizer knows the sprop parameter sets', () => {
    const d = resolveFormat(sdp('gstreamer-h264-aac.sdp').media[0]!, 96)!.createDepacketizer()
    const [unit] = d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('65 88') })
    assert.equal(unit!.data[0]!.toString('hex'), SPS.toString('hex'))
  })

  test('lower-case h264 and mpeg4-generic', () => {
    const [video, audio] = sdp('no-header-trailing-spaces.sdp').media
    assert.equal(resolveFormat(video!, 96)?.codec, 'H264')
    const a = resolveFormat(audio!, 97)!
    assert.deepEqual([a.codec, a.clockRate, a.details.channels], ['AAC', 44100, 2])
  })

  test('the AAC depacketizer uses the fmtp layout: AAC-lbr', () => {
    const m = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/8000/1\na=fmtp:97 mode=AAC-lbr;config=1588;sizelength=6;indexlength=2;indexdeltalength=2\n').media[0]!
    const units = resolveFormat(m, 97)!.createDepacketizer().push({ marker: true, payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('0010 0c 08 aabbcc ddee') })
    assert.deepEqual(units.map((u) => [u.rtpTimestamp, u.data[0]!.toString('hex')]), [[0, 'aabbcc'], [1024, 'ddee']])
  })

  test('mpeg4-generic without mode but with streamtype=5, and with neither but an AAC config', () => {
    const withStreamType = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/16000\na=fmtp:97 streamtype=5;config=1408\n').media[0]!
    assert.equal(resolveFormat(withStreamType, 97)?.codec, 'AAC')
    const bare = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/16000\na=fmtp:97 config=1408;sizelength=13;indexlength=3;indexdeltalength=3\n').media[0]!
    assert.equal(resolveFormat(bare, 97)?.codec, 'AAC')
  })

  test('undefined for what no format consumes', () => {
    assert.equal(resolveFormat(sdp('hikvision-relative-control.sdp').media[1]!, 8)?.codec, 'PCMA', 'PCMA (static payload type 8)')
    assert.equal(resolveFormat(sdp('onvif-metadata.sdp').media[1]!, 107), undefined, 'ONVIF metadata')
    const celp = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/8000\na=fmtp:97 mode=CELP-cbr;streamtype=5\n').media[0]!
    assert.equal(resolveFormat(celp, 97), undefined, 'CELP')
    const usac = parseSdp('m=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/48000\na=fmtp:97 streamtype=5;config=f94640\n').media[0]!
    assert.equal(resolveFormat(usac, 97), undefined, 'a config that is not AAC')
    const video = parseSdp('m=video 0 RTP/AVP 96\na=rtpmap:96 mpeg4-generic/90000\na=fmtp:96 mode=generic;streamtype=4\n').media[0]!
    assert.equal(resolveFormat(video, 96), undefined, 'MPEG-4 generic video')
    const interleaved = parseSdp('m=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 packetization-mode=2\n').media[0]!
    assert.equal(resolveFormat(interleaved, 96), undefined, 'H.264 interleaved mode')
    assert.equal(resolveFormat(sdp('gstreamer-h264-aac.sdp').media[0]!, 97), undefined, 'payload type not in rtpmap')
  })

  test('supportedCodecs', () => {
    for (const codec of ['H264', 'H265', 'JPEG', 'AAC']) assert.ok(supportedCodecs.includes(codec), codec)
  })
})
