/**
 * Issue 11: cameras (Hikvision, Dahua, Reolink, …) write the first RTP packets (the key
 * frame) in the same TCP segment as the 200 OK to PLAY; over UDP the first packets can
 * arrive before the reply. A scripted camera does exactly that with a real 4 s H.264 clip
 * (100 pictures at 25 fps, a key frame every second): the PLAY reply and the first pictures
 * in ONE write (TCP), or the first pictures by UDP before the reply is written. Every
 * picture must reach frames() in order, starting with the key frame, and `rtspkit pull`
 * must say how many frames the file holds, which ffprobe counts.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { runCli } from '../helpers/cli.js'
import { formatResponse, interleavedFrame, startFakeServer } from '../helpers/fake-rtsp-server.js'
import type { FakeServer } from '../helpers/fake-rtsp-server.js'
import { makeFixtureClip } from '../helpers/media-fixture.js'
import type { FixtureClip } from '../helpers/media-fixture.js'
import { ffprobeFile } from '../helpers/media-check.js'
import { H264Packetizer } from '../../src/formats/h264/packetizer.js'
import { RtspClient } from '../../src/index.js'

const FPS = 25
/** Pictures written with the PLAY reply (TCP) or before it (UDP): the first GOP's start. */
const EARLY = 6

let clip: FixtureClip
let dir: string
before(async () => {
  clip = await makeFixtureClip({ seconds: 4, fps: FPS, gop: FPS, audio: false, size: '160x120' })
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-early-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** A camera that sends the whole clip once, at 25 fps, then stays silent (connection open). */
async function startEagerCamera(): Promise<FakeServer> {
  const sockets: dgram.Socket[] = []
  const timers = new Set<NodeJS.Timeout>()
  const udpTarget = new WeakMap<object, { socket: dgram.Socket; port: number }>()
  const channel = new WeakMap<object, number>()
  const sprop = `${clip.sps.toString('base64')},${clip.pps.toString('base64')}`
  const server = await startFakeServer((req, ctx) => {
    const session = 'EARLY1;timeout=60'
    switch (req.method) {
      case 'OPTIONS':
        return ctx.reply(200, { Public: 'OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER' })
      case 'DESCRIBE':
        return ctx.reply(200, { 'Content-Type': 'application/sdp', 'Content-Base': `${req.url}/` }, [
          'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=Eager camera', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
          `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sprop}`, 'a=control:trackID=1', '',
        ].join('\r\n'))
      case 'SETUP': {
        const transport = req.headers['transport'] ?? ''
        const cp = /client_port=(\d+)-(\d+)/.exec(transport)
        if (cp !== null && !/TCP/i.test(transport)) {
          const rtp = dgram.createSocket('udp4')
          sockets.push(rtp)
          rtp.bind(0, '127.0.0.1', () => {
            udpTarget.set(req.socket, { socket: rtp, port: Number(cp[1]) })
            const sp = rtp.address().port
            ctx.reply(200, { Transport: `RTP/AVP;unicast;client_port=${cp[1]}-${cp[2]};server_port=${sp}-${sp + 1}`, Session: session })
          })
          return
        }
        const m = /interleaved=(\d+)-(\d+)/.exec(transport)
        channel.set(req.socket, m ? Number(m[1]) : 0)
        return ctx.reply(200, { Transport: `RTP/AVP/TCP;unicast;interleaved=${m?.[1] ?? 0}-${m?.[2] ?? 1}`, Session: session })
      }
      case 'PLAY': {
        const pk = new H264Packetizer({ payloadType: 96, ssrc: 0x5eed, initialSequenceNumber: 65530 })
        const udp = udpTarget.get(req.socket)
        const ch = channel.get(req.socket) ?? 0
        // Start near the 32-bit wrap of the RTP clock.
        const packets = (n: number) => pk.packetize({ data: clip.videoFrames[n]!.data as Buffer[], rtpTimestamp: (0xfffe0000 + n * (90000 / FPS)) >>> 0 })
        const reply = formatResponse(200, req.cseq, { Session: session, Range: 'npt=0.000-', 'RTP-Info': `url=${req.url}/trackID=1;seq=65530;rtptime=${0xfffe0000}` })
        if (udp !== undefined) {
          // UDP: the first pictures go out before the reply is written.
          for (let n = 0; n < EARLY; n++) for (const p of packets(n)) udp.socket.send(p, udp.port, '127.0.0.1')
          setTimeout(() => ctx.write(reply), 20)
        } else {
          // TCP: the reply and the first pictures in one write, as one segment.
          const parts = [reply]
          for (let n = 0; n < EARLY; n++) for (const p of packets(n)) parts.push(interleavedFrame(ch, p))
          ctx.write(Buffer.concat(parts))
        }
        let n = EARLY
        const timer = setInterval(() => {
          if (n >= clip.videoFrames.length || req.socket.destroyed) {
            clearInterval(timer)
            timers.delete(timer)
            return
          }
          for (const p of packets(n)) {
            if (udp !== undefined) udp.socket.send(p, udp.port, '127.0.0.1')
            else ctx.write(interleavedFrame(ch, p))
          }
          n++
        }, 1000 / FPS)
        timers.add(timer)
        return
      }
      default:
        return ctx.reply(200, { Session: session })
    }
  })
  const stopServer = server.stop.bind(server)
  return Object.assign(server, {
    async stop() {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.close()
      await stopServer()
    },
  })
}

describe('media written with (or before) the PLAY reply is delivered', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    test(`library, ${transport}: every picture from the first key frame, in order`, async (t) => {
      const cam = await startEagerCamera()
      t.after(() => cam.stop())
      const session = await new RtspClient({ transport }).pull(cam.url())
      t.after(() => session.close())
      const pts: number[] = []
      let firstKey: boolean | undefined
      for await (const f of session.frames()) {
        firstKey ??= f.keyFrame
        pts.push(f.pts)
        if (pts.length === clip.videoFrames.length) break
      }
      assert.equal(firstKey, true)
      assert.equal(pts.length, clip.videoFrames.length)
      assert.equal(session.stats()[0]!.packetsLost, 0)
      for (let i = 1; i < pts.length; i++) assert.ok(Math.abs(pts[i]! - pts[i - 1]! - 1 / FPS) < 1e-6, `pts ${pts[i - 1]} → ${pts[i]}`)
      assert.ok(Math.abs(pts[0]!) < 1e-6, `first pts ${pts[0]} (RTP-Info rtptime is picture 0)`)
    })

    test(`rtspkit pull, ${transport}: the frame count printed is what the file holds`, async (t) => {
      const cam = await startEagerCamera()
      t.after(() => cam.stop())
      const out = join(dir, `early-${transport}.mp4`)
      // The camera sends its 100 pictures in 4 s, then nothing: an 8 s pull records them all.
      const r = await runCli(['pull', cam.url(), '-o', out, '--transport', transport, '--duration', '8'], { timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      const m = /recorded (\d+) frames/.exec(r.stderr)
      assert.ok(m, r.stderr)
      const p = await ffprobeFile(out)
      assert.equal(Number(p.streams[0]!.nb_read_packets), clip.videoFrames.length)
      assert.equal(Number(m[1]), clip.videoFrames.length)
    })
  }
})
