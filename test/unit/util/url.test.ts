import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { parseRtspUrl, redactUrl, resolveContentBase, resolveControl } from '../../../src/util/url.js'
import { InvalidArgumentError } from '../../../src/errors.js'

describe('parseRtspUrl', () => {
  it('splits off percent-encoded credentials and defaults the port', () => {
    const p = parseRtspUrl('rtsp://ad%40min:p%3Ass%20w@cam.local/Streaming/Channels/101')
    assert.deepEqual(p.credentials, { username: 'ad@min', password: 'p:ss w' })
    assert.equal(p.url.toString(), 'rtsp://cam.local/Streaming/Channels/101')
    assert.equal(p.port, 554)
    assert.equal(parseRtspUrl('rtsps://h/x').port, 322)
    assert.equal(parseRtspUrl('rtsp://[::1]:8554/x').host, '::1')
  })
  it('refuses other schemes without echoing the password', () => {
    assert.throws(() => parseRtspUrl('http://u:secret@h/x'), (e: unknown) => e instanceof InvalidArgumentError && !e.message.includes('secret'))
    assert.throws(() => parseRtspUrl('not a url :secret@'), InvalidArgumentError)
  })
})

describe('redactUrl', () => {
  it('removes user info, parseable or not', () => {
    assert.equal(redactUrl('rtsp://u:p@h:554/x?y=1'), 'rtsp://h:554/x?y=1')
    assert.equal(redactUrl('rtsp://u:p@[bad/x'), 'rtsp://[bad/x')
  })
})

describe('resolveControl (RFC 2326 C.1.1 and camera practice)', () => {
  const cases: Array<[string, string, string | undefined, string]> = [
    ['GStreamer: base with slash, stream=0', 'rtsp://h:8554/test/', 'stream=0', 'rtsp://h:8554/test/stream=0'],
    ['Hikvision: base without slash, trackID=1', 'rtsp://h/Streaming/Channels/101', 'trackID=1', 'rtsp://h/Streaming/Channels/101/trackID=1'],
    ['Dahua: query then slash in the base', 'rtsp://h/cam/realmonitor?channel=1&subtype=0/', 'trackID=0', 'rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0'],
    ['Axis: absolute control', 'rtsp://h/axis-media/media.amp/', 'rtsp://h/axis-media/media.amp/trackID=1', 'rtsp://h/axis-media/media.amp/trackID=1'],
    ['session-level *', 'rtsp://h/s/', '*', 'rtsp://h/s/'],
    ['no control: the base', 'rtsp://h/s', undefined, 'rtsp://h/s'],
    ['absolute path', 'rtsp://h:554/a/b/', '/other/track1', 'rtsp://h:554/other/track1'],
  ]
  for (const [name, base, control, expected] of cases) {
    it(name, () => assert.equal(resolveControl(base, control), expected))
  }
})

describe('resolveContentBase (issue 11: Content-Base without a scheme)', () => {
  const req = 'rtsp://192.168.1.10:554/stream'
  const cases: Array<[string, string | undefined, string, string]> = [
    ['absent', undefined, req, req],
    ['empty', '  ', req, req],
    ['absolute, credentials removed', 'rtsp://u:p@192.168.1.10:554/stream/', req, 'rtsp://192.168.1.10:554/stream/'],
    ['rtsps absolute', 'rtsps://cam/x/', req, 'rtsps://cam/x/'],
    ['host without a scheme (camera quirk)', '192.168.1.10/stream/', req, 'rtsp://192.168.1.10:554/stream/'],
    ['LAN host and port without a scheme: the path on our server', '10.0.0.5:8554/live/', req, 'rtsp://192.168.1.10:554/live/'],
    ['host name without a scheme', 'cam.local/stream/', req, 'rtsp://192.168.1.10:554/stream/'],
    ['host only, no path', '192.168.1.10', req, 'rtsp://192.168.1.10:554/'],
    ['absolute path', '/stream/', req, 'rtsp://192.168.1.10:554/stream/'],
    ['bare path naming the stream', 'live/ch0/', 'rtsp://cam/live/ch0', 'rtsp://cam/live/ch0/'],
    ['bare path, other stream: relative to the request', 'live/', 'rtsp://cam/stream', 'rtsp://cam/live/'],
    ['bare path equal to the request path', 'stream/', req, 'rtsp://192.168.1.10:554/stream/'],
    ['http scheme: ignored', 'http://192.168.1.10/stream/', req, req],
    ['garbage: ignored', 'rtsp://[zz/', req, req],
    ['scheme-relative', '//cam:8554/s/', req, 'rtsp://cam:8554/s/'],
  ]
  for (const [name, raw, request, expected] of cases) {
    it(name, () => assert.equal(resolveContentBase(raw, request), expected))
  }
  it('a schemeless base still gives the right SETUP URL with resolveControl', () => {
    assert.equal(resolveControl(resolveContentBase('192.168.1.10/stream/', req), 'trackID=1'), 'rtsp://192.168.1.10:554/stream/trackID=1')
  })
})
