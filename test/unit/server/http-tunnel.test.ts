/** The server's HTTP tunnel pieces (issue #16): the POST body decoder split anywhere, and the head parser. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Base64Stream, looksLikeHttp, parseTunnelHead } from '../../../src/server/http-tunnel.js'

test('Base64Stream: messages padded one by one (ffmpeg) or one stream (QuickTime), split anywhere, give the bytes back', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (messages, perMessage, cuts) => {
      const raw = Buffer.concat(messages.map((m) => Buffer.from(m)))
      const text = perMessage ? messages.map((m) => Buffer.from(m).toString('base64')).join('\r\n') : raw.toString('base64')
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b)
      const d = new Base64Stream()
      const out: Buffer[] = []
      let from = 0
      for (const p of [...points, text.length]) {
        out.push(d.push(Buffer.from(text.slice(from, p), 'latin1')))
        from = p
      }
      assert.deepEqual(Buffer.concat(out), raw)
    }),
  )
})

test('Base64Stream: anything but base64 is refused', () => {
  assert.throws(() => new Base64Stream().push(Buffer.from('T1BU$')), /not base64/)
})

test('parseTunnelHead: GET and POST with a cookie; incomplete; refused', () => {
  assert.equal(looksLikeHttp(Buffer.from('GE')), true)
  assert.equal(looksLikeHttp(Buffer.from('GET_PARAMETER')), false)
  assert.equal(looksLikeHttp(Buffer.from('OPTIONS * RTSP/1.0')), false)
  assert.equal(parseTunnelHead(Buffer.from('GET /cam HTTP/1.0\r\nx-sessioncookie: abc\r\n')), undefined)
  const get = parseTunnelHead(Buffer.from('GET /cam HTTP/1.0\r\nX-SessionCookie:  abc \r\nAccept: application/x-rtsp-tunnelled\r\n\r\n'))
  assert.deepEqual({ ...get, rest: get?.rest.length }, { method: 'GET', cookie: 'abc', rest: 0 })
  const post = parseTunnelHead(Buffer.from('POST /cam HTTP/1.0\r\nx-sessioncookie: abc\r\nContent-Length: 32767\r\n\r\nT1BU'))
  assert.equal(post?.rest.toString(), 'T1BU')
  assert.throws(() => parseTunnelHead(Buffer.from('GET /cam HTTP/1.0\r\n\r\n')), /x-sessioncookie/)
  assert.throws(() => parseTunnelHead(Buffer.from('GET /cam RTSP/1.0\r\n\r\n')), /HTTP\/1/)
})
