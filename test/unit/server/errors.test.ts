/**
 * Server-side errors (issue 11): each is an RtspError subclass whose stable `code` is set by
 * its constructor, never patched afterwards, and none is built as a bare RtspError or Error.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import * as dgram from 'node:dgram'
import * as net from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { BindError, RequestRejectedError, RtspError, RtspServer } from '../../../src/index.js'
import { bindRtpPortPair } from '../../../src/transport/udp.js'
import { REPO_ROOT } from '../../helpers/cli.js'

function listenTcp(): Promise<net.Server> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}

function bindUdp(port = 0): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4')
    s.once('error', reject)
    s.bind(port, '127.0.0.1', () => resolve(s))
  })
}

describe('server-side errors', () => {
  it('RequestRejectedError carries status, reason phrase and headers, with code RTSP_ERR_REJECTED', () => {
    const err = new RequestRejectedError({ status: 455, message: 'ANNOUNCE refused: path /x is served from a file', reason: 'Method Not Valid in This State: path /x is served from a file', headers: { Allow: 'DESCRIBE' } })
    assert.ok(err instanceof RtspError)
    assert.equal(err.name, 'RequestRejectedError')
    assert.equal(err.code, 'RTSP_ERR_REJECTED')
    assert.equal(err.status, 455)
    assert.equal(err.reason, 'Method Not Valid in This State: path /x is served from a file')
    assert.deepEqual(err.headers, { Allow: 'DESCRIBE' })
    assert.equal(err.message, '455 ANNOUNCE refused: path /x is served from a file')
  })

  it('listen() on a TCP port in use rejects with BindError (RTSP_ERR_CONNECT, tcp, the port, EADDRINUSE)', async () => {
    const blocker = await listenTcp()
    const port = (blocker.address() as net.AddressInfo).port
    const server = new RtspServer({ host: '127.0.0.1', port })
    try {
      await assert.rejects(server.listen(), (err: unknown) => {
        assert.ok(err instanceof BindError, String(err))
        assert.equal(err.code, 'RTSP_ERR_CONNECT')
        assert.deepEqual([err.protocol, err.host, err.port, err.reason], ['tcp', '127.0.0.1', port, 'EADDRINUSE'])
        assert.match(err.message, new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE; choose another --port$`))
        return true
      })
    } finally {
      await server.close()
      await new Promise<void>((resolve) => blocker.close(() => resolve()))
    }
  })

  it('listen() with an rtpPort in use rejects with BindError (udp) whose hint is for a server, not a client', async () => {
    // A free even pair, then its RTP half taken.
    const probe = await bindRtpPortPair({ host: '127.0.0.1' })
    const rtpPort = probe.rtpPort
    await probe.close()
    const blocker = await bindUdp(rtpPort)
    const server = new RtspServer({ host: '127.0.0.1', port: 0, rtpPort })
    try {
      await assert.rejects(server.listen(), (err: unknown) => {
        assert.ok(err instanceof BindError, String(err))
        assert.equal(err.code, 'RTSP_ERR_CONNECT')
        assert.equal(err.protocol, 'udp')
        assert.match(err.message, /choose another rtpPort$/)
        assert.doesNotMatch(err.message, /--transport/)
        return true
      })
    } finally {
      await server.close()
      blocker.close()
    }
  })

  it('bindRtpPortPair failures are BindError (udp) with the range tried', async () => {
    const probe = await bindRtpPortPair({ host: '127.0.0.1' })
    const port = probe.rtpPort
    await probe.close()
    const blocker = await bindUdp(port)
    try {
      await assert.rejects(bindRtpPortPair({ host: '127.0.0.1', minPort: port, maxPort: port + 1 }), (err: unknown) => {
        assert.ok(err instanceof BindError, String(err))
        assert.equal(err.code, 'RTSP_ERR_CONNECT')
        assert.deepEqual([err.protocol, err.port, err.range, err.reason], ['udp', undefined, [port, port + 1], 'EADDRINUSE'])
        return true
      })
    } finally {
      blocker.close()
    }
  })

  it('the server and UDP transport build no bare RtspError or Error subclass of their own', async () => {
    const dir = join(REPO_ROOT, 'src/server')
    const files = [...(await readdir(dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)), join(REPO_ROOT, 'src/transport/udp.ts')]
    for (const file of files) {
      const text = await readFile(file, 'utf8')
      assert.doesNotMatch(text, /new RtspError\(/, `${file} builds a bare RtspError; use (or add) a subclass in src/errors.ts`)
      assert.doesNotMatch(text, /extends Error\b/, `${file} defines its own Error class; errors live in src/errors.ts`)
      assert.doesNotMatch(text, /new Error\(/, `${file} throws a plain Error`)
      assert.doesNotMatch(text, /\.code = /, `${file} sets an error code after construction`)
    }
  })
})
