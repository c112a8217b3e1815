import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { ProtocolError } from '../../../src/errors.js'
import { formatTransport, formatTransports, parseTransport } from '../../../src/rtsp/headers/transport.js'
import type { TransportSpec } from '../../../src/rtsp/headers/transport.js'
import { formatSession, parseSession } from '../../../src/rtsp/headers/session.js'
import { parseWwwAuthenticate } from '../../../src/rtsp/headers/www-authenticate.js'
import { formatRtpInfo, parseRtpInfo } from '../../../src/rtsp/headers/rtp-info.js'
import { formatRange, parseRange } from '../../../src/rtsp/headers/range.js'
import { formatPublic, parsePublic } from '../../../src/rtsp/headers/public.js'

// [name, header value, parsed, canonical formatted form]
const transportVectors: Array<[string, string, TransportSpec, string]> = [
  ['tcp interleaved', 'RTP/AVP/TCP;unicast;interleaved=0-1', { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] }, 'RTP/AVP/TCP;unicast;interleaved=0-1'],
  [
    'udp play request, quoted mode',
    'RTP/AVP;unicast;client_port=3456-3457;mode="PLAY"',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [3456, 3457], mode: 'PLAY' },
    'RTP/AVP;unicast;client_port=3456-3457;mode=play',
  ],
  [
    'RTP/AVP/UDP response with ssrc',
    'RTP/AVP/UDP;unicast;client_port=3056-3057;server_port=5000-5001;ssrc=0B6020AD',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [3056, 3057], serverPort: [5000, 5001], ssrc: 0x0b6020ad },
    'RTP/AVP;unicast;client_port=3056-3057;server_port=5000-5001;ssrc=0B6020AD',
  ],
  [
    'single server_port means N-(N+1)',
    'RTP/AVP;unicast;client_port=14186;server_port=5000',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [14186, 14187], serverPort: [5000, 5001] },
    'RTP/AVP;unicast;client_port=14186-14187;server_port=5000-5001',
  ],
  ['server_port=0-1', 'RTP/AVP;unicast;server_port=0-1', { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', serverPort: [0, 1] }, 'RTP/AVP;unicast;server_port=0-1'],
  [
    'hikvision: ssrc with a leading space, short hex',
    'RTP/AVP/UDP;unicast;client_port=14186;server_port=8052;ssrc= 4317f;mode=play',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [14186, 14187], serverPort: [8052, 8053], ssrc: 0x4317f, mode: 'PLAY' },
    'RTP/AVP;unicast;client_port=14186-14187;server_port=8052-8053;ssrc=0004317F;mode=play',
  ],
  [
    'dahua: ssrc padded with many spaces',
    'RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=     D93FF',
    { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1], ssrc: 0xd93ff },
    'RTP/AVP/TCP;unicast;interleaved=0-1;ssrc=000D93FF',
  ],
  ['short mixed-case ssrc', 'RTP/AVP/TCP;interleaved=2-3;ssrc=1a2B', { protocol: 'RTP/AVP', lowerTransport: 'TCP', interleaved: [2, 3], ssrc: 0x1a2b }, 'RTP/AVP/TCP;interleaved=2-3;ssrc=00001A2B'],
  [
    'ssrc too long for 32 bits (decimal) is dropped',
    'RTP/AVP;unicast;client_port=14236;source=172.16.8.2;server_port=56002;ssrc=1449463210',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [14236, 14237], source: '172.16.8.2', serverPort: [56002, 56003] },
    'RTP/AVP;unicast;source=172.16.8.2;client_port=14236-14237;server_port=56002-56003',
  ],
  [
    'empty source, spaces and upper-case keys',
    ' RTP/AVP/UDP ; unicast ; SOURCE= ; Client_Port = 32560 - 32561 ;server_port=3046-3047',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [32560, 32561], serverPort: [3046, 3047] },
    'RTP/AVP;unicast;client_port=32560-32561;server_port=3046-3047',
  ],
  [
    'protocol not first (gortsplib "unsorted")',
    'client_port=3456-3457;RTP/AVP;mode="PLAY";unicast',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [3456, 3457], mode: 'PLAY' },
    'RTP/AVP;unicast;client_port=3456-3457;mode=play',
  ],
  [
    'multicast',
    'RTP/AVP;multicast;destination=225.219.201.15;port=7000-7001;ttl=127',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'multicast', destination: '225.219.201.15', port: [7000, 7001], ttl: 127 },
    'RTP/AVP;multicast;destination=225.219.201.15;ttl=127;port=7000-7001',
  ],
  [
    'mode=receive is RECORD',
    'RTP/AVP/UDP;unicast;mode=receive;source=127.0.0.1;client_port=14186-14187;server_port=5000-5001',
    { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', mode: 'RECORD', source: '127.0.0.1', clientPort: [14186, 14187], serverPort: [5000, 5001] },
    'RTP/AVP;unicast;source=127.0.0.1;client_port=14186-14187;server_port=5000-5001;mode=record',
  ],
  ['lower-case protocol, single interleaved channel', 'rtp/avp/tcp;interleaved=4', { protocol: 'RTP/AVP', lowerTransport: 'TCP', interleaved: [4, 5] }, 'RTP/AVP/TCP;interleaved=4-5'],
]

