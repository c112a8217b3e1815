import { test } from 'node:test'
import { strict as assert } from 'node:assert'
import * as net from 'node:net'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  formatResponse,
  interleavedFrame,
  rtpPacket,
  startFakeServer,
} from '../../helpers/fake-rtsp-server.js'
import type { FakeHandler, FakeServer, FakeServerOptions } from '../../helpers/fake-rtsp-server.js'

/** A raw client: everything received is kept in `received`. */
async function connect(server: FakeServer): Promise<{ socket: net.Socket; received: () => Buffer; ended: Promise<void> }> {
  const socket = net.connect(server.port, '127.0.0.1')
  const chunks: Buffer[] = []
  socket.on('data', (b: Buffer) => chunks.push(b))
  socket.on('error', () => {})
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await once(socket, 'connect')
  return { socket, received: () => Buffer.concat(chunks), ended }
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

async function withServer(
  t: { after(fn: () => unknown): void },
  handler: FakeHandler,
  opts?: FakeServerOptions,
): Promise<FakeServer> {
  const server = await startFakeServer(handler, opts)
  t.after(() => server.stop())
  return server
}

const req = (method: string, cseq: number, extra = ''): string =>
  `${method} rtsp://127.0.0.1/stream RTSP/1.0\r\nCSeq: ${cseq}\r\n${extra}\r\n`

test('reply echoes CSeq and writes headers, Content-Length and body', async (t) => {
  const server = await withServer(t, (r, ctx) => {
    if (r.method === 'DESCRIBE') ctx.reply(200, { 'Content-Type': 'application/sdp' }, 'v=0\r\n')
    else ctx.reply(200, { Public: 'OPTIONS, DESCRIBE' })
  })
  const c = await connect(server)
  c.socket.write(req('OPTIONS', 7))
  await waitFor(() => c.received().includes('\r\n\r\n'), 'OPTIONS reply')
  assert.equal(c.received().toString(), 'RTSP/1.0 200 OK\r\nCSeq: 7\r\nPublic: OPTIONS, DESCRIBE\r\n\r\n')
  c.socket.write(req('DESCRIBE', 8))
  await waitFor(() => c.received().toString().endsWith('v=0\r\n'), 'DESCRIBE reply')
  assert.match(c.received().toString(), /RTSP\/1\.0 200 OK\r\nCSeq: 8\r\nContent-Type: application\/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n$/)
  assert.equal(server.connections, 1)
  assert.deepEqual(
    server.requests.map((r) => [r.method, r.cseq]),
    [
      ['OPTIONS', '7'],
      ['DESCRIBE', '8'],
    ],
  )
  c.socket.destroy()
})

test('parses headers case-insensitively, joins repeats, reads a body by Content-Length', async (t) => {
  const server = await withServer(t, (_r, ctx) => ctx.reply(200))
  const c = await connect(server)
  const body = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n'
  c.socket.write(
    `ANNOUNCE rtsp://127.0.0.1/live RTSP/1.0\r\ncseq: 3\r\nX-Thing: a\r\nx-thing: b\r\n` +
      `Content-Type: application/sdp\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  )
  await waitFor(() => server.requests.length === 1, 'ANNOUNCE')
  const r = server.requests[0]!
  assert.equal(r.method, 'ANNOUNCE')
  assert.equal(r.url, 'rtsp://127.0.0.1/live')
  assert.equal(r.cseq, '3')
  assert.equal(r.headers['x-thing'], 'a, b')
  assert.equal(r.headers['content-type'], 'application/sdp')
  assert.equal(r.body.toString(), body)
  assert.ok(r.raw.endsWith(body))
  c.socket.destroy()
})

test('pipelined requests and requests split byte by byte reach an async handler in order', async (t) => {
  const seen: string[] = []
  const server = await withServer(t, async (r, ctx) => {
    // The first request is slowest: order must still hold.
    await sleep(r.cseq === '1' ? 30 : 0)
    seen.push(r.cseq)
    ctx.reply(200)
  })
  const c = await connect(server)
  c.socket.write(req('OPTIONS', 1) + req('OPTIONS', 2))
  const third = Buffer.from(req('GET_PARAMETER', 3))
  for (const byte of third) {
    c.socket.write(Buffer.from([byte]))
    await sleep(0)
  }
  await waitFor(() => seen.length === 3, 'three requests')
  assert.deepEqual(seen, ['1', '2', '3'])
  await waitFor(() => (c.received().toString().match(/RTSP\/1\.0 200/g) ?? []).length === 3, 'three replies')
  assert.deepEqual(
    [...c.received().toString().matchAll(/CSeq: (\d+)/g)].map((m) => m[1]),
    ['1', '2', '3'],
  )
  c.socket.destroy()
})

test('skips interleaved frames from the client, between and around requests', async (t) => {
  const frames: Array<[number, string]> = []
  const server = await withServer(t, (_r, ctx) => ctx.reply(200), {
    onInterleaved: (ch, payload) => frames.push([ch, payload.toString()]),
  })
  const c = await connect(server)
  const bytes = Buffer.concat([
    interleavedFrame(1, Buffer.from('rr-1')),
    Buffer.from(req('GET_PARAMETER', 5)),
    interleavedFrame(3, Buffer.from('rr-2')),
    interleavedFrame(1, Buffer.alloc(0)),
    Buffer.from(req('GET_PARAMETER', 6)),
  ])
  // Split at every position in turn would be slow; split into odd-sized pieces.
  for (let i = 0; i < bytes.length; i += 3) {
    c.socket.write(bytes.subarray(i, i + 3))
    await sleep(0)
  }
  await waitFor(() => server.requests.length === 2, 'two requests')
  assert.deepEqual(frames, [
    [1, 'rr-1'],
    [3, 'rr-2'],
    [1, ''],
  ])
  assert.equal(server.interleavedFrames, 3)
  assert.deepEqual(
    server.requests.map((r) => r.cseq),
    ['5', '6'],
  )
  c.socket.destroy()
})

test('streams interleaved RTP frames written with ctx.write(Buffer)', async (t) => {
  const packets = Array.from({ length: 50 }, (_, i) =>
    rtpPacket({
      payloadType: 96,
      sequenceNumber: 65530 + i,
      timestamp: 3000 * i,
      ssrc: 0x11223344,
      marker: i % 5 === 4,
      payload: Buffer.alloc(100 + i, i),
    }),
  )
  const expected = Buffer.concat(packets.map((p) => interleavedFrame(0, p)))
  const server = await withServer(t, (r, ctx) => {
    ctx.reply(200, { Session: '12345678' })
    if (r.method === 'PLAY') for (const p of packets) ctx.write(interleavedFrame(0, p))
  })
  const c = await connect(server)
  c.socket.write(req('PLAY', 4))
  await waitFor(() => c.received().length >= expected.length + 20, 'all frames')
  const got = c.received()
  const head = formatResponse(200, '4', { Session: '12345678' })
  assert.deepEqual(got.subarray(0, head.length), head)
  assert.deepEqual(got.subarray(head.length), expected)
  // Spot-check the RTP header the builder wrote.
  const first = got.subarray(head.length + 4)
  assert.equal(first[0], 0x80)
  assert.equal(first[1]! & 0x7f, 96)
  assert.equal(first.readUInt16BE(2), 65530)
  assert.equal(first.readUInt32BE(8), 0x11223344)
  c.socket.destroy()
})

test('CSeq can be replaced or left out; a handler error becomes 500; garbage gets 400', async (t) => {
  const server = await withServer(t, (r, ctx) => {
    if (r.method === 'PLAY') ctx.reply(200, { CSeq: '99' })
    else if (r.method === 'TEARDOWN') ctx.reply(501, { CSeq: '' })
    else throw new Error('boom\r\nsplit')
  })
  const c = await connect(server)
  c.socket.write(req('PLAY', 1) + req('TEARDOWN', 2) + req('PAUSE', 3) + 'hello there\r\n\r\n')
  await waitFor(() => (c.received().toString().match(/RTSP\/1\.0/g) ?? []).length === 4, 'four replies')
  const text = c.received().toString()
  assert.ok(text.includes('RTSP/1.0 200 OK\r\nCSeq: 99\r\n\r\n'))
  assert.ok(text.includes('RTSP/1.0 501 Not Implemented\r\n\r\n'))
  assert.ok(text.includes('RTSP/1.0 500 Internal Server Error\r\nCSeq: 3\r\nX-Fake-Error: boom split\r\n\r\n'))
  assert.ok(text.includes('RTSP/1.0 400 Bad Request\r\n\r\n'))
  c.socket.destroy()
})

test('close() ends the connection after what was written; destroy() drops it', async (t) => {
  const server = await withServer(t, (r, ctx) => {
    if (r.method === 'OPTIONS') {
      ctx.write('RTSP/1.0 200 OK\r\nCSeq: 1\r\n')
      ctx.close()
    } else {
      ctx.destroy()
    }
  })
  const a = await connect(server)
  a.socket.write(req('OPTIONS', 1))
  await a.ended
  assert.equal(a.received().toString(), 'RTSP/1.0 200 OK\r\nCSeq: 1\r\n')
  const b = await connect(server)
  b.socket.write(req('DESCRIBE', 1))
  await b.ended
  assert.equal(b.received().length, 0)
  assert.equal(server.connections, 2)
  assert.deepEqual(
    server.requests.map((r) => r.connection),
    [0, 1],
  )
})

test('onConnection can greet before any request; a silent handler sends nothing', async (t) => {
  const server = await withServer(t, () => {}, {
    onConnection: (_socket, ctx) => ctx.write('garbage\r\n'),
  })
  const c = await connect(server)
  c.socket.write(req('OPTIONS', 1))
  await waitFor(() => server.requests.length === 1, 'request')
  await sleep(50)
  assert.equal(c.received().toString(), 'garbage\r\n')
  c.socket.destroy()
})

test('stop() closes open connections and the listener', async () => {
  const server = await startFakeServer((_r, ctx) => ctx.reply(200))
  const c = await connect(server)
  await server.stop()
  await c.ended
  await server.stop() // idempotent
  const refused = net.connect(server.port, '127.0.0.1')
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
  assert.equal(err.code, 'ECONNREFUSED')
})
