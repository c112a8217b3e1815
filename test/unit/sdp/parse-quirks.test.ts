// SDP leniencies named after the server that needed them.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseSdp } from '../../../src/sdp/parse.js'

describe('parseSdp: vendor quirks', () => {
  it('HIK Media Server V5: a=fmtp:97 under m=audio ... 104 is taken for 104 (gortsplib #658)', () => {
    const sdp = parseSdp(
      ['v=0', 's=HIK Media Server V5.03.010', 'm=audio 0 RTP/AVP 104', 'a=rtpmap:104 MPEG4-GENERIC/16000', 'a=fmtp:97 streamtype=5;mode=AAC-hbr;config=1408', ''].join('\r\n'),
    )
    assert.deepEqual(sdp.media[0]!.fmtp.get(104), { streamtype: '5', mode: 'AAC-hbr', config: '1408' })
    assert.equal(sdp.media[0]!.fmtp.has(97), false)
  })

  it('a=rtpmap naming another dynamic payload type than the single one on m=', () => {
    const sdp = parseSdp('v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:97 H264/90000\r\n')
    assert.deepEqual(sdp.media[0]!.rtpmap.get(96), { payloadType: 96, encoding: 'H264', clockRate: 90000 })
  })

  it('several formats, or a format with its own fmtp: nothing is moved', () => {
    const many = parseSdp('v=0\r\nm=audio 0 RTP/AVP 0 8\r\na=fmtp:97 x=1\r\n')
    assert.ok(many.media[0]!.fmtp.has(97))
    const own = parseSdp('v=0\r\nm=video 0 RTP/AVP 96\r\na=fmtp:96 a=1\r\na=fmtp:97 b=2\r\n')
    assert.deepEqual(own.media[0]!.fmtp.get(96), { a: '1' })
  })
})
