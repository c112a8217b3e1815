import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { SdpError } from '../../../src/errors.js'
import { parseSdp, rtpMapFor } from '../../../src/sdp/parse.js'
import { resolveControl } from '../../../src/util/url.js'

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/sdp/${name}`, import.meta.url))

describe('parseSdp: camera fixtures', () => {
  test('GStreamer: H.264 + mpeg4-generic AAC, a=control:stream=N', () => {
    const sdp = parseSdp(fixture('gstreamer-h264-aac.sdp'))
    assert.equal(sdp.version, 0)
    assert.equal(sdp.sessionName, 'Session streamed with GStreamer')
    assert.equal(sdp.control, '*')
    assert.equal(sdp.range, 'npt=0-')
    assert.equal(sdp.media.length, 2)
    const [video, audio] = sdp.media
    assert.equal(video!.type, 'video')
    assert.equal(video!.port, 0)
    assert.equal(video!.protocol, 'RTP/AVP')
    assert.deepEqual(video!.formats, [96])
    assert.equal(video!.control, 'stream=0')
    assert.equal(video!.bandwidth, 2097)
    assert.deepEqual(video!.rtpmap.get(96), { payloadType: 96, encoding: 'H264', clockRate: 90000 })
    const fmtp = video!.fmtp.get(96)!
    assert.equal(fmtp['packetization-mode'], '1')
    assert.equal(fmtp['sprop-parameter-sets'], 'Z2QAHqzZQKA9sBEAAAMAAQAAAwAyDxYtlg==,aOvjyyLA')
    assert.equal(fmtp['profile-level-id'], '64001e')
    assert.deepEqual(audio!.rtpmap.get(97), { payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 48000, channels: 2 })
    assert.equal(audio!.fmtp.get(97)!['config'], '1190')
    assert.equal(audio!.control, 'stream=1')
    assert.ok(video!.attributes.some(([k, v]) => k === 'framerate' && v === '25'))
  })

  test('Hikvision: relative a=control:trackID=1, fmtp with spaces after ";", static PCMA', () => {
    const sdp = parseSdp(fixture('hikvision-relative-control.sdp'))
    assert.equal(sdp.control, 'rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast')
    const [video, audio] = sdp.media
    assert.equal(video!.control, 'trackID=1')
    assert.equal(video!.direction, 'recvonly')
    assert.deepEqual(Object.keys(video!.fmtp.get(96)!), ['profile-level-id', 'packetization-mode', 'sprop-parameter-sets'])
    assert.equal(video!.fmtp.get(96)!['profile-level-id'], '4D401F')
    assert.deepEqual(audio!.formats, [8])
    assert.equal(audio!.rtpmap.get(8)?.encoding, 'PCMA')
    assert.ok(audio!.attributes.some(([k, v]) => k === 'Media_header' && v.startsWith('MEDIAINFO=')))
    assert.equal(resolveControl('rtsp://192.168.1.64:554/Streaming/Channels/101', video!.control), 'rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1')
  })

  test('Hikvision: absolute media control, session a=control:*', () => {
    const sdp = parseSdp(fixture('hikvision-absolute-control.sdp'))
    assert.equal(sdp.control, '*')
    const control = sdp.media[0]!.control!
    assert.equal(control, 'rtsp://10.0.0.8:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1')
    assert.equal(resolveControl('rtsp://10.0.0.8/Streaming/Channels/101', control), control)
  })

  test('Hikvision without sprop-parameter-sets', () => {
    const sdp = parseSdp(fixture('hikvision-no-sprop.sdp'))
    const fmtp = sdp.media[0]!.fmtp.get(96)!
    assert.equal(fmtp['sprop-parameter-sets'], undefined)
    assert.equal(fmtp['profile-level-id'], '420029')
  })

  test('Dahua: a=range:npt=now-, ONVIF metadata application track', () => {
    const sdp = parseSdp(fixture('dahua.sdp'))
    assert.equal(sdp.range, 'npt=now-')
    assert.deepEqual(sdp.media.map((m) => m.type), ['video', 'audio', 'application'])
    assert.deepEqual(sdp.media.map((m) => m.control), ['trackID=0', 'trackID=1', 'trackID=4'])
    assert.equal(sdp.media[2]!.rtpmap.get(107)?.encoding, 'vnd.onvif.metadata')
    assert.equal(sdp.media[1]!.rtpmap.get(97)?.channels, 1)
  })

  test('Axis: absolute controls with a query', () => {
    const sdp = parseSdp(fixture('axis.sdp'))
    assert.equal(sdp.control, 'rtsp://192.168.0.90/axis-media/media.amp?videocodec=h264&audio=1')
    assert.equal(sdp.media[0]!.control, 'rtsp://192.168.0.90/axis-media/media.amp/stream=0?videocodec=h264&audio=1')
    assert.equal(sdp.media[1]!.fmtp.get(97)!['bitrate'], '32000')
  })

  test('ONVIF metadata track is kept as an application media', () => {
    const sdp = parseSdp(fixture('onvif-metadata.sdp'))
    const meta = sdp.media[1]!
    assert.equal(meta.type, 'application')
    assert.equal(meta.direction, 'sendonly')
    assert.equal(meta.control, 'metadata')
  })

  test('LF-only line ends (live555 style)', () => {
    const sdp = parseSdp(fixture('lf-only.sdp'))
    assert.equal(sdp.media.length, 1)
    assert.equal(sdp.media[0]!.control, 'track1')
    assert.equal(sdp.media[0]!.bandwidth, 500)
    assert.equal(sdp.sessionName, 'LF only (live555-style)')
  })

  test('packetization-mode=0', () => {
    const sdp = parseSdp(fixture('packetization-mode-0.sdp'))
    assert.equal(sdp.media[0]!.fmtp.get(96)!['packetization-mode'], '0')
  })

  test('no v=/o=/s=, trailing spaces, mixed-case fmtp keys, lower-case encoding', () => {
    const sdp = parseSdp(fixture('no-header-trailing-spaces.sdp'))
    assert.equal(sdp.version, 0)
    assert.equal(sdp.origin, undefined)
    assert.equal(sdp.sessionName, undefined)
    const [video, audio] = sdp.media
    assert.equal(video!.control, 'trackID=0')
    assert.equal(video!.rtpmap.get(96)?.encoding, 'h264')
    const fmtp = video!.fmtp.get(96)!
    assert.equal(fmtp['packetization-mode'], '1')
    assert.equal(fmtp['sprop-parameter-sets'], 'Z2QAHqzZQKA9sBEAAAMAAQAAAwAyDxYtlg==,aOvjyyLA')
    assert.equal(fmtp['profile-level-id'], '64001E')
    assert.deepEqual(video!.attributes.at(-1), ['x-unknown-vendor-thing', ''])
    assert.equal(audio!.fmtp.get(97)!['sizelength'], '13')
    assert.equal(audio!.control, 'trackID=1')
  })
})

describe('parseSdp: leniency and errors', () => {
  test('CR-only line ends and spaces around "="', () => {
    const sdp = parseSdp('v=0\rm=video 0 RTP/AVP 96\ra = control : track0 \r')
    assert.equal(sdp.media[0]!.control, 'track0')
  })

  test('several fmtp lines for one payload type are merged', () => {
    const sdp = parseSdp('m=video 0 RTP/AVP 96\na=fmtp:96 a=1\na=fmtp:96 b=2;a=3\n')
    assert.deepEqual(sdp.media[0]!.fmtp.get(96), { a: '3', b: '2' })
  })

  test('rtpmap without a clock rate, and static payload types without rtpmap', () => {
    const sdp = parseSdp('m=audio 0 RTP/AVP 0 8 96\na=rtpmap:96 opus\n')
    const m = sdp.media[0]!
    assert.deepEqual(m.formats, [0, 8, 96])
    assert.deepEqual(m.rtpmap.get(96), { payloadType: 96, encoding: 'opus', clockRate: 0 })
    assert.deepEqual(rtpMapFor(m, 0), { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 })
    assert.equal(rtpMapFor(m, 8)?.encoding, 'PCMA')
    assert.equal(rtpMapFor(m, 97), undefined)
  })

  test('session a= lines before the first m= stay at session level', () => {
    const sdp = parseSdp('a=control:*\na=tool:x\nm=video 0 RTP/AVP 96\na=tool:y\n')
    assert.deepEqual(sdp.attributes, [['control', '*'], ['tool', 'x']])
    assert.deepEqual(sdp.media[0]!.attributes, [['tool', 'y']])
  })

  test('a UTF-8 BOM is skipped', () => {
    assert.equal(parseSdp('\ufeffv=1\nm=video 0 RTP/AVP 96\n').version, 1)
  })

  test('no m= line throws SdpError', () => {
    assert.throws(() => parseSdp('v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=x\r\n'), SdpError)
    assert.throws(() => parseSdp(''), SdpError)
  })

  test('binary or non-text input throws SdpError', () => {
    assert.throws(() => parseSdp(Buffer.from([0x24, 0, 0, 12, 0x80, 0x60])), SdpError)
    assert.throws(() => parseSdp(42 as unknown as string), SdpError)
  })

  test('random text never throws anything but SdpError', () => {
    const line = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom('v', 'o', 's', 'm', 'a', 'b', 'c', 't', 'x'), fc.string()).map(([t, v]) => `${t}=${v}`),
      fc.tuple(fc.constantFrom('rtpmap', 'fmtp', 'control', 'range', 'sendonly'), fc.string()).map(([k, v]) => `a=${k}:${v}`),
    )
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom('\r\n', '\n', '\r'), (lines, eol) => {
        try {
          parseSdp(lines.join(eol))
        } catch (err) {
          if (!(err instanceof SdpError)) throw err
        }
      }),
    )
  })
})