describe('Transport (RFC 2326 §12.39)', () => {
  for (const [name, value, parsed, formatted] of transportVectors) {
    it(name, () => {
      assert.deepEqual(parseTransport(value), [parsed])
      assert.equal(formatTransport(parsed), formatted)
      assert.deepEqual(parseTransport(formatted), [parsed])
    })
  }

  it('parses comma-separated alternatives, with quoted commas', () => {
    const specs = parseTransport('RTP/AVP;unicast;client_port=3456-3457;mode="PLAY,RECORD", RTP/AVP/TCP;unicast;interleaved=0-1')
    assert.equal(specs.length, 2)
    assert.equal(specs[0]!.mode, 'PLAY,RECORD')
    assert.deepEqual(specs[1], { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [0, 1] })
    assert.equal(formatTransports(specs.slice(1)), 'RTP/AVP/TCP;unicast;interleaved=0-1')
  })

  it('skips unusable alternatives but throws when none is left', () => {
    assert.equal(parseTransport('RTP/AVP/HTTP;unicast, RTP/AVP/TCP;interleaved=0-1').length, 1)
    for (const bad of ['', 'invalid;unicast;client_port=1-2', 'RTP/AVP/SCTP', 'RTP/AVP;client_port=aa-1', 'RTP/AVP;port=1-2-3', 'RTP/AVP;server_port=70000', 'RTP/AVP;ttl=aa', 'RTP/AVP;interleaved=']) {
      assert.throws(() => parseTransport(bad), ProtocolError, bad)
    }
  })
})

describe('Session (RFC 2326 §12.37)', () => {
  const vectors: Array<[string, { id: string; timeout?: number }]> = [
    ['12345678;timeout=60', { id: '12345678', timeout: 60 }],
    ['12345678', { id: '12345678' }],
    ['  A3eqwsafq3rFASqew ; timeout = 5 ', { id: 'A3eqwsafq3rFASqew', timeout: 5 }],
    ['1234;Timeout=30;other=x', { id: '1234', timeout: 30 }],
    ['1234;timeout="47"', { id: '1234', timeout: 47 }],
    ['1234;timeout=abc', { id: '1234' }],
  ]
  for (const [value, parsed] of vectors) {
    it(JSON.stringify(value), () => assert.deepEqual(parseSession(value), parsed))
  }
  it('formats and rejects an empty id', () => {
    assert.equal(formatSession({ id: '12345678', timeout: 60 }), '12345678;timeout=60')
    assert.equal(formatSession({ id: 'x' }), 'x')
    assert.throws(() => parseSession(' ;timeout=5'), ProtocolError)
  })
})

