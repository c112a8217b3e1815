// Loss and reordering in front of a real GStreamer UDP stream. Between GStreamer's RTSP
// server and rtspkit sits a small proxy: RTSP passes through it with the SETUP Transport
// ports rewritten (client_port towards the server, server_port towards the client), so that
// RTP and RTCP flow through its UDP sockets, where it drops some RTP packets and swaps
// others with the next one. rtspkit must count exactly the dropped packets as lost, put
// the swapped ones back in order without counting a loss, drop only the pictures that lost
// a packet, and still write a recording that ffprobe reads and ffmpeg decodes with nothing
// worse than concealment of the missing pictures.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import net from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { RtspClient } from '../../src/index.js'
import { createRecorder } from '../../src/output/recorder.js'
import type { RecorderTrack } from '../../src/output/index.js'

/** Drop RTP packet n (0-based, per track) when n % DROP_EVERY === DROP_EVERY - 1. */
const DROP_EVERY = 53
/** Swap RTP packet n with n + 1 when n % SWAP_EVERY === 7. */
const SWAP_EVERY = 31
const RECORD_S = 6

interface RelayStats {
  forwarded: number
  dropped: number
  swapped: number
  /** Sequence numbers dropped and forwarded (to leave out what came after the last packet the client took). */
  droppedSeqs: number[]
  forwardedSeqs: number[]
}

interface LossyProxy {
  port: number
  stats: RelayStats[]
  stop(): Promise<void>
}

function bindUdp(): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4')
    s.once('error', reject)
    s.bind(0, '127.0.0.1', () => {
      s.off('error', reject)
      resolve(s)
    })
  })
}

/** Split an RTSP byte stream into whole messages (head + Content-Length body). */
function messageSplitter(onMessage: (head: string, body: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0)
  return (chunk) => {
    buf = Buffer.concat([buf, chunk])
    for (;;) {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = buf.subarray(0, end).toString('latin1')
      const len = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0)
      if (buf.length < end + 4 + len) return
      const body = buf.subarray(end + 4, end + 4 + len)
      buf = buf.subarray(end + 4 + len)
      onMessage(head, body)
    }
  }
}

function ports(transport: string, name: string): [number, number] | undefined {
  const m = new RegExp(`${name}=(\\d+)-(\\d+)`).exec(transport)
  return m ? [Number(m[1]), Number(m[2])] : undefined
}

/**
 * An RTSP proxy on 127.0.0.1 for one client connection to `upstreamPort`, relaying each UDP
 * track through sockets of its own with the given loss and reorder pattern on RTP.
 */
