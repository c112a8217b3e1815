// A scripted camera with any number of tracks of any codec, interleaved on the RTSP
// connection, for session behaviour a real peer will not produce on demand: one medium sent
// late against the other (encoder delay), RTCP sender reports or none, parameter sets that
// change mid-stream. No RTP-Info in the PLAY reply (many cameras send none).
//
//   const cam = await startScriptedCamera([{ media: ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000'], clockRate: 90000, rate: 30, packetize }])
//   t.after(() => cam.stop())
import { buildSenderReport, ntpFromDate } from '../../src/rtcp/packets.js'
import { interleavedFrame, startFakeServer } from './fake-rtsp-server.js'

export interface ScriptedTrack {
  /** SDP media section without a=control (m=, a=rtpmap, a=fmtp). */
  media: string[]
  clockRate: number
  /** Access units per second. */
  rate: number
  /** Whole RTP packets of unit n, captured at RTP time `rtpTimestamp`. */
  packetize(n: number, rtpTimestamp: number): Buffer[]
  /** RTP time of the capture instant of unit 0 (the PLAY instant). Default 0xfffff000: the test crosses the wrap. */
  firstTimestamp?: number
  /** Unit n goes out this long after its capture (an encoder that delays this medium). Default 0. */
  delayMs?: number
  /** Send RTCP sender reports (RFC 3550 §6.4.1) with the true NTP ↔ RTP mapping, every 200 ms once media flows. */
  senderReports?: boolean
  ssrc?: number
}

export interface ScriptedCamera {
  url(path?: string): string
  /** Sender reports sent, per track. */
  readonly reportsSent: number[]
  stop(): Promise<void>
}

export async function startScriptedCamera(tracks: readonly ScriptedTrack[]): Promise<ScriptedCamera> {
  const timers = new Set<NodeJS.Timeout>()
  const reportsSent = tracks.map(() => 0)
  const channels = new Map<object, number[]>()
  const sdp = (): string =>
    [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=Scripted camera',
      't=0 0',
      ...tracks.flatMap((t, i) => [...t.media, `a=control:track${i}`]),
      '',
    ].join('\r\n')

  const server = await startFakeServer((req, ctx) => {
    const session = '5EC0ND5;timeout=60'
    switch (req.method) {
      case 'OPTIONS':
        ctx.reply(200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' })
        return
      case 'DESCRIBE':
        ctx.reply(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${req.url}/` }, sdp())
        return
      case 'SETUP': {
        const index = Number(/track(\d+)$/.exec(req.url)?.[1] ?? -1)
        const m = /interleaved=(\d+)-(\d+)/.exec(req.headers['transport'] ?? '')
        if (index < 0 || index >= tracks.length || !m) {
          ctx.reply(461)
          return
        }
        const list = channels.get(req.socket) ?? []
        list[index] = Number(m[1])
        channels.set(req.socket, list)
        ctx.reply(200, { Transport: `RTP/AVP/TCP;unicast;interleaved=${m[1]}-${m[2]}`, Session: session })
        return
      }
      case 'PLAY': {
        // No RTP-Info: the client has only arrival times and sender reports to align tracks.
        ctx.reply(200, { Session: session, Range: 'npt=0.000-' })
        const t0 = Date.now()
        const next = tracks.map(() => 0)
        const list = channels.get(req.socket) ?? []
        let lastReport = 0
        const timer = setInterval(() => {
          if (req.socket.destroyed) {
            clearInterval(timer)
            timers.delete(timer)
            return
          }
          const now = Date.now()
          tracks.forEach((t, i) => {
            const ch = list[i]
            if (ch === undefined) return
            const first = t.firstTimestamp ?? 0xfffff000
            // Every unit whose capture instant + delay has passed.
            while (t0 + (next[i]! * 1000) / t.rate + (t.delayMs ?? 0) <= now) {
              const n = next[i]!++
              const ts = (first + Math.round((n * t.clockRate) / t.rate)) >>> 0
              for (const pkt of t.packetize(n, ts)) ctx.write(interleavedFrame(ch, pkt))
            }
          })
          if (now - lastReport >= 200) {
            lastReport = now
            tracks.forEach((t, i) => {
              const ch = list[i]
              if (ch === undefined || !t.senderReports || next[i] === 0) return
              // The RTP time of this wall-clock instant on the track's capture clock.
              const rtp = ((t.firstTimestamp ?? 0xfffff000) + Math.round(((now - t0) * t.clockRate) / 1000)) >>> 0
              const sr = buildSenderReport({ ssrc: t.ssrc ?? 0x5c000000 + i, ntp: ntpFromDate(now), rtpTimestamp: rtp, packetCount: 0, octetCount: 0, cname: 'scripted' })
              ctx.write(interleavedFrame(ch + 1, sr))
              reportsSent[i]!++
            })
          }
        }, 10)
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
  })
  return {
    url: (p = '/stream') => server.url(p),
    reportsSent,
    async stop() {
      for (const t of timers) clearInterval(t)
      timers.clear()
      await server.stop()
    },
  }
}