describe('WWW-Authenticate (RFC 7235 §4.1)', () => {
  const vectors: Array<[string, string, Array<{ scheme: string; params: Record<string, string> }>]> = [
    ['basic', 'Basic realm="4419b63f5e51"', [{ scheme: 'Basic', params: { realm: '4419b63f5e51' } }]],
    [
      'hikvision digest with stale',
      'Digest realm="IP Camera(C1234)", nonce="8b84a3b789283a8bea8da7fa7d41f08b", stale="FALSE"',
      [{ scheme: 'Digest', params: { realm: 'IP Camera(C1234)', nonce: '8b84a3b789283a8bea8da7fa7d41f08b', stale: 'FALSE' } }],
    ],
    [
      'no spaces, unquoted values, empty opaque',
      'Digest realm="Please log in with a valid username",nonce="752a62306daf32b401a41004555c7663",opaque="",stale=FALSE,algorithm=MD5',
      [{ scheme: 'Digest', params: { realm: 'Please log in with a valid username', nonce: '752a62306daf32b401a41004555c7663', opaque: '', stale: 'FALSE', algorithm: 'MD5' } }],
    ],
    [
      'two challenges in one value, comma inside a quoted realm',
      'Digest realm="a, b", nonce="x", Basic realm="y"',
      [
        { scheme: 'Digest', params: { realm: 'a, b', nonce: 'x' } },
        { scheme: 'Basic', params: { realm: 'y' } },
      ],
    ],
    [
      'upper-case keys, lower-case scheme, escapes, spaces around =',
      'digest REALM = "say \\"hi\\"", Nonce="n\\\\1", QOP="auth,auth-int"',
      [{ scheme: 'digest', params: { realm: 'say "hi"', nonce: 'n\\1', qop: 'auth,auth-int' } }],
    ],
    [
      'RFC 7616 §3.9.1 challenge pair',
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      [
        { scheme: 'Digest', params: { realm: 'http-auth@example.org', qop: 'auth, auth-int', algorithm: 'SHA-256', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' } },
        { scheme: 'Digest', params: { realm: 'http-auth@example.org', qop: 'auth, auth-int', algorithm: 'MD5', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS' } },
      ],
    ],
    ['missing commas between params', 'Digest realm="r" nonce="n"', [{ scheme: 'Digest', params: { realm: 'r', nonce: 'n' } }]],
    ['token68 then another scheme', 'Negotiate YIIB==, Basic realm="x"', [{ scheme: 'Negotiate', params: {} }, { scheme: 'Basic', params: { realm: 'x' } }]],
    ['unquoted realm with a slash', 'Basic realm=/', [{ scheme: 'Basic', params: { realm: '/' } }]],
    ['unterminated quote runs to the end', 'Digest realm="abc', [{ scheme: 'Digest', params: { realm: 'abc' } }]],
    ['empty', '', []],
  ]
  for (const [name, value, parsed] of vectors) {
    it(name, () => assert.deepEqual(parseWwwAuthenticate(value), parsed))
  }
})

describe('RTP-Info (RFC 2326 §12.33)', () => {
  const vectors: Array<[string, string, ReturnType<typeof parseRtpInfo>]> = [
    ['single', 'url=rtsp://127.0.0.1/test.mkv/track1;seq=35243;rtptime=717574556', [{ url: 'rtsp://127.0.0.1/test.mkv/track1', seq: 35243, rtptime: 717574556 }]],
    [
      'axis: two streams with a space after the comma',
      'url=rtsp://10.13.146.53/axis-media/media.amp/trackID=1;seq=58477;rtptime=1020884293, url=rtsp://10.13.146.53/axis-media/media.amp/trackID=2;seq=15727;rtptime=1171661503',
      [
        { url: 'rtsp://10.13.146.53/axis-media/media.amp/trackID=1', seq: 58477, rtptime: 1020884293 },
        { url: 'rtsp://10.13.146.53/axis-media/media.amp/trackID=2', seq: 15727, rtptime: 1171661503 },
      ],
    ],
    ['bare control instead of a URL', 'url=trackID=0;seq=12447;rtptime=12447', [{ url: 'trackID=0', seq: 12447, rtptime: 12447 }]],
    [
      'with ssrc (RFC 7826)',
      'url=trackID=1;seq=55664;rtptime=254718369;ssrc=56597976,url=trackID=2;seq=43807;rtptime=1702259566;ssrc=ee839a80',
      [
        { url: 'trackID=1', seq: 55664, rtptime: 254718369, ssrc: 0x56597976 },
        { url: 'trackID=2', seq: 43807, rtptime: 1702259566, ssrc: 0xee839a80 },
      ],
    ],
    ['missing rtptime', 'url=rtsp://h/a;seq=1', [{ url: 'rtsp://h/a', seq: 1 }]],
    [
      'URL with ; and , inside',
      'url=rtsp://h/live;jsessionid=ab,cd/track1?x=1,2;seq=7;rtptime=9',
      [{ url: 'rtsp://h/live;jsessionid=ab,cd/track1?x=1,2', seq: 7, rtptime: 9 }],
    ],
    ['quoted url, spaces', ' url="rtsp://h/a" ; seq = 3 ; rtptime = 4 ', [{ url: 'rtsp://h/a', seq: 3, rtptime: 4 }]],
    ['signed rtptime wraps to unsigned', 'url=rtsp://h/a;seq=65535;rtptime=-1', [{ url: 'rtsp://h/a', seq: 65535, rtptime: 4294967295 }]],
    ['bad numbers are dropped', 'url=rtsp://h/a;seq=70000;rtptime=x', [{ url: 'rtsp://h/a' }]],
    ['no url', 'seq=1;rtptime=2', [{ url: '', seq: 1, rtptime: 2 }]],
  ]
  for (const [name, value, parsed] of vectors) {
    it(name, () => assert.deepEqual(parseRtpInfo(value), parsed))
  }
  it('formats', () => {
    assert.equal(formatRtpInfo([{ url: 'rtsp://h/a', seq: 1, rtptime: 2 }, { url: 'rtsp://h/b' }]), 'url=rtsp://h/a;seq=1;rtptime=2,url=rtsp://h/b')
  })
})

describe('Range (RFC 2326 §12.29)', () => {
  const vectors: Array<[string, ReturnType<typeof parseRange>]> = [
    ['npt=now-', { unit: 'npt', start: 'now' }],
    ['npt=0.000-', { unit: 'npt', start: 0 }],
    ['npt=1.5-10', { unit: 'npt', start: 1.5, end: 10 }],
    ['npt=-10', { unit: 'npt', end: 10 }],
    ['NPT = 0- ', { unit: 'npt', start: 0 }],
    ['npt=00:01:02.5-', { unit: 'npt', start: 62.5 }],
    ['npt=5.-;time=19970123T143720Z', { unit: 'npt', start: 5 }],
    ['clock=19961108T142300Z-19961108T143520.5Z', { unit: 'clock', start: Date.UTC(1996, 10, 8, 14, 23, 0) / 1000, end: Date.UTC(1996, 10, 8, 14, 35, 20) / 1000 + 0.5 }],
    ['smpte=10:07:00-10:07:33:15', { unit: 'smpte', start: 36420, end: 36453.5 }],
    ['smpte-25=0:00:01:05-', { unit: 'smpte', start: 1.2 }],
  ]
  for (const [value, parsed] of vectors) {
    it(value, () => assert.deepEqual(parseRange(value), parsed))
  }
  it('rejects garbage with ProtocolError', () => {
    for (const bad of ['', 'npt', 'npt=', 'npt=-', 'npt=abc-', 'foo=1-2', 'clock=yesterday-']) assert.throws(() => parseRange(bad), ProtocolError, bad)
  })
  it('formats', () => {
    assert.equal(formatRange({ unit: 'npt', start: 0 }), 'npt=0.000-')
    assert.equal(formatRange({ unit: 'npt', start: 'now' }), 'npt=now-')
    assert.equal(formatRange({ unit: 'npt', start: 1.5, end: 10 }), 'npt=1.500-10.000')
    assert.equal(formatRange({ unit: 'clock', start: Date.UTC(1996, 10, 8, 14, 37, 20) / 1000 }), 'clock=19961108T143720Z-')
    assert.deepEqual(parseRange(formatRange({ unit: 'clock', start: 847464440.25 })), { unit: 'clock', start: 847464440.25 })
  })
})

describe('Public (RFC 2326 §12.28)', () => {
  it('upper-cases, trims and skips empty items', () => {
    assert.deepEqual(parsePublic('OPTIONS, DESCRIBE,setup ,, PLAY,PAUSE,TEARDOWN, GET_PARAMETER,'), new Set(['OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'TEARDOWN', 'GET_PARAMETER']))
    assert.deepEqual(parsePublic(''), new Set())
    assert.equal(formatPublic(['OPTIONS', 'PLAY']), 'OPTIONS, PLAY')
  })
})
