import assert from 'node:assert/strict'
import * as dgram from 'node:dgram'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { InvalidArgumentError, RtspError } from '../../../src/errors.js'
import { parseRtpPacket } from '../../../src/rtp/packet.js'
import { parseRtcpPacket } from '../../../src/rtcp/packets.js'
import { bindRtpPortPair } from '../../../src/transport/udp.js'
import type { UdpPortPair } from '../../../src/transport/udp.js'

const HOST = '127.0.0.1'
const open: Array<{ close(): unknown }> = []

async function socketOn(port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4')
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject)
    s.bind(port, HOST, () => {
      s.off('error', reject)
      resolve()
    })
  })
  open.push({ close: () => closeQuietly(s) })
  return s
}

function closeQuietly(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve())
    } catch {
      resolve()
    }
  })
}

async function pair(opts: Parameters<typeof bindRtpPortPair>[0] = {}): Promise<UdpPortPair> {
  const p = await bindRtpPortPair({ host: HOST, ...opts })
  open.push(p)
  return p
}

function send(from: dgram.Socket, port: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => from.send(data, port, HOST, (err) => (err ? reject(err) : resolve())))
}

/** Resolves with the next datagram a handler registration sees, or rejects after `ms`. */
function next(register: (cb: (buf: Buffer) => void) => void, ms = 2000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no datagram')), ms)
    register((buf) => {
      clearTimeout(timer)
      resolve(buf)
    })
  })
}

/** Let the event loop deliver what is in flight on loopback. */
/**
 * Until `ok()` holds: a datagram that is dropped leaves nothing to wait for but the counter,
 * and a fixed pause is a race on a loaded machine (the datagram may not be read yet).
 */
