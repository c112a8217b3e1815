/**
 * ServerAuth: the server's challenges answered by rtspkit's own client Authenticator
 * (Basic, Digest MD5 with and without qop), and every way an Authorization header can be
 * wrong. The password never shows in inspect() or JSON.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import { Authenticator } from '../../../src/rtsp/auth.js'
import { parseWwwAuthenticate } from '../../../src/rtsp/headers/www-authenticate.js'
import { ServerAuth, newNonce } from '../../../src/server/auth.js'

const creds = { username: 'admin', password: 'Sup3r-S3cret' }
const url = 'rtsp://127.0.0.1:8554/cam'
const md5 = (s: string) => createHash('md5').update(s).digest('hex')

function nonceOf(auth: ServerAuth): string {
  return parseWwwAuthenticate(auth.challenges()[0]!)[0]!.params.nonce!
}

describe('ServerAuth', () => {
  it('challenges with Digest MD5 first, then Basic, in the given realm', () => {
    const auth = new ServerAuth(creds, 'cams')
    const [digest, basic] = auth.challenges().map((c) => parseWwwAuthenticate(c)[0]!)
    assert.equal(digest!.scheme.toLowerCase(), 'digest')
    assert.equal(digest!.params.realm, 'cams')
    assert.equal(digest!.params.algorithm, 'MD5')
    assert.match(digest!.params.nonce ?? '', /^[0-9a-f]{32}$/)
    assert.equal(basic!.scheme.toLowerCase(), 'basic')
    assert.equal(basic!.params.realm, 'cams')
    assert.equal(new ServerAuth(creds).realm, 'rtspkit')
  })

  it('accepts what rtspkit\'s client answers: Digest (its choice), for every method and URL', () => {
    const auth = new ServerAuth(creds)
    const client = new Authenticator(creds)
    assert.ok(client.accept(auth.challenges()))
    assert.equal(client.scheme, 'digest')
    for (const [method, uri] of [['DESCRIBE', url], ['SETUP', `${url}/trackID=0`], ['PLAY', `${url}/`], ['TEARDOWN', `${url}/`]] as const) {
      assert.deepEqual(auth.verify(method, client.authorize(method, uri)), { ok: true, user: 'admin' })
    }
  })

  it('accepts Basic (RFC 7617), with a colon in the password', () => {
    const auth = new ServerAuth({ username: 'u', password: 'p:w:d' })
    const client = new Authenticator({ username: 'u', password: 'p:w:d' })
    assert.ok(client.accept([auth.challenges()[1]!]))
    assert.equal(client.scheme, 'basic')
    assert.deepEqual(auth.verify('DESCRIBE', client.authorize('DESCRIBE', url)), { ok: true, user: 'u' })
    assert.deepEqual(auth.verify('OPTIONS', `basic   ${Buffer.from('u:p:w:d').toString('base64')}`), { ok: true, user: 'u' })
  })

  it('accepts Digest with qop=auth (RFC 7616 §3.4.1) and a non-ASCII password', () => {
    const c = { username: 'zoë', password: 'pässwörd' }
    const auth = new ServerAuth(c)
    const nonce = nonceOf(auth)
    const ha1 = md5(`${c.username}:rtspkit:${c.password}`)
    const ha2 = md5(`PLAY:${url}`)
    const response = md5(`${ha1}:${nonce}:00000001:abc:auth:${ha2}`)
    const header = `Digest username="zoë", realm="rtspkit", nonce="${nonce}", uri="${url}", response="${response}", qop=auth, nc=00000001, cnonce="abc"`
    assert.deepEqual(auth.verify('PLAY', header), { ok: true, user: 'zoë' })
    // The same header does not authorize another method (HA2 covers the method).
    assert.deepEqual(auth.verify('RECORD', header), { ok: false, reason: 'bad-password' })
    // Response hex in upper case (some clients) is the same digest.
    assert.deepEqual(auth.verify('PLAY', header.replace(response, response.toUpperCase())), { ok: true, user: 'zoë' })
  })

  it('refuses a wrong password, a wrong user, another nonce, and says which', () => {
    const auth = new ServerAuth(creds)
    for (const scheme of [0, 1]) {
      const wrongPass = new Authenticator({ username: 'admin', password: 'guess' })
      const wrongUser = new Authenticator({ username: 'root', password: creds.password })
      wrongPass.accept([auth.challenges()[scheme]!])
      wrongUser.accept([auth.challenges()[scheme]!])
      assert.deepEqual(auth.verify('DESCRIBE', wrongPass.authorize('DESCRIBE', url)), { ok: false, reason: 'bad-password' })
      assert.deepEqual(auth.verify('DESCRIBE', wrongUser.authorize('DESCRIBE', url)), { ok: false, reason: 'bad-user' })
    }
    // A nonce from another server run (or made up) is stale.
    const other = new ServerAuth(creds)
    const client = new Authenticator(creds)
    client.accept(other.challenges())
    assert.deepEqual(auth.verify('DESCRIBE', client.authorize('DESCRIBE', url)), { ok: false, reason: 'stale' })
  })

  it('a Digest answer for one connection\'s nonce is stale on another; the new challenge says stale=true and the client goes on', () => {
    const auth = new ServerAuth(creds)
    const [first, second] = [newNonce(), newNonce()]
    assert.notEqual(first, second)
    const client = new Authenticator(creds)
    client.accept(auth.challenges(first))
    const header = client.authorize('DESCRIBE', url)
    assert.deepEqual(auth.verify('DESCRIBE', header, first), { ok: true, user: 'admin' })
    assert.deepEqual(auth.verify('DESCRIBE', header, second), { ok: false, reason: 'stale' })
    const again = auth.challenges(second, true)
    assert.match(again[0]!, /stale=true/)
    assert.ok(client.accept(again))
    assert.deepEqual(auth.verify('DESCRIBE', client.authorize('DESCRIBE', url), second), { ok: true, user: 'admin' })
  })

  it('refuses missing and malformed headers without throwing', () => {
    const auth = new ServerAuth(creds)
    const nonce = nonceOf(auth)
    assert.deepEqual(auth.verify('DESCRIBE', undefined), { ok: false, reason: 'missing' })
    const malformed = [
      '',
      'Basic',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      'Bearer abc',
      'Digest',
      'Digest username="admin"',
      `Digest username="admin", nonce="${nonce}", uri="${url}"`, // no response
      `Digest username="admin", realm="rtspkit", nonce="${nonce}", uri="${url}", response="00", algorithm=SHA-256`,
      'Digest ,,,,=====""""',
      `Digest username="admin", ${'x=y, '.repeat(10_000)}response="1"`,
    ]
    for (const h of malformed) {
      const r = auth.verify('DESCRIBE', h)
      assert.equal(r.ok, false, h.slice(0, 60))
      assert.ok(!r.ok && (r.reason === 'malformed' || r.reason === 'bad-password'), `${h.slice(0, 60)}: ${JSON.stringify(r)}`)
    }
  })

  it('never shows the password', () => {
    const auth = new ServerAuth(creds)
    for (const text of [inspect(auth, { depth: 5, showHidden: true }), JSON.stringify(auth), String(auth), auth.challenges().join()]) {
      assert.ok(!text.includes('S3cret'), text)
    }
  })
})
