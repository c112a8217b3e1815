// A scripted RTSP camera on 127.0.0.1 for quirks and faults a real peer will not produce on
// demand. It answers the pull handshake, then streams a small synthetic H.264 stream
// (real SPS/PPS, dummy slices) interleaved on the TCP connection at 30 fps.
import dgram from 'node:dgram'
import { formatResponse, startFakeServer } from './fake-rtsp-server.js'
import { H264Packetizer } from '../../src/formats/h264/packetizer.js'

/** Baseline 320x240 SPS and its PPS, from x264. */
export const CAMERA_SPS = Buffer.from('6742c00dd90141fb0110000003001000000303c0f142a480', 'hex')
export const CAMERA_PPS = Buffer.from('68cb83cb20', 'hex')

export interface CameraRequest {
  method: string
  url: string
  headers: Record<string, string>
}

export interface CameraScenario {
  /** Content-Base header value; null to send none. Default `${url}/`. */
  contentBase?: (url: string) => string | null
  /** SDP text; gets the request URL. Default: one H.264 track, control `trackID=1`. */
  sdp?: (url: string) => string
  /** Public header of the OPTIONS reply. */
  publicMethods?: string
  /** Session header value of the SETUP reply. */
  session?: string
  /** Interleaved channels to answer with, from the ones the client asked for. */
  channels?: (asked: [number, number], setupIndex: number) => [number, number]
  /** Override a reply: return true when handled. */
  intercept?: (req: CameraRequest, ctx: ReplyCtx) => boolean | void
  /** Called for every interleaved frame sent; return false to stop sending media. */
  mediaFilter?: (frameIndex: number) => boolean
  /** Bytes written between some media frames (garbage). */
  garbageEvery?: { frames: number; bytes: Buffer }
  /** Frames per second of the synthetic stream. */
  fps?: number
  /** Rewrite every reply's bytes (empty reasons, lowercase names, odd spacing...). */
  mangle?: (reply: string) => string
  /** Transport header of the SETUP reply, from the channels chosen (TCP) or ports (UDP). */
  setupTransport?: (channels: [number, number], udp?: { clientPort: [number, number]; serverPort: [number, number] }) => string
  /** UDP only: return false to drop the n-th RTP packet (a lossy network). */
  udpFilter?: (packetIndex: number, packet: Buffer) => boolean | 'swap'
  /** Add this many seconds to every RTP timestamp from frame `atFrame` on (a camera whose clock jumps). */
  timestampJump?: { atFrame: number; seconds: number }
  /** 0-based SETUP (on a connection) whose channels or ports carry the stream; default the last one. */
  mediaSetup?: number
  /** Frames sent before the PLAY reply (Reolink, v4l2rtspserver: media races the reply). */
  mediaBeforePlayReply?: number
  /** Extra headers of the PLAY reply (RTP-Info...), from the request URL. */
  playHeaders?: (url: string) => Record<string, string>
  /** Access unit n of the stream; default cameraAccessUnit (dummy slices). Give real pictures to decode the result. */
  accessUnit?: (n: number) => Buffer[]
}

export interface ReplyCtx {
  reply(status: number, headers?: Record<string, string>, body?: string | Buffer): void
  write(raw: string | Buffer): void
  close(): void
  destroy(): void
}

export interface FakeCamera {
  port: number
  url(path?: string): string
  /** Every request received, in order. */
  requests: CameraRequest[]
  /** Interleaved frames the client sent us (RTCP receiver reports). */
  interleavedFromClient: Array<{ channel: number; length: number }>
  /** Heads of the client's answers to requests the camera sent. */
  readonly responses: readonly string[]
  stop(): Promise<void>
}

export function defaultSdp(): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=Fake camera',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    `a=fmtp:96 packetization-mode=1;profile-level-id=42c00d;sprop-parameter-sets=${CAMERA_SPS.toString('base64')},${CAMERA_PPS.toString('base64')}`,
    'a=control:trackID=1',
    '',
  ].join('\r\n')
}

/** Access unit n of the synthetic stream: IDR every 30 frames, SPS/PPS in-band before it. */
export function cameraAccessUnit(n: number): Buffer[] {
  const slice = Buffer.alloc(n % 30 === 0 ? 3000 : 600, n & 0xff)
  if (n % 30 === 0) {
    slice[0] = 0x65 // IDR slice
    return [CAMERA_SPS, CAMERA_PPS, slice]
  }
  slice[0] = 0x41 // non-IDR slice
  return [slice]
}

