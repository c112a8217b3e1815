import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { inspect } from 'node:util'
import { createHash } from 'node:crypto'
import { Authenticator } from '../../../src/rtsp/auth.js'
import { parseWwwAuthenticate } from '../../../src/rtsp/headers/www-authenticate.js'

/** Authorization header → params, using the challenge parser (same grammar). */
function fields(header: string | undefined): Record<string, string> {
  assert.ok(header !== undefined)
  const [c] = parseWwwAuthenticate(header)
  assert.ok(c)
  return { scheme: c.scheme, ...c.params }
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex')

describe('Authenticator', () => {
  it('is inert before a challenge', () => {
    const a = new Authenticator({ username: 'u', password: 'p' })
    assert.equal(a.scheme, undefined)
    assert.equal(a.authorize('OPTIONS', 'rtsp://h/'), undefined)
  })

  it('Basic (RFC 7617 §2 vector)', () => {
    const a = new Authenticator({ username: 'Aladdin', password: 'open sesame' })
    assert.equal(a.accept(['Basic realm="WallyWorld"']), true)
    assert.equal(a.scheme, 'basic')
    assert.equal(a.authorize('DESCRIBE', 'rtsp://h/'), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')
  })

  it('Digest MD5 qop=auth (RFC 2617 §3.5 vector)', () => {
    const a = new Authenticator({ username: 'Mufasa', password: 'Circle Of Life' }, { cnonce: () => '0a4f113b' })
    assert.equal(
      a.accept(['Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40bd41"']),
      true,
    )
    assert.equal(a.scheme, 'digest')
    const f = fields(a.authorize('GET', '/dir/index.html'))
    assert.deepEqual(f, {
      scheme: 'Digest',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40bd41',
    })
    assert.equal('algorithm' in f, false, 'algorithm is echoed only when the challenge had one')
  })

  // RFC 7616 §3.9.1: one 401 with a SHA-256 and an MD5 challenge.
  const rfc7616 = [
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
  ]
  const cnonce7616 = () => 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ'

  it('Digest SHA-256 preferred (RFC 7616 §3.9.1 vector)', () => {
    const a = new Authenticator({ username: 'Mufasa', password: 'Circle of Life' }, { cnonce: cnonce7616 })
    assert.equal(a.accept([...rfc7616].reverse()), true)
    const f = fields(a.authorize('GET', '/dir/index.html'))
    assert.equal(f.algorithm, 'SHA-256')
    assert.equal(f.nc, '00000001')
    assert.equal(f.cnonce, 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ')
    assert.equal(f.opaque, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS')
    assert.equal(f.response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1')
  })

  it('Digest MD5 (RFC 7616 §3.9.1 vector), and in one header value', () => {
    const a = new Authenticator({ username: 'Mufasa', password: 'Circle of Life' }, { cnonce: cnonce7616 })
    assert.equal(a.accept([rfc7616[1]!]), true)
    const f = fields(a.authorize('GET', '/dir/index.html'))
    assert.equal(f.algorithm, 'MD5')
    assert.equal(f.response, '8ca523f5e9506fed4657c9700eebdbec')
    const b = new Authenticator({ username: 'Mufasa', password: 'Circle of Life' }, { cnonce: cnonce7616 })
    b.accept([`${rfc7616[1]!}, Basic realm="x", ${rfc7616[0]!}`])
    assert.equal(fields(b.authorize('GET', '/dir/index.html')).algorithm, 'SHA-256')
  })

  it('prefers Digest over Basic whatever the order', () => {
    const a = new Authenticator({ username: 'u', password: 'p' })
    assert.equal(a.accept(['Basic realm="r"', 'Digest realm="r", nonce="n"']), true)
    assert.equal(a.scheme, 'digest')
  })

  it('counts nc per nonce and resets it on a new nonce; cnonce changes per request', () => {
    let k = 0
    const a = new Authenticator({ username: 'u', password: 'p' }, { cnonce: () => `c${k++}` })
    a.accept(['Digest realm="r", nonce="n1", qop="auth"'])
    const one = fields(a.authorize('DESCRIBE', 'rtsp://h/s'))
    const two = fields(a.authorize('SETUP', 'rtsp://h/s/trackID=0'))
    assert.equal(one.nc, '00000001')
    assert.equal(two.nc, '00000002')
    assert.notEqual(one.cnonce, two.cnonce)
    assert.equal(two.uri, 'rtsp://h/s/trackID=0')
    a.accept(['Digest realm="r", nonce="n1", qop="auth"']) // same nonce: keep counting
    assert.equal(fields(a.authorize('PLAY', 'rtsp://h/s')).nc, '00000003')
    a.accept(['Digest realm="r", nonce="n2", qop="auth", stale=true'])
    assert.equal(fields(a.authorize('PLAY', 'rtsp://h/s')).nc, '00000001')
  })

  it('RFC 2069 form without qop: no nc, no cnonce', () => {
    const a = new Authenticator({ username: 'admin', password: '12345' })
    a.accept(['Digest realm="IP Camera(C1234)", nonce="abc", stale="FALSE"'])
    const f = fields(a.authorize('DESCRIBE', 'rtsp://192.0.2.1:554/Streaming/Channels/101'))
    assert.equal(f.nc, undefined)
    assert.equal(f.cnonce, undefined)
    assert.equal(f.qop, undefined)
    const ha1 = md5('admin:IP Camera(C1234):12345')
    const ha2 = md5('DESCRIBE:rtsp://192.0.2.1:554/Streaming/Channels/101')
    assert.equal(f.response, md5(`${ha1}:abc:${ha2}`))
  })

  it('MD5-sess uses one cnonce per nonce in HA1', () => {
    let k = 0
    const a = new Authenticator({ username: 'u', password: 'p' }, { cnonce: () => `c${k++}` })
    a.accept(['Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess'])
    const f1 = fields(a.authorize('OPTIONS', '*'))
    const f2 = fields(a.authorize('OPTIONS', '*'))
    assert.equal(f1.cnonce, 'c0')
    assert.equal(f2.cnonce, 'c0')
    assert.equal(f1.algorithm, 'MD5-sess')
    const ha1 = md5(`${md5('u:r:p')}:n:c0`)
    assert.equal(f2.response, md5(`${ha1}:n:00000002:c0:auth:${md5('OPTIONS:*')}`))
  })

  it('userhash (RFC 7616 §3.4.4)', () => {
    const a = new Authenticator({ username: 'Mufasa', password: 'p' }, { cnonce: () => 'c' })
    a.accept(['Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256, userhash=true'])
    const f = fields(a.authorize('OPTIONS', '*'))
    assert.equal(f.username, createHash('sha256').update('Mufasa:r').digest('hex'))
    assert.equal(f.userhash, 'true')
  })

  it('escapes quotes in the username and uri', () => {
    const a = new Authenticator({ username: 'we"ird\\', password: 'p' })
    a.accept(['Digest realm="r", nonce="n"'])
    const header = a.authorize('OPTIONS', 'rtsp://h/a"b')!
    assert.match(header, /username="we\\"ird\\\\"/)
    assert.equal(fields(header).uri, 'rtsp://h/a"b')
  })

  it('rejects unusable challenges', () => {
    const a = new Authenticator({ username: 'u', password: 'p' })
    assert.equal(a.accept([]), false)
    assert.equal(a.accept(['Negotiate abc', 'Digest realm="r", nonce="n", algorithm=SHA-512-256', 'Digest realm="r", nonce="n", qop="auth-int"', 'Digest realm="r"']), false)
    assert.equal(a.scheme, undefined)
  })

  it('never shows the password', () => {
    const a = new Authenticator({ username: 'u', password: 'hunter2' })
    a.accept(['Digest realm="r", nonce="n"'])
    assert.ok(!inspect(a, { showHidden: true, depth: 5 }).includes('hunter2'))
    assert.ok(!JSON.stringify(a).includes('hunter2'))
    assert.ok(!a.authorize('OPTIONS', '*')!.includes('hunter2'))
  })
})
