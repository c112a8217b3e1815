/** The proxy URL of the HTTP tunnel: parsed, credentials turned into Basic, never quoted in an error. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.js'
import { authority, isProxyUrl, parseProxyUrl, proxyRefusal } from '../../../src/transport/http-proxy.js'

test('http://host:port, default port 80, IPv6 in brackets', () => {
  assert.deepEqual(parseProxyUrl('http://127.0.0.1:3128'), { host: '127.0.0.1', port: 3128 })
  assert.deepEqual(parseProxyUrl(new URL('http://proxy.example')), { host: 'proxy.example', port: 80 })
  assert.deepEqual(parseProxyUrl('http://[::1]:8080/'), { host: '::1', port: 8080 })
  assert.equal(authority('::1', 8080), '[::1]:8080')
  assert.equal(authority('cam.local', 554), 'cam.local:554')
})

test('user info: percent-decoded into Basic (RFC 7617)', () => {
  const p = parseProxyUrl('http://us%40er:p%3Ass@127.0.0.1:3128')
  assert.equal(p.authorization, `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`)
  assert.equal(parseProxyUrl('http://only-user@127.0.0.1:3128').authorization, `Basic ${Buffer.from('only-user:').toString('base64')}`)
})

test('not an http:// URL: InvalidArgumentError that never repeats the URL (it may hold a password)', () => {
  for (const bad of ['https://u:sekrit@127.0.0.1:3128', 'socks5://u:sekrit@127.0.0.1:1080', 'u:sekrit@127.0.0.1:3128', 'http://u:sekrit@']) {
    assert.throws(() => parseProxyUrl(bad), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, bad)
      assert.doesNotMatch(err.message, /sekrit/)
      return true
    })
    assert.equal(isProxyUrl(bad), false)
  }
  assert.equal(isProxyUrl(42), false)
  assert.equal(isProxyUrl('http://127.0.0.1:3128'), true)
})

test('a 407 (or tinyproxy\'s 401) says whether credentials were missing or refused; other refusals say what was asked', () => {
  const none = parseProxyUrl('http://127.0.0.1:3128')
  const some = parseProxyUrl('http://u:sekrit@127.0.0.1:3128')
  assert.match(proxyRefusal('CONNECT', 'cam', 322, 'HTTP/1.1 407 Proxy Authentication Required', none), /wants credentials.*http:\/\/user:pass@host:port/)
  assert.match(proxyRefusal('CONNECT', 'cam', 322, 'HTTP/1.1 407 Proxy Authentication Required', some), /refused its credentials/)
  assert.equal(proxyRefusal('CONNECT', 'cam', 322, 'HTTP/1.1 403 Forbidden', some), 'the HTTP proxy refused CONNECT to cam:322 ("HTTP/1.1 403 Forbidden")')
  // tinyproxy 1.11: wrong credentials get 401 Unauthorized. To CONNECT that is the proxy's; to a forwarded GET it may be the server's.
  assert.match(proxyRefusal('CONNECT', 'cam', 322, 'HTTP/1.0 401 Unauthorized', some), /^the HTTP proxy refused its credentials \(/)
  assert.match(proxyRefusal('GET', 'cam', 80, 'HTTP/1.0 401 Unauthorized', some), /refused its credentials, or the server wants HTTP authentication/)
})