async function until(ok: () => boolean, what: string, ms = 5000): Promise<void> {
  for (const deadline = performance.now() + ms; !ok(); ) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

after(async () => {
  await Promise.all(open.map((s) => s.close()))
})

describe('bindRtpPortPair', () => {
  it('binds an even RTP port and RTCP on the next, twice without clashing', async () => {
    const a = await pair()
    const b = await pair()
    for (const p of [a, b]) {
      assert.equal(p.rtpPort % 2, 0)
      assert.equal(p.rtcpPort, p.rtpPort + 1)
      assert.ok(p.rtpPort >= 10000)
      assert.equal(p.host, HOST)
      assert.ok(p.recvBufferSize > 0)
    }
    assert.notEqual(a.rtpPort, b.rtpPort)
    await Promise.all([a.close(), b.close()])
  })

  it('stays inside the requested range', async () => {
    const a = await pair({ minPort: 40001, maxPort: 40200 })
    assert.ok(a.rtpPort >= 40002 && a.rtcpPort <= 40200)
    await a.close()
  })

  it('close() releases both ports and is idempotent', async () => {
    const a = await pair()
    const first = a.close()
    assert.equal(a.close(), first)
    await first
    await a.close()
    assert.equal(a.closed, true)
    const r = await socketOn(a.rtpPort)
    const c = await socketOn(a.rtcpPort)
    await Promise.all([closeQuietly(r), closeQuietly(c)])
  })

  it('leaves no socket open when the RTCP half is taken', async () => {
    const probe = await pair()
    const port = probe.rtpPort
    await probe.close()
    const blocker = await socketOn(port + 1)
    await assert.rejects(bindRtpPortPair({ host: HOST, minPort: port, maxPort: port + 1 }), (err: unknown) => {
      assert.ok(err instanceof RtspError)
      assert.equal(err.code, 'RTSP_ERR_CONNECT')
      assert.match(err.message, /no free UDP port pair/)
      return true
    })
    // The RTP half was released: its port binds again.
    const rtp = await socketOn(port)
    await Promise.all([closeQuietly(rtp), closeQuietly(blocker)])
  })

  it('refuses bad options with InvalidArgumentError', async () => {
    await assert.rejects(bindRtpPortPair({ host: 'localhost' }), InvalidArgumentError)
    await assert.rejects(bindRtpPortPair({ host: HOST, minPort: 5001, maxPort: 5001 }), InvalidArgumentError)
    await assert.rejects(bindRtpPortPair({ host: HOST, minPort: 0 }), InvalidArgumentError)
    await assert.rejects(bindRtpPortPair({ host: HOST, attempts: 0 }), InvalidArgumentError)
  })
})

describe('UdpPortPair', () => {
  it('drops datagrams until the server is known, then only those from its address', async () => {
    const p = await pair()
    const server = await socketOn()
    let rtp = 0
    p.onRtp(() => rtp++)
    await send(server, p.rtpPort, Buffer.from('early'))
    await until(() => p.packetsDropped === 1, 'the early datagram dropped')
    assert.equal(rtp, 0)
    assert.equal(p.packetsDropped, 1)

    // The server is elsewhere: our 127.0.0.1 sender is a stranger.
    p.setRemote('127.0.0.2', 6970, 6971)
    await send(server, p.rtpPort, Buffer.from('stranger'))
    await send(server, p.rtcpPort, Buffer.from('stranger'))
    await until(() => p.packetsDropped === 3, "the stranger's datagrams dropped")
    assert.equal(rtp, 0)
    assert.equal(p.packetsDropped, 3)

    // The server's address, sending from a port other than its server_port: accepted.
    p.setRemote(HOST, 6970, 6971)
    const gotRtp = next((cb) => p.onRtp(cb))
    await send(server, p.rtpPort, Buffer.from('media'))
    assert.equal((await gotRtp).toString(), 'media')
    const gotRtcp = next((cb) => p.onRtcp(cb))
    await send(server, p.rtcpPort, Buffer.from('report'))
    assert.equal((await gotRtcp).toString(), 'report')
    assert.equal(p.rtpPacketsReceived, 1)
    assert.equal(p.rtcpPacketsReceived, 1)
    assert.equal(p.packetsDropped, 3)
    assert.equal(p.remoteRtpPort, 6970, 'a known server_port is kept')
    await p.close()
  })

  it('accepts the IPv4-mapped spelling of the server address', async () => {
    const p = await pair()
    const server = await socketOn()
    p.setRemote('::ffff:127.0.0.1')
    assert.equal(p.remoteAddress, HOST)
    const got = next((cb) => p.onRtp(cb))
    await send(server, p.rtpPort, Buffer.from('x'))
    assert.equal((await got).toString(), 'x')
    await p.close()
  })

  it('with filterSource off, takes datagrams from anywhere once a remote is set', async () => {
    const p = await pair({ filterSource: false })
    const server = await socketOn()
    p.setRemote('127.0.0.2')
    const got = next((cb) => p.onRtp(cb))
    await send(server, p.rtpPort, Buffer.from('relay'))
    assert.equal((await got).toString(), 'relay')
    await p.close()
  })

  it('learns unknown server ports from the first datagrams and answers there', async () => {
    const p = await pair()
    const serverRtcp = await socketOn()
    p.setRemote(HOST)
    assert.equal(p.sendRtcp(Buffer.from('x')), false, 'nowhere to send yet')
    assert.equal(p.punch(), 0, 'punch skips unknown ports')
    const got = next((cb) => p.onRtcp(cb))
    await send(serverRtcp, p.rtcpPort, Buffer.from('sr'))
    await got
    assert.equal(p.remoteRtcpPort, serverRtcp.address().port)
    const back = once(serverRtcp, 'message')
    assert.equal(p.sendRtcp(Buffer.from('rr')), true)
    const [msg, rinfo] = (await back) as [Buffer, dgram.RemoteInfo]
    assert.equal(msg.toString(), 'rr')
    assert.equal(rinfo.port, p.rtcpPort, 'RTCP leaves from our RTCP port')
    await p.close()
  })

  it('punch() sends an empty RTP packet and an RR to the server ports', async () => {
    const p = await pair()
    const serverRtp = await socketOn()
    const serverRtcp = await socketOn()
    p.setRemote(HOST, serverRtp.address().port, serverRtcp.address().port)
    const rtpMsg = once(serverRtp, 'message')
    const rtcpMsg = once(serverRtcp, 'message')
    assert.equal(p.punch(0x1234), 2)
    const [rtp, rtpFrom] = (await rtpMsg) as [Buffer, dgram.RemoteInfo]
    const [rtcp, rtcpFrom] = (await rtcpMsg) as [Buffer, dgram.RemoteInfo]
    const packet = parseRtpPacket(rtp)
    assert.ok(packet)
    assert.equal(packet.ssrc, 0x1234)
    assert.equal(packet.payload.length, 0)
    assert.equal(rtpFrom.port, p.rtpPort)
    assert.deepEqual(parseRtcpPacket(rtcp), [{ type: 'rr', ssrc: 0x1234, reports: [] }])
    assert.equal(rtcpFrom.port, p.rtcpPort)
    await p.close()
    assert.equal(p.sendRtp(Buffer.from('late')), false, 'nothing is sent after close')
  })

  it('rejects a remote that is not an IP address', async () => {
    const p = await pair()
    assert.throws(() => p.setRemote('camera.local'), InvalidArgumentError)
    assert.throws(() => p.setRemote(HOST, 70000), InvalidArgumentError)
    await p.close()
  })
})
