// @bench-lib (a helper, not a benchmark: scripts/bench.sh skips it)
/**
 * A minimal RTSP server for benchmarks: loops a pre-packetized H.264 clip from RAM over TCP
 * interleaved RTP, paced by RTP timestamps (one access unit per frame interval), with
 * sequence numbers and timestamps continuous across loops. It speaks just enough RTSP:
 * OPTIONS, DESCRIBE, SETUP (TCP interleaved only; 461 to UDP), PLAY, GET_PARAMETER,
 * TEARDOWN. It counts the bytes each connection was sent.
 *
 * As a program (for manual runs):  node --import tsx bench/replay-server.ts [--mbps 80] [--unpaced]
 * prints `PORT <n>` and serves until SIGTERM/SIGINT or stdin closes.
 */
import { randomBytes } from 'node:crypto'
import { fstatSync } from 'node:fs'
import type * as net from 'node:net'
import { fileURLToPath } from 'node:url'
import { startFakeServer } from '../test/helpers/fake-rtsp-server.js'
import type { FakeRequest } from '../test/helpers/fake-rtsp-server.js'
import { loadBenchStream } from './h264-stream.js'
import type { PacketizedStream } from './h264-stream.js'

export interface ReplayStats {
  /** Connections accepted since the last reset. */
  connections: number
  /** PLAY requests since the last reset. */
  plays: number
  /** Bytes handed to the kernel on every connection since the last reset. */
  bytes: number
  /** RTP packets sent since the last reset. */
  packets: number
  /** Largest delay of a frame behind its schedule (a client that cannot keep up). */
  maxLagMs: number
}

