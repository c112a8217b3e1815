// @bench-lib (a helper process for bench/serve.ts, not a benchmark: scripts/bench.sh skips it)
/**
 * The least a Node.js RTSP server can spend on bench/serve.ts's fan-out, for BENCH_FLOOR=1:
 * no file, no demuxer, no packetizer, no session state. It answers bench/serve-readers.ts's
 * OPTIONS, DESCRIBE, SETUP and PLAY with fixed replies, then every 40 ms (one timer for all)
 * makes one `socket.write` per playing reader of one prebuilt access unit: `$`-framed
 * packets of at most 1 400 RTP bytes (RFC 2326 §10.12), as many bytes per second as the
 * clip's bit rate. What rtspkit's server spends above this is its own work per frame (pacing,
 * packetizing, fan-out); what this spends is Node's event loop and socket writes, and the
 * kernel's TCP work per write, which a server that writes once per frame per reader pays
 * whatever it is written in.
 *
 *   node --import tsx bench/serve-floor.ts MBIT_PER_S [FRAMES_PER_WRITE]
 *
 * FRAMES_PER_WRITE = k > 1 (bench/serve.ts BENCH_FLOOR_BATCH): every k × 40 ms one write of k
 * access units per reader instead of k writes, the same bytes in k times fewer system calls,
 * at the price of (k − 1) × 40 ms more latency for the first frame of each write. It tells
 * how much of the kernel's cost is per call and how much per byte.
 *
 * Prints `listening on rtsp://127.0.0.1:<port>`; runs until SIGTERM/SIGINT or stdin closes.
 */
import * as net from 'node:net'

const FPS = 25
const MTU = 1400
const mbps = Number(process.argv[2] ?? 2)
const framesPerWrite = Number(process.argv[3] ?? 1)
if (!(mbps > 0) || !Number.isInteger(framesPerWrite) || framesPerWrite < 1) throw new Error('usage: serve-floor.ts MBIT_PER_S [FRAMES_PER_WRITE]')

/** One access unit of the clip's mean size, packetized and framed once. */
function accessUnit(bytes: number): Buffer {
  const packets = Math.ceil(bytes / MTU)
  const out = Buffer.alloc(bytes + 4 * packets)
  let o = 0
  for (let left = bytes, seq = 0; left > 0; seq++) {
    const len = Math.min(MTU, left)
    out[o] = 0x24
    out[o + 1] = 0
    out.writeUInt16BE(len, o + 2)
    // RTP version 2, PT 96, the marker on the last packet (RFC 3550 §5.1).
    out[o + 4] = 0x80
    out[o + 5] = 96 | (left === len ? 0x80 : 0)
    out.writeUInt16BE(seq, o + 6)
    o += 4 + len
    left -= len
  }
  return out
}

const one = accessUnit(Math.round((mbps * 1e6) / 8 / FPS))
const unit = framesPerWrite === 1 ? one : Buffer.concat(new Array<Buffer>(framesPerWrite).fill(one))
const playing = new Set<net.Socket>()
const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=floor\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n'

function reply(socket: net.Socket, head: string): void {
  const lines = head.split('\r\n')
  const [method, url] = (lines[0] ?? '').split(' ')
  const cseq = lines.find((l) => /^cseq:/i.test(l))?.slice(5).trim() ?? '0'
  const extra: string[] = []
  let body = ''
  if (method === 'OPTIONS') extra.push('Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN')
  else if (method === 'DESCRIBE') {
    body = SDP
    extra.push(`Content-Base: ${url}/`, 'Content-Type: application/sdp')
  } else if (method === 'SETUP') {
    extra.push('Session: 1', `Transport: ${lines.find((l) => /^transport:/i.test(l))?.slice(10).trim() ?? ''}`)
  } else if (method === 'PLAY') extra.push('Session: 1')
  socket.write(`RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\n${extra.map((e) => `${e}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  if (method === 'PLAY') playing.add(socket)
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  let pending = ''
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1')
    for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
      reply(socket, pending.slice(0, end))
      pending = pending.slice(end + 4)
    }
  })
  socket.on('error', () => {})
  socket.on('close', () => playing.delete(socket))
})

setInterval(() => {
  for (const s of playing) s.write(unit)
}, (1000 * framesPerWrite) / FPS)

server.listen(0, '127.0.0.1', () => {
  console.log(`listening on rtsp://127.0.0.1:${(server.address() as net.AddressInfo).port}`)
})
const stop = (): never => process.exit(0)
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
