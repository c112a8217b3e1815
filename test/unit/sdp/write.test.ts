import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { writeSdp } from '../../../src/sdp/write.js'

const dir = new URL('../../fixtures/sdp/', import.meta.url)

describe('writeSdp', () => {
  test('writes an ANNOUNCE body with CRLF line ends', () => {
    const text = writeSdp({
      sessionName: 'rtspkit',
      media: [
        {
          type: 'video',
          formats: [96],
          rtpmap: [{ payloadType: 96, encoding: 'H264', clockRate: 90000 }],
          fmtp: new Map([[96, { 'packetization-mode': '1', 'profile-level-id': '64001f' }]]),
          control: 'trackID=0',
        },
        {
          type: 'audio',
          formats: [97],
          rtpmap: new Map([[97, { payloadType: 97, encoding: 'mpeg4-generic', clockRate: 48000, channels: 2 }]]),
          fmtp: new Map([[97, 'streamtype=5;mode=AAC-hbr;config=1190']]),
          control: 'trackID=1',
          direction: 'sendonly',
        },
      ],
    })
    assert.equal(
      text,
      [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=rtspkit',
        'c=IN IP4 0.0.0.0',
        't=0 0',
        'm=video 0 RTP/AVP 96',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1;profile-level-id=64001f',
        'a=control:trackID=0',
        'm=audio 0 RTP/AVP 97',
        'a=rtpmap:97 mpeg4-generic/48000/2',
        'a=fmtp:97 streamtype=5;mode=AAC-hbr;config=1190',
        'a=control:trackID=1',
        'a=sendonly',
        '',
      ].join('\r\n'),
    )
  })

  test('line breaks in values are rejected', () => {
    assert.throws(() => writeSdp({ sessionName: 'x\r\na=evil', media: [] }), InvalidArgumentError)
    assert.throws(() => writeSdp({ media: [{ type: 'video', formats: [96], control: 'a\nb' }] }), InvalidArgumentError)
  })

  for (const name of readdirSync(dir).filter((f) => f.endsWith('.sdp'))) {
    test(`parse → write → parse keeps ${name}`, () => {
      const first = parseSdp(readFileSync(new URL(name, dir)))
      const second = parseSdp(writeSdp(first))
      assert.equal(second.control, first.control)
      assert.equal(second.range, first.range)
      assert.equal(second.media.length, first.media.length)
      first.media.forEach((m, i) => {
        const n = second.media[i]!
        assert.deepEqual([n.type, n.formats, n.control, n.direction, n.bandwidth], [m.type, m.formats, m.control, m.direction, m.bandwidth])
        assert.deepEqual(n.rtpmap, m.rtpmap)
        assert.deepEqual(n.fmtp, m.fmtp)
        // Same attribute lines, in the writer's order; fmtp values are re-joined without spaces.
        const lines = (attrs: Array<[string, string]>) => attrs.filter(([k]) => k !== 'fmtp').map(([k, v]) => `${k}:${v}`).sort()
        assert.deepEqual(lines(n.attributes), lines(m.attributes))
      })
    })
  }
})