async function startLossyProxy(upstreamPort: number): Promise<LossyProxy> {
  const sockets: dgram.Socket[] = []
  const conns = new Set<net.Socket>()
  const stats: RelayStats[] = []

  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1')
    conns.add(client).add(upstream)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    /** Per request in flight, in order: what to do with its reply. */
    const pending: Array<((head: string) => string) | undefined> = []

    client.on(
      'data',
      messageSplitter((head, body) => {
        const method = head.slice(0, head.indexOf(' '))
        const transport = /^transport:\s*(.*)$/im.exec(head)?.[1]
        const clientPorts = transport !== undefined ? ports(transport, 'client_port') : undefined
        if (method !== 'SETUP' || clientPorts === undefined) {
          pending.push(undefined)
          upstream.write(Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]))
          return
        }
        // Hold the request until the relay's sockets are bound; later requests queue behind it.
        client.pause()
        void Promise.all([bindUdp(), bindUdp(), bindUdp(), bindUdp()]).then(([toServerRtp, toServerRtcp, toClientRtp, toClientRtcp]) => {
          sockets.push(toServerRtp, toServerRtcp, toClientRtp, toClientRtcp)
          const st: RelayStats = { forwarded: 0, dropped: 0, swapped: 0, droppedSeqs: [], forwardedSeqs: [] }
          stats.push(st)
          let serverPorts: [number, number] | undefined
          let n = 0
          let held: Buffer | undefined
          toServerRtp.on('message', (msg) => {
            const i = n++
            if (i % DROP_EVERY === DROP_EVERY - 1) {
              st.dropped++
              st.droppedSeqs.push(msg.readUInt16BE(2))
              return
            }
            if (i % SWAP_EVERY === 7 && held === undefined) {
              held = msg // goes out after the next packet
              st.swapped++
              return
            }
            const forward = (m: Buffer): void => {
              toClientRtp.send(m, clientPorts[0], '127.0.0.1')
              st.forwarded++
              st.forwardedSeqs.push(m.readUInt16BE(2))
            }
            forward(msg)
            if (held !== undefined) {
              forward(held)
              held = undefined
            }
          })
          toServerRtcp.on('message', (msg) => toClientRtcp.send(msg, clientPorts[1], '127.0.0.1'))
          // The client's NAT punches and receiver reports go on to the server.
          toClientRtp.on('message', (msg) => serverPorts && toServerRtp.send(msg, serverPorts[0], '127.0.0.1'))
          toClientRtcp.on('message', (msg) => serverPorts && toServerRtcp.send(msg, serverPorts[1], '127.0.0.1'))

          const relayClientPorts = `client_port=${toServerRtp.address().port}-${toServerRtcp.address().port}`
          pending.push((replyHead) =>
            replyHead.replace(/^(transport:\s*)(.*)$/im, (_all, name: string, value: string) => {
              serverPorts = ports(value, 'server_port')
              return (
                name +
                value
                  .replace(/client_port=\d+-\d+/, `client_port=${clientPorts[0]}-${clientPorts[1]}`)
                  .replace(/server_port=\d+-\d+/, `server_port=${toClientRtp.address().port}-${toClientRtcp.address().port}`)
              )
            }),
          )
          const rewritten = head.replace(/client_port=\d+-\d+/, relayClientPorts)
          upstream.write(Buffer.concat([Buffer.from(`${rewritten}\r\n\r\n`, 'latin1'), body]))
          client.resume()
        })
      }),
    )
    upstream.on(
      'data',
      messageSplitter((head, body) => {
        const rewrite = head.startsWith('RTSP/') ? pending.shift() : undefined
        client.write(Buffer.concat([Buffer.from(`${rewrite ? rewrite(head) : head}\r\n\r\n`, 'latin1'), body]))
      }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address')
  return {
    port: address.port,
    stats,
    async stop() {
      for (const c of conns) c.destroy()
      for (const s of sockets) s.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * What ffmpeg's H.264 decoder says when it conceals pictures that are missing (their slices
 * were dropped with a lost packet) or that refer to missing ones. Anything else is a failure.
 */
const CONCEALMENT = [
  /error while decoding MB/,
  /concealing \d+ DC, \d+ AC, \d+ MV errors/,
  /Reference \d+ >= \d+/,
  /reference picture missing during reorder/,
  /Missing reference picture/,
  /co located POCs unavailable/,
  /mmco: unref short failure/,
  /number of reference frames .* exceeds max/,
  /left block unavailable/,
  /top block unavailable/,
  /out of range intra chroma pred mode/,
  /corrupted macroblock/,
]

let dir: string
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-udp-loss-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('UDP loss and reorder between GStreamer and rtspkit', { timeout: 120_000 }, () => {
  it('counts the dropped packets as lost, reorders the swapped ones, and records a decodable MP4', async (t) => {
    const gst = await startGstServer({ protocols: 'udp' })
    t.after(() => gst.stop())
    const proxy = await startLossyProxy(gst.port)
    t.after(() => proxy.stop())

    const url = gst.url('/h264').replace(`:${gst.port}/`, `:${proxy.port}/`)
    const session = await new RtspClient({ transport: 'udp' }).pull(url, { timeoutMs: 20_000 })
    t.after(() => session.close())
    assert.equal(session.tracks[0]!.transport.protocol, 'udp')

    const file = path.join(dir, 'lossy.mp4')
    const recorder = await createRecorder({ format: 'mp4', tracks: session.tracks.map((tr): RecorderTrack => ({ type: 'video', codec: tr.codec, clockRate: tr.clockRate, details: tr.details })), sink: file })
    const stop = setTimeout(() => void session.close(), RECORD_S * 1000)
    t.after(() => clearTimeout(stop))
    let lastSeq = -1
    session.on('rtp', (_track, p) => {
      lastSeq = p.sequenceNumber
    })
    let frames = 0
    for await (const f of session.frames()) {
      frames++
      await recorder.write({ trackIndex: f.track.index, pts: f.pts, keyFrame: f.keyFrame, data: f.data })
    }
    await recorder.finalize()

    const relay = proxy.stats[0]!
    const stats = session.stats()[0]!
    // Packets dropped after the last one the client took cannot be known as lost yet.
    const seqDiff = (a: number, b: number) => ((a - b + 0x8000) & 0xffff) - 0x8000
    const droppedBefore = relay.droppedSeqs.filter((s) => seqDiff(s, lastSeq) < 0).length
    const forwardedBefore = relay.forwardedSeqs.filter((s) => seqDiff(s, lastSeq) <= 0).length
    const detail = `relay ${JSON.stringify({ ...relay, droppedSeqs: undefined, forwardedSeqs: undefined, droppedBefore, forwardedBefore })}, client ${JSON.stringify(stats)}, frames ${frames}`
    assert.ok(relay.dropped >= 5 && relay.swapped >= 5, detail)
    // Loopback loses nothing by itself: lost = dropped (a little slack for a busy machine).
    assert.ok(stats.packetsLost >= droppedBefore && stats.packetsLost <= droppedBefore + 3, detail)
    // The swapped packets were put back in order: every received packet was used.
    assert.ok(stats.packetsReceived >= forwardedBefore - 3, detail)
    // Only what lost a packet is dropped, and each loss at most once (a loss inside an FU-A
    // is counted at the reset, not again for the fragments that follow without a start).
    assert.ok(stats.framesDropped >= 1 && stats.framesDropped <= relay.dropped, detail)
    assert.ok(frames >= RECORD_S * 30 * 0.5, detail)

    const probe = await ffprobeFile(file)
    const video = probe.streams.find((s) => s.codec_type === 'video')
    assert.equal(video?.codec_name, 'h264')
    assert.ok(Number(video?.nb_read_packets ?? 0) >= frames * 0.8 - 30, `${video?.nb_read_packets} packets in the file, ${detail}`)
    const errors = (await decodeErrors(file))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !CONCEALMENT.some((re) => re.test(l)))
    assert.deepEqual(errors, [], 'ffmpeg reported more than concealment')
  })
})
