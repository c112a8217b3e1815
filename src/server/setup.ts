/**
 * SETUP (RFC 2326 §10.4): a reader's track of a served stream, or a publisher's track of
 * the stream it announced, over TCP interleaved or UDP; the reply's Transport (§12.39).
 */
import type { Headers, RtspRequest } from '../rtsp/message.js'
import { formatTransport, parseTransport } from '../rtsp/headers/transport.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import type { Announced, ServerConnection } from './connection.js'
import { authorize, sessionHeader, sessionOf } from './context.js'
import type { ServerContext } from './context.js'
import { keyFrameProbe } from './keyframe.js'
import { normalizePath, parseRequestPath, refuse, sessionIdOf } from './request.js'
import { ServerSession } from './session.js'
import type { TrackTransport } from './session.js'
import type { Stream } from './stream.js'

const MAX_SESSIONS_PER_CONNECTION = 16

export async function setup(ctx: ServerContext, conn: ServerConnection, req: RtspRequest, headers: Headers): Promise<void> {
  const specs = (() => {
    const value = req.headers.get('Transport')
    if (value === undefined) throw refuse(400, 'SETUP needs a Transport header')
    try {
      return parseTransport(value)
    } catch {
      throw refuse(461, `unsupported Transport ${value}`)
    }
  })()
  const recording = specs.some((s) => s.mode === 'RECORD')
  const { path: reqPath } = parseRequestPath(req.url)
  const existing = sessionIdOf(req) !== undefined ? sessionOf(ctx, req) : undefined

  let stream: Stream
  let index: number
  if (recording) {
    const a = conn.announced
    if (a === undefined || !(reqPath === a.path || reqPath.startsWith(`${a.path}/`))) {
      throw refuse(455, 'SETUP with mode=record needs an ANNOUNCE of the same path first')
    }
    stream = a.stream
    index = matchPublisherControl(a, reqPath, req.url)
    await authorize(ctx, conn, req, a.path, 'publish')
  } else {
    const found = findTrack(ctx, reqPath)
    await authorize(ctx, conn, req, found.stream.path, 'read')
    stream = found.stream
    index = found.index
  }
  let session = existing
  if (session !== undefined && (session.stream !== stream || session.role !== (recording ? 'publisher' : 'reader'))) {
    throw refuse(459, 'a session holds the tracks of one stream; SETUP this track without the Session header')
  }
  if (session !== undefined && session.state !== 'ready') throw refuse(455, `SETUP is not allowed while ${session.state}`)

  // The first transport we can serve (RFC 2326 §12.39: the client lists them by preference).
  let chosen: { spec: TransportSpec; transport: TrackTransport } | undefined
  for (const spec of specs) {
    if (spec.protocol !== 'RTP/AVP') continue
    if (spec.lowerTransport === 'TCP') {
      if (session !== undefined && session.socket !== undefined && session.socket !== conn.socket) continue
      const channels = spec.interleaved ?? freeChannels(conn)
      if (conn.channels.has(channels[0]) || conn.channels.has(channels[1])) continue
      chosen = { spec, transport: { protocol: 'tcp', channels } }
      break
    }
    if (spec.delivery === 'multicast') {
      // The server picks the group and ports (§12.39: a `destination` of the client's choice
      // would let anyone aim the stream at a third party); a publisher never sends to one.
      if (recording || ctx.multicast === undefined) continue
      chosen = { spec, transport: { protocol: 'multicast' } }
      break
    }
    if (spec.clientPort === undefined || ctx.udp === undefined) continue
    // client_port=0 or 65535 (its RTCP port would be 65536) parses but cannot be sent to: a
    // send to it throws inside the fan-out and ended the stream for every reader.
    if (!spec.clientPort.every((port) => port >= 1 && port <= 65535)) continue
    chosen = { spec, transport: { protocol: 'udp', clientPorts: spec.clientPort } }
    break
  }
  if (chosen === undefined) {
    const multicast = ctx.multicast !== undefined && !recording ? ', RTP/AVP;multicast' : ''
    throw refuse(461, `no supported transport: use RTP/AVP over UDP (client_port)${multicast} or RTP/AVP/TCP (interleaved)`)
  }
  // The group is made (or found) before the session, so a refusal leaves nothing behind.
  const group = chosen.transport.protocol === 'multicast' ? await ctx.multicast!.target(stream, index) : undefined
  if (session?.protocol !== undefined && session.protocol !== chosen.transport.protocol) {
    throw refuse(461, 'every track of a session uses the same lower transport')
  }

  if (session === undefined) {
    if (conn.sessions.size >= MAX_SESSIONS_PER_CONNECTION) throw refuse(453, `at most ${MAX_SESSIONS_PER_CONNECTION} sessions per connection`)
    session = new ServerSession(ctx.sessionHost, recording ? 'publisher' : 'reader', stream, conn.remoteAddress)
    ctx.sessions.set(session.id, session)
    conn.sessions.add(session)
  }
  const s = session
  if (chosen.transport.protocol === 'tcp') {
    s.socket = conn.socket
    const [rtp, rtcp] = chosen.transport.channels!
    conn.channels.set(rtp, { session: s, track: index, rtcp: false })
    conn.channels.set(rtcp, { session: s, track: index, rtcp: true })
  } else if (group !== undefined) {
    ctx.multicast!.add(s)
  } else {
    const [rtp, rtcp] = chosen.transport.clientPorts!
    ctx.udpRoutes.set(`${conn.remoteAddress}:${rtp}`, { session: s, track: index, rtcp: false })
    ctx.udpRoutes.set(`${conn.remoteAddress}:${rtcp}`, { session: s, track: index, rtcp: true })
  }
  s.setupTrack(index, chosen.transport, recording ? keyFrameProbe(stream.tracks[index]?.codec ?? '') : undefined)

  const reply: TransportSpec = { protocol: 'RTP/AVP', lowerTransport: chosen.transport.protocol === 'tcp' ? 'TCP' : 'UDP', delivery: 'unicast' }
  if (chosen.transport.protocol === 'tcp') reply.interleaved = chosen.transport.channels!
  else if (group !== undefined) {
    // RFC 2326 §12.39: multicast;destination=<group>;port=<rtp>-<rtcp>;ttl=<hops>.
    reply.delivery = 'multicast'
    reply.destination = group.destination
    reply.port = group.port
    reply.ttl = group.ttl
  } else {
    reply.clientPort = chosen.transport.clientPorts!
    reply.serverPort = [ctx.udp!.rtpPort, ctx.udp!.rtcpPort]
  }
  if (recording) reply.mode = 'record'
  headers.set('Transport', formatTransport(reply))
  headers.set('Session', sessionHeader(ctx, s))
}