export interface ReplayServer {
  port: number
  url(path?: string): string
  /** Stop sending media on every connection (requests are still answered). */
  pause(): void
  /** Zero the counters and send again. */
  reset(): void
  stats(): ReplayStats
  /** Connections open now. */
  openConnections(): number
  /** Resolves when nothing is left in any connection's Node write buffer (or after timeoutMs). */
  drained(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

interface Connection {
  socket: net.Socket
  /** Counter baseline taken at reset or at connect. */
  baseBytes: number
  sessionId?: string
  channel: number
  ssrc: number
  playing: boolean
  /** Access units sent since PLAY (across loops). */
  sentUnits: number
  startMs: number
  seqBase: number
  tsBase: number
  packets: number
}

function base64(b: Buffer): string {
  return b.toString('base64')
}

function sdpFor(stream: PacketizedStream): string {
  const profileLevelId = stream.sps.subarray(1, 4).toString('hex')
  return [
    'v=0',
    'o=- 0 0 IN IP4 127.0.0.1',
    's=rtspkit bench replay',
    'c=IN IP4 0.0.0.0',
    't=0 0',
    'a=control:*',
    'a=range:npt=now-',
    `m=video 0 RTP/AVP ${stream.payloadType}`,
    `a=rtpmap:${stream.payloadType} H264/90000`,
    `a=fmtp:${stream.payloadType} packetization-mode=1;profile-level-id=${profileLevelId};` +
      `sprop-parameter-sets=${base64(stream.sps)},${base64(stream.pps)}`,
    `a=framerate:${stream.fps}`,
    'a=control:trackID=0',
    '',
  ].join('\r\n')
}

export async function startReplayServer(
  stream: PacketizedStream,
  opts: {
    sessionTimeout?: number
    /** Send as fast as each client reads (4 MiB kept queued per connection), not in real time. */
    unpaced?: boolean
  } = {},
): Promise<ReplayServer> {
  const sessionTimeout = opts.sessionTimeout ?? 60
  const unpaced = opts.unpaced === true
  const conns = new Map<net.Socket, Connection>()
  let paused = false
  let closedBytes = 0
  let closedPackets = 0
  let connections = 0
  let plays = 0
  let maxLagMs = 0
  const frameMs = 1000 / stream.fps
  const sdp = sdpFor(stream)

  const connOf = (socket: net.Socket): Connection => {
    let c = conns.get(socket)
    if (!c) {
      c = {
        socket,
        baseBytes: socket.bytesWritten,
        channel: 0,
        ssrc: randomBytes(4).readUInt32BE(0),
        playing: false,
        sentUnits: 0,
        startMs: 0,
        seqBase: randomBytes(2).readUInt16BE(0),
        tsBase: randomBytes(4).readUInt32BE(0),
        packets: 0,
      }
      conns.set(socket, c)
      connections++
      const conn = c
      socket.once('close', () => {
        closedBytes += socket.bytesWritten - conn.baseBytes
        closedPackets += conn.packets
        conns.delete(socket)
      })
    }
    return c
  }

  const sendDue = (c: Connection, now: number): void => {
    const units = stream.units
    // Do not pile up more than ~2 frames in Node's buffer: a slow client falls behind
    // (and shows up in maxLagMs) instead of making the server buffer without bound.
    while (unpaced || c.startMs + c.sentUnits * frameMs <= now) {
      if (c.socket.writableLength > 4 * 1024 * 1024) break
      const lag = unpaced ? 0 : now - (c.startMs + c.sentUnits * frameMs)
      if (lag > maxLagMs) maxLagMs = lag
      const loop = Math.floor(c.sentUnits / units.length)
      const unit = units[c.sentUnits % units.length]!
      const frames = Buffer.from(unit.frames) // a copy: the queued one must not change
      const ts = (c.tsBase + loop * stream.loopTicks + unit.timestamp) >>> 0
      for (const at of unit.offsets) {
        frames[at + 1] = c.channel
        frames.writeUInt16BE(c.seqBase & 0xffff, at + 6)
        frames.writeUInt32BE(ts, at + 8)
        frames.writeUInt32BE(c.ssrc, at + 12)
        c.seqBase = (c.seqBase + 1) & 0xffff
      }
      c.packets += unit.offsets.length
      c.sentUnits++
      c.socket.write(frames)
    }
  }

  const tick = setInterval(() => {
    if (paused) return
    const now = performance.now()
    for (const c of conns.values()) if (c.playing && !c.socket.destroyed) sendDue(c, now)
  }, 4)

  const handle = (req: FakeRequest, reply: (status: number, headers?: Record<string, string>, body?: string) => void): void => {
    const c = connOf(req.socket)
    const session = (): Record<string, string> => (c.sessionId ? { Session: `${c.sessionId};timeout=${sessionTimeout}` } : {})
    switch (req.method) {
      case 'OPTIONS':
        reply(200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN' })
        return
      case 'DESCRIBE': {
        const base = req.url.endsWith('/') ? req.url : `${req.url}/`
        reply(200, { 'Content-Type': 'application/sdp', 'Content-Base': base }, sdp)
        return
      }
      case 'SETUP': {
        const transport = req.headers.transport ?? ''
        const m = /interleaved=(\d+)(?:-(\d+))?/.exec(transport)
        if (!/RTP\/AVP\/TCP/i.test(transport) || !m) {
          reply(461)
          return
        }
        const rtp = Number(m[1])
        const rtcp = m[2] === undefined ? rtp + 1 : Number(m[2])
        c.channel = rtp
        c.sessionId ??= randomBytes(8).toString('hex')
        const ssrc = c.ssrc.toString(16).padStart(8, '0').toUpperCase()
        reply(200, {
          Transport: `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};ssrc=${ssrc};mode="PLAY"`,
          ...session(),
        })
        return
      }
      case 'PLAY': {
        if (!c.sessionId) {
          reply(455)
          return
        }
        const trackUrl = `${req.url.replace(/\/$/, '')}/trackID=0`
        reply(200, {
          Range: 'npt=0.000-',
          'RTP-Info': `url=${trackUrl};seq=${c.seqBase};rtptime=${c.tsBase >>> 0}`,
          ...session(),
        })
        if (!c.playing) {
          plays++
          c.playing = true
          c.sentUnits = 0
          c.startMs = performance.now()
        }
        return
      }
      case 'GET_PARAMETER':
        reply(200, session())
        return
      case 'TEARDOWN':
        c.playing = false
        reply(200, session())
        return
      default:
        reply(501, session())
    }
  }

  const server = await startFakeServer((req, ctx) => handle(req, ctx.reply))

  const liveBytes = (): number => {
    let n = 0
    for (const c of conns.values()) n += c.socket.bytesWritten - c.socket.writableLength - c.baseBytes
    return n
  }

  return {
    port: server.port,
    url: (path = '/stream') => server.url(path),
    pause(): void {
      paused = true
    },
    reset(): void {
      closedBytes = 0
      closedPackets = 0
      connections = 0
      plays = 0
      maxLagMs = 0
      for (const c of conns.values()) {
        c.baseBytes = c.socket.bytesWritten
        c.packets = 0
      }
      paused = false
    },
    stats(): ReplayStats {
      let packets = closedPackets
      for (const c of conns.values()) packets += c.packets
      return { connections, plays, bytes: closedBytes + liveBytes(), packets, maxLagMs }
    },
    openConnections: () => conns.size,
    async drained(timeoutMs = 2000): Promise<void> {
      const deadline = performance.now() + timeoutMs
      for (;;) {
        let pending = 0
        for (const c of conns.values()) if (!c.socket.destroyed) pending += c.socket.writableLength
        if (pending === 0 || performance.now() > deadline) return
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    async stop(): Promise<void> {
      clearInterval(tick)
      await server.stop()
    },
  }
}

// As a program.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--mbps')
  const mbps = i > 0 ? Number(process.argv[i + 1]) : 80
  const stream = await loadBenchStream({ mbps })
  const server = await startReplayServer(stream, { unpaced: process.argv.includes('--unpaced') })
  process.stdout.write(`PORT ${server.port}\n`)
  process.stderr.write(
    `serving ${server.url()}: ${stream.units.length} frames/loop, ` +
      `${((stream.bytesPerLoop * 8 * stream.fps) / stream.units.length / 1e6).toFixed(1)} Mbit/s\n`,
  )
  const stop = (): void => {
    process.stderr.write(`${JSON.stringify(server.stats())}\n`)
    void server.stop().then(() => process.exit(0))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  // A pipe on stdin is a lifeline (exit when the parent goes); /dev/null or a tty is not.
  const stdin = fstatSync(0)
  if (stdin.isFIFO() || stdin.isSocket()) process.stdin.on('end', stop).resume()
}
