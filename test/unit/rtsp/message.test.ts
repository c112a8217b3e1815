import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { InvalidArgumentError } from '../../../src/errors.js'
import { Headers, cseqOf } from '../../../src/rtsp/message.js'
import { encodeInterleaved, serializeRequest, serializeResponse } from '../../../src/rtsp/serialize.js'

describe('Headers', () => {
  it('is ordered and case-insensitive', () => {
    const h = new Headers()
    h.append('CSeq', '1').append('WWW-Authenticate', 'Digest realm="a"').append('www-authenticate', 'Basic realm="b"')
    assert.equal(h.get('cseq'), '1')
    assert.equal(h.get('WWW-AUTHENTICATE'), 'Digest realm="a"')
    assert.deepEqual(h.getAll('Www-Authenticate'), ['Digest realm="a"', 'Basic realm="b"'])
    assert.equal(h.has('CSEQ'), true)
    assert.equal(h.has('Session'), false)
    assert.equal(h.get('Session'), undefined)
    assert.deepEqual([...h].map(([n]) => n), ['CSeq', 'WWW-Authenticate', 'www-authenticate'])
    assert.equal(h.size, 3)
  })

  it('set replaces the first in place and drops the rest', () => {
    const h = new Headers([['A', '1'], ['b', '2'], ['B', '3'], ['C', '4']])
    h.set('B', 'x')
    assert.deepEqual([...h], [['A', '1'], ['B', 'x'], ['C', '4']])
    h.set('D', 5)
    assert.equal(h.get('d'), '5')
    assert.equal(h.delete('a'), true)
    assert.equal(h.delete('a'), false)
    assert.deepEqual([...h.entries()], [['B', 'x'], ['C', '4'], ['D', '5']])
  })

  it('builds from a record and serializes to JSON', () => {
    const h = new Headers({ CSeq: 2, Require: ['a', 'b'], Skip: undefined })
    assert.deepEqual(h.toJSON(), { CSeq: '2', Require: ['a', 'b'] })
    assert.equal(JSON.stringify(new Headers(h)), '{"CSeq":"2","Require":["a","b"]}')
  })

  it('cseqOf tolerates padding and case, rejects junk', () => {
    assert.equal(cseqOf({ headers: new Headers({ 'CSeq': '  3 ' }) }), 3)
    assert.equal(cseqOf({ headers: new Headers({ cseq: '17' }) }), 17)
    assert.equal(cseqOf({ headers: new Headers({ CSEQ: 'x' }) }), undefined)
    assert.equal(cseqOf({ headers: new Headers() }), undefined)
  })
})

describe('serialize', () => {
  it('writes a request with Content-Length for the body', () => {
    const buf = serializeRequest({
      method: 'ANNOUNCE',
      url: 'rtsp://127.0.0.1/x',
      headers: { CSeq: '4', 'Content-Type': 'application/sdp' },
      body: 'v=0\r\n',
    })
    assert.equal(
      buf.toString(),
      'ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 4\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n',
    )
  })

  it('writes no Content-Length without a body and corrects a wrong one', () => {
    assert.equal(serializeRequest({ method: 'OPTIONS', url: '*', headers: new Headers({ CSeq: '1' }) }).toString(), 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n')
    const res = serializeResponse({ status: 200, headers: { CSeq: '1', 'content-length': '99' }, body: Buffer.from('ab') })
    assert.equal(res.toString(), 'RTSP/1.0 200 OK\r\nCSeq: 1\r\ncontent-length: 2\r\n\r\nab')
  })

  it('writes responses with default, custom and empty reasons', () => {
    assert.equal(serializeResponse({ status: 454, headers: {} }).toString(), 'RTSP/1.0 454 Session Not Found\r\n\r\n')
    assert.equal(serializeResponse({ status: 299, headers: {} }).toString(), 'RTSP/1.0 299\r\n\r\n')
    assert.equal(serializeResponse({ status: 200, reason: 'Fine', headers: {} }).toString(), 'RTSP/1.0 200 Fine\r\n\r\n')
  })

  it('refuses header injection with InvalidArgumentError', () => {
    assert.throws(() => serializeRequest({ method: 'OPTIONS', url: 'rtsp://h/ x', headers: {} }), InvalidArgumentError)
    assert.throws(() => serializeRequest({ method: 'OPTIONS', url: '*', headers: { A: 'x\r\nB: y' } }), InvalidArgumentError)
    assert.throws(() => serializeRequest({ method: 'OPTIONS', url: '*', headers: { 'A B': 'x' } }), InvalidArgumentError)
    assert.throws(() => serializeRequest({ method: 'OP TIONS', url: '*', headers: {} }), InvalidArgumentError)
    assert.throws(() => serializeResponse({ status: 20, headers: {} }), InvalidArgumentError)
    const err = (() => {
      try {
        serializeRequest({ method: 'DESCRIBE', url: 'rtsp://admin:s3cret@h/ x', headers: {} })
      } catch (e) {
        return e as Error
      }
      return undefined
    })()
    assert.ok(err instanceof InvalidArgumentError)
    assert.ok(!err.message.includes('s3cret'))
  })

  it('encodes interleaved frames (RFC 2326 §10.12)', () => {
    assert.deepEqual(encodeInterleaved(1, Buffer.from([0xaa, 0xbb])), Buffer.from([0x24, 1, 0, 2, 0xaa, 0xbb]))
    assert.deepEqual(encodeInterleaved(255, Buffer.alloc(0)), Buffer.from([0x24, 255, 0, 0]))
    const big = encodeInterleaved(0, Buffer.alloc(0xffff, 7))
    assert.equal(big.readUInt16BE(2), 0xffff)
    assert.throws(() => encodeInterleaved(256, Buffer.alloc(1)), InvalidArgumentError)
    assert.throws(() => encodeInterleaved(0, Buffer.alloc(0x10000)), InvalidArgumentError)
  })
})

describe('rtsp/index', () => {
  it('re-exports the wire layer', async () => {
    const m = await import('../../../src/rtsp/index.js')
    for (const name of ['Headers', 'cseqOf', 'serializeRequest', 'serializeResponse', 'encodeInterleaved', 'RtspReader', 'DEFAULT_READER_LIMITS', 'parseTransport', 'formatTransport', 'parseSession', 'parseWwwAuthenticate', 'parseRtpInfo', 'parseRange', 'formatRange', 'parsePublic', 'Authenticator']) {
      assert.ok(name in m, name)
    }
  })
})