/** A reader's SETUP URL: `<stream path>/trackID=N`, or the stream itself when it has one track. */
function findTrack(ctx: ServerContext, reqPath: string): { stream: Stream; index: number } {
  const streams = ctx.paths.streams
  const direct = streams.get(reqPath)
  if (direct !== undefined) {
    if (direct.tracks.length === 1) return { stream: direct, index: 0 }
    throw refuse(459, `/${reqPath} has ${direct.tracks.length} tracks; SETUP each one (…/trackID=N)`)
  }
  const slash = reqPath.lastIndexOf('/')
  const stream = slash >= 0 ? streams.get(reqPath.slice(0, slash)) : undefined
  if (stream === undefined) throw refuse(404, `no stream at /${reqPath}`)
  const control = reqPath.slice(slash + 1)
  const track = stream.tracks.find((t) => t.control === control)
  if (track === undefined) throw refuse(404, `/${stream.path} has no track ${control}`)
  return { stream, index: track.index }
}

/** Publishers name their tracks in their own SDP (`streamid=0`, `trackID=1`, absolute URLs). */
function matchPublisherControl(a: Announced, reqPath: string, rawUrl: string): number {
  const suffix = reqPath.slice(a.path.length).replace(/^\/+/, '')
  const idx = a.controls.findIndex((c) => {
    if (c === '' || c === '*') return false
    if (/^rtsps?:\/\//i.test(c)) return normalizePath(parseRequestPath(c).path) === reqPath || c === rawUrl
    return normalizePath(c) === suffix
  })
  if (idx >= 0) return idx
  if (suffix === '' && a.controls.length === 1) return 0
  throw refuse(404, `no track ${suffix || '(aggregate)'} in the announced SDP of /${a.path}`)
}

function freeChannels(conn: ServerConnection): [number, number] {
  for (let c = 0; c < 254; c += 2) if (!conn.channels.has(c) && !conn.channels.has(c + 1)) return [c, c + 1]
  throw refuse(453, 'no free interleaved channel left on this connection')
}