export async function startFakeCamera(scenario: CameraScenario = {}): Promise<FakeCamera> {
  const requests: CameraRequest[] = []
  const interleavedFromClient: FakeCamera['interleavedFromClient'] = []
  const timers = new Set<NodeJS.Timeout>()
  const fps = scenario.fps ?? 30
  let setupIndex = 0
  const rtpChannels = new WeakMap<object, number>()
  const udpTargets = new WeakMap<object, { socket: dgram.Socket; port: number }>()
  const udpSockets: dgram.Socket[] = []
  const setupsOn = new WeakMap<object, number>()
  const accessUnit = scenario.accessUnit ?? cameraAccessUnit
  const server = await startFakeServer(
    (req, ctx) => {
    const r: CameraRequest = { method: req.method, url: req.url, headers: req.headers }
    requests.push(r)
    if (scenario.mangle !== undefined) {
      const mangle = scenario.mangle
      ctx = { ...ctx, reply: (status, headers, body) => ctx.write(mangle(formatResponse(status, req.cseq, headers, body).toString('latin1'))) }
    }
    if (scenario.intercept?.(r, ctx)) return
    const session = scenario.session ?? '12345678;timeout=60'
    switch (req.method) {
      case 'OPTIONS':
        ctx.reply(200, { Public: scenario.publicMethods ?? 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' })
        return
      case 'DESCRIBE': {
        const base = scenario.contentBase ? scenario.contentBase(req.url) : `${req.url}/`
        const headers: Record<string, string> = { 'Content-Type': 'application/sdp' }
        if (base !== null) headers['Content-Base'] = base
        ctx.reply(200, headers, (scenario.sdp ?? defaultSdp)(req.url))
        return
      }
      case 'SETUP': {
        const setupOnConnection = setupsOn.get(req.socket) ?? 0
        setupsOn.set(req.socket, setupOnConnection + 1)
        const carriesMedia = scenario.mediaSetup === undefined || scenario.mediaSetup === setupOnConnection
        const cp = /client_port=(\d+)-(\d+)/.exec(req.headers['transport'] ?? '')
        if (cp && !/TCP/i.test(req.headers['transport'] ?? '')) {
          // UDP: send from a socket of our own; its port pair is the server_port we announce.
          const rtp = dgram.createSocket('udp4')
          const rtcp = dgram.createSocket('udp4')
          udpSockets.push(rtp, rtcp)
          void Promise.all([
            new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r)),
            new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', r)),
          ]).then(() => {
            const clientPort: [number, number] = [Number(cp[1]), Number(cp[2])]
            const serverPort: [number, number] = [rtp.address().port, rtcp.address().port]
            if (carriesMedia) udpTargets.set(req.socket, { socket: rtp, port: clientPort[0] })
            const transport =
              scenario.setupTransport?.([0, 1], { clientPort, serverPort }) ??
              `RTP/AVP;unicast;client_port=${clientPort[0]}-${clientPort[1]};server_port=${serverPort[0]}-${serverPort[1]};ssrc=1A2B3C4D`
            ctx.reply(200, { Transport: transport, Session: session })
          })
          return
        }
        const m = /interleaved=(\d+)-(\d+)/.exec(req.headers['transport'] ?? '')
        const asked: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 1]
        const ch = scenario.channels ? scenario.channels(asked, setupIndex) : asked
        setupIndex++
        const transport = scenario.setupTransport?.(ch) ?? `RTP/AVP/TCP;unicast;interleaved=${ch[0]}-${ch[1]};ssrc=1A2B3C4D`
        ctx.reply(200, { Transport: transport, Session: session })
        if (carriesMedia) rtpChannels.set(req.socket, ch[0])
        return
      }
      case 'PLAY': {
        let replyAfter = scenario.mediaBeforePlayReply ?? 0
        const playReply = () => ctx.reply(200, { Session: session, Range: 'npt=0.000-', ...scenario.playHeaders?.(req.url) })
        if (replyAfter === 0) playReply()
        const channel = rtpChannels.get(req.socket) ?? 0
        const pk = new H264Packetizer({ payloadType: 96, ssrc: 0x1a2b3c4d, initialSequenceNumber: 65500 })
        let n = 0
        let framesSent = 0
        let udpIndex = 0
        let held: Buffer | undefined
        const timer = setInterval(() => {
          if (req.socket.destroyed) {
            clearInterval(timer)
            timers.delete(timer)
            return
          }
          if (scenario.mediaFilter && !scenario.mediaFilter(n)) {
            n++
            return
          }
          // Start near the 32-bit wrap so every test crosses it.
          const jump = scenario.timestampJump && n >= scenario.timestampJump.atFrame ? scenario.timestampJump.seconds * 90000 : 0
          const ts = (0xffff0000 + n * Math.round(90000 / fps) + jump) >>> 0
          const udp = udpTargets.get(req.socket)
          for (const pkt of pk.packetize({ data: accessUnit(n), rtpTimestamp: ts })) {
            if (udp !== undefined) {
              const verdict = scenario.udpFilter?.(udpIndex++, pkt) ?? true
              if (verdict === 'swap' && held === undefined) {
                held = pkt // goes out after the next one: a reordering network
                continue
              }
              if (verdict !== false) udp.socket.send(pkt, udp.port, '127.0.0.1')
              if (held !== undefined) {
                udp.socket.send(held, udp.port, '127.0.0.1')
                held = undefined
              }
              continue
            }
            const head = Buffer.from([0x24, channel, pkt.length >> 8, pkt.length & 0xff])
            ctx.write(Buffer.concat([head, pkt]))
            framesSent++
            if (scenario.garbageEvery && framesSent % scenario.garbageEvery.frames === 0) ctx.write(scenario.garbageEvery.bytes)
          }
          n++
          if (replyAfter > 0 && --replyAfter === 0) playReply()
        }, 1000 / fps)
        timers.add(timer)
        return
      }
      case 'GET_PARAMETER':
      case 'TEARDOWN':
        ctx.reply(200, { Session: session })
        return
      default:
        ctx.reply(501)
    }
    },
    { onInterleaved: (channel, payload) => interleavedFromClient.push({ channel, length: payload.length }) },
  )
  return {
    port: server.port,
    url: (p = '/stream') => server.url(p),
    requests,
    interleavedFromClient,
    get responses() {
      return server.responses
    },
    async stop() {
      for (const t of timers) clearInterval(t)
      timers.clear()
      for (const u of udpSockets) u.close()
      await server.stop()
    },
  }
}
