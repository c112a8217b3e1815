import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import { LimitError, ProtocolError } from '../../../src/errors.js'
import { RtspReader } from '../../../src/rtsp/reader.js'
import { encodeInterleaved } from '../../../src/rtsp/serialize.js'
import { recorder } from './reader-helpers.js'

const sdp = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nm=video 0 RTP/AVP 96\r\n'
const describeReply = `RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Base: rtsp://127.0.0.1/x/\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`

function feedBytewise(reader: { push(b: Buffer): void }, data: Buffer): void {
  for (let i = 0; i < data.length; i++) reader.push(data.subarray(i, i + 1))
}

describe('RtspReader', () => {
  it('reads a response with a body, whole and byte by byte', () => {
    for (const bytewise of [false, true]) {
      const { reader, events } = recorder()
      const data = Buffer.from(describeReply)
      if (bytewise) feedBytewise(reader, data)
      else reader.push(data)
      assert.equal(events.length, 1)
      const ev = events[0]!
      assert.equal(ev.type, 'response')
      if (ev.type !== 'response') return
      assert.equal(ev.status, 200)
      assert.equal(ev.reason, 'OK')
      assert.equal(ev.version, 'RTSP/1.0')
      assert.deepEqual(ev.headers[0], ['CSeq', '2'])
      assert.equal(Buffer.from(ev.body, 'hex').toString(), sdp)
      assert.equal(reader.buffered, 0)
    }
  })

  it('accepts LF-only line ends', () => {
    const { reader, events } = recorder()
    reader.push(Buffer.from('RTSP/1.0 200 OK\nCSeq: 1\nContent-Length: 3\n\nabc'))
    assert.deepEqual(events, [{ type: 'response', version: 'RTSP/1.0', status: 200, reason: 'OK', headers: [['CSeq', '1'], ['Content-Length', '3']], body: Buffer.from('abc').toString('hex') }])
  })

  it('accepts an empty reason phrase, with or without the space', () => {
    const { reader, events } = recorder()
    reader.push(Buffer.from('RTSP/1.0 200\r\nCSeq: 1\r\n\r\nRTSP/1.0 401 \r\nCSeq: 2\r\n\r\nRTSP/1.0 454 Session Not Found\r\n\r\n'))
    assert.deepEqual(
      events.map((e) => (e.type === 'response' ? [e.status, e.reason] : [])),
      [
        [200, ''],
        [401, ''],
        [454, 'Session Not Found'],
      ],
    )
  })

  it('tolerates header quirks: padding, folding, no colon, lowercase names', () => {
    const { reader, events } = recorder()
    reader.push(Buffer.from('RTSP/1.0 200 OK\r\ncseq:   5  \r\nPublic: OPTIONS,\r\n DESCRIBE\r\nbogus line\r\nX-Empty:\r\n\r\n'))
    const ev = events[0]!
    assert.equal(ev.type, 'response')
    assert.deepEqual(ev.headers, [['cseq', '5'], ['Public', 'OPTIONS, DESCRIBE'], ['X-Empty', '']])
  })

  it('delivers interleaved frames as views of the chunk', () => {
    const { reader, events, payloads } = recorder()
    const chunk = Buffer.concat([encodeInterleaved(0, Buffer.from([1, 2, 3])), encodeInterleaved(1, Buffer.from([4])), encodeInterleaved(3, Buffer.alloc(0))])
    reader.push(chunk)
    assert.deepEqual(events, [
      { type: 'interleaved', channel: 0, payload: '010203' },
      { type: 'interleaved', channel: 1, payload: '04' },
      { type: 'interleaved', channel: 3, payload: '' },
    ])
    assert.equal(payloads[0]!.buffer, chunk.buffer)
    assert.equal(payloads[0]!.byteOffset, chunk.byteOffset + 4)
    assert.equal(payloads[1]!.buffer, chunk.buffer)
  })

  it('joins a frame split across chunks once, including inside the $ header', () => {
    const frame = encodeInterleaved(2, Buffer.from('0123456789'))
    for (let a = 1; a < frame.length; a++) {
      const { reader, events, payloads } = recorder()
      reader.push(frame.subarray(0, a))
      assert.equal(reader.buffered, a < 4 ? a : a - 4)
      reader.push(frame.subarray(a))
      assert.deepEqual(events, [{ type: 'interleaved', channel: 2, payload: Buffer.from('0123456789').toString('hex') }], `split at ${a}`)
      // Payload wholly in the second chunk: still a view, no copy.
      if (a <= 4) assert.equal(payloads[0]!.buffer, frame.buffer)
    }
  })

  it('hands frames to onInterleavedAt as ranges, whole or split anywhere, instead of onInterleaved', () => {
    const frames = [encodeInterleaved(0, Buffer.from('0123456789')), encodeInterleaved(1, Buffer.from([4])), encodeInterleaved(3, Buffer.alloc(0))]
    const stream = Buffer.concat([Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n'), ...frames])
    for (let a = 0; a <= stream.length; a++) {
      const got: Array<[number, string]> = []
      let viewCalls = 0
      const reader = new RtspReader({
        onResponse: () => got.push([-1, 'response']),
        onRequest: () => {},
        onInterleaved: () => viewCalls++,
        onInterleavedAt: (channel, buf, start, end) => got.push([channel, buf.toString('hex', start, end)]),
      })
      reader.push(stream.subarray(0, a))
      reader.push(stream.subarray(a))
      assert.deepEqual(got, [[-1, 'response'], [0, Buffer.from('0123456789').toString('hex')], [1, '04'], [3, '']], `split at ${a}`)
      assert.equal(viewCalls, 0)
    }
  })

  it('hands out memory it never reuses', () => {
    const { reader, payloads } = recorder()
    const frame = encodeInterleaved(0, Buffer.alloc(100, 0xab))
    reader.push(frame.subarray(0, 50))
    reader.push(frame.subarray(50))
    const second = encodeInterleaved(0, Buffer.alloc(100, 0xcd))
    reader.push(second.subarray(0, 50))
    reader.push(second.subarray(50))
    assert.equal(payloads[0]!.every((b) => b === 0xab), true)
    assert.equal(payloads[1]!.every((b) => b === 0xcd), true)
  })

  it('reads requests sent by the server in between frames', () => {
    const { reader, events } = recorder()
    reader.push(
      Buffer.concat([
        encodeInterleaved(0, Buffer.from([9])),
        Buffer.from('GET_PARAMETER rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 7\r\nSession: 1234\r\n\r\n'),
        Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 8\r\n\r\n'),
        Buffer.from('ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0\r\nCSeq: 9\r\nContent-Length: 4\r\n\r\nv=0\n'),
        encodeInterleaved(1, Buffer.from([8])),
      ]),
    )
    assert.deepEqual(
      events.map((e) => (e.type === 'request' ? `${e.method} ${e.url} ${e.version} ${Buffer.from(e.body, 'hex').toString()}` : e.type)),
      ['interleaved', 'GET_PARAMETER rtsp://127.0.0.1/x RTSP/1.0 ', 'OPTIONS * RTSP/1.0 ', 'ANNOUNCE rtsp://127.0.0.1/x RTSP/1.0 v=0\n', 'interleaved'],
    )
  })

  it('skips stray CRLF between messages without calling it garbage', () => {
    const { reader, events, state } = recorder()
    reader.push(Buffer.from('\r\n\r\nRTSP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nab\r\n'))
    reader.push(encodeInterleaved(0, Buffer.from([1])))
    assert.equal(events.length, 2)
    assert.equal(state.garbage, 0)
  })

  it('resynchronises after garbage and reports the skipped bytes', () => {
    const { reader, events, state } = recorder()
    const garbage = Buffer.from([0x00, 0xff, 0x41, 0x42, 0x0d, 0x0a, 0x13, 0x52, 0x54, 0x53, 0x51]) // includes "AB" and "RTSQ"
    reader.push(Buffer.concat([encodeInterleaved(0, Buffer.from([1])), garbage, encodeInterleaved(1, Buffer.from([2])), Buffer.from('junk RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n')]))
    assert.deepEqual(
      events.map((e) => e.type),
      ['interleaved', 'interleaved', 'response'],
    )
    assert.equal(state.garbage, garbage.length + 'junk '.length)
  })

  it('finds a request line in garbage', () => {
    const { reader, events, state } = recorder()
    reader.push(Buffer.from('xx OPTIONS TEARDOWN x PLAY rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n'))
    assert.equal(events.length, 1)
    const ev = events[0]!
    assert.equal(ev.type === 'request' && ev.method, 'PLAY')
    assert.equal(state.garbage, 'xx OPTIONS TEARDOWN x '.length)
  })

  it('resynchronises when a candidate spanning chunks turns out to be garbage', () => {
    const { reader, events, state } = recorder()
    const data = Buffer.concat([Buffer.from('ABC rtsp://x'), encodeInterleaved(5, Buffer.from([7, 7]))])
    feedBytewise(reader, data)
    assert.deepEqual(events, [{ type: 'interleaved', channel: 5, payload: '0707' }])
    assert.equal(state.garbage, 'ABC rtsp://x'.length)
  })

  it('throws ProtocolError on a malformed status line or Content-Length', () => {
    for (const text of ['RTSP/1.0 OK\r\n\r\n', 'RTSP/x 200 OK\r\n\r\n', 'RTSP/1.0 2000 OK\r\n\r\n', 'RTSP/1.0 200 OK\r\nContent-Length: 1x\r\n\r\n', 'RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n', 'RTSP/1.0 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']) {
      const { reader } = recorder()
      assert.throws(() => reader.push(Buffer.from(text)), ProtocolError, JSON.stringify(text))
      assert.equal(reader.buffered, 0)
    }
  })

  it('throws ProtocolError on a malformed request line, without the password', () => {
    const { reader } = recorder()
    assert.throws(
      () => reader.push(Buffer.from('PLAY rtsp://u:hunter2@h/ RTSP/1.0 extra\r\n\r\n')),
      (err: unknown) => err instanceof ProtocolError && !err.message.includes('hunter2'),
    )
  })

  describe('limits', () => {
    it('a 1 GB Content-Length throws at the end of the head', () => {
      const { reader } = recorder()
      assert.throws(() => reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 1000000000\r\n\r\n')), LimitError)
      const r2 = recorder().reader
      assert.throws(() => r2.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n')), LimitError)
    })

    it('a body of exactly maxBodySize is accepted', () => {
      const { reader, events } = recorder({ maxBodySize: 10 })
      reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n0123456789'))
      assert.equal(events.length, 1)
      assert.throws(() => reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n')), LimitError)
    })

    it('100 000 header lines throw after maxHeaderCount', () => {
      const { reader } = recorder()
      reader.push(Buffer.from('RTSP/1.0 200 OK\r\n'))
      let thrown: unknown
      let lines = 0
      try {
        for (; lines < 100_000; lines++) reader.push(Buffer.from(`X-${lines}: y\r\n`))
      } catch (err) {
        thrown = err
      }
      assert.ok(thrown instanceof LimitError)
      assert.equal(thrown.limit, 'header count')
      assert.equal(lines, 128)
    })

    it('a header line that never ends throws after maxLineLength, in small or big chunks', () => {
      const { reader } = recorder({ maxLineLength: 100 })
      reader.push(Buffer.from('RTSP/1.0 200 OK\r\nX: '))
      let pushed = 0
      assert.throws(() => {
        for (; pushed < 10_000; pushed++) reader.push(Buffer.from('aaaaaaaaaa'))
      }, LimitError)
      assert.ok(pushed <= 10)
      assert.ok(reader.buffered <= 101)
      const r2 = recorder({ maxLineLength: 100 }).reader
      assert.throws(() => r2.push(Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`)), LimitError)
      // Exactly the limit is fine, with CRLF or LF.
      const r3 = recorder({ maxLineLength: 100 })
      r3.reader.push(Buffer.from(`RTSP/1.0 200 OK\r\nX: ${'a'.repeat(97)}\r\nY: ${'b'.repeat(97)}\n\r\n`))
      assert.equal(r3.events.length, 1)
    })

    it('a start line that never ends throws after maxLineLength', () => {
      const { reader } = recorder({ maxLineLength: 64 })
      reader.push(Buffer.from('RTSP/1.0 200 '))
      assert.throws(() => {
        for (let i = 0; i < 1000; i++) reader.push(Buffer.from('x'))
      }, LimitError)
      // One huge chunk: the matcher stops scanning at the limit.
      const big = recorder({ maxLineLength: 64 }).reader
      assert.throws(() => big.push(Buffer.from(`PLAY rtsp://${'x'.repeat(1 << 20)}`)), LimitError)
      const r2 = recorder({ maxLineLength: 64 }).reader
      r2.push(Buffer.from('PLAY rtsp://'))
      assert.throws(() => {
        for (let i = 0; i < 1000; i++) r2.push(Buffer.from('xxxxx'))
      }, LimitError)
    })

    it('endless garbage throws after maxGarbage', () => {
      const { reader, state } = recorder({ maxGarbage: 1000 })
      assert.throws(() => {
        for (let i = 0; i < 1000; i++) reader.push(Buffer.alloc(100, 0x01))
      }, (err: unknown) => err instanceof LimitError && err.limit === 'garbage between frames')
      assert.ok(state.garbage <= 1000)
    })

    it('reset() drops a partial message', () => {
      const { reader, events } = recorder()
      reader.push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n01234'))
      assert.ok(reader.buffered > 0)
      reader.reset()
      assert.equal(reader.buffered, 0)
      reader.push(encodeInterleaved(0, Buffer.from([1])))
      assert.deepEqual(events, [{ type: 'interleaved', channel: 0, payload: '01' }])
    })
  })

  it('lets handler errors propagate', () => {
    const reader = new RtspReader({
      onResponse: () => {
        throw new RangeError('boom')
      },
      onRequest: () => {},
      onInterleaved: () => {},
    })
    assert.throws(() => reader.push(Buffer.from('RTSP/1.0 200 OK\r\n\r\n')), RangeError)
  })
})
