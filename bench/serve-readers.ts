// @bench-lib (a helper process for bench/serve.ts, not a benchmark: scripts/bench.sh skips it)
/**
 * N lightweight RTSP readers in one process, so that a server's CPU can be measured
 * without theirs. Each reader opens its own TCP connection and, by hand, sends OPTIONS,
 * DESCRIBE, one SETUP per track (RTP/AVP/TCP interleaved, RFC 2326 §10.12, or with `udp`
 * RTP/AVP over UDP to a port pair of its own, RFC 2326 §12.39) and PLAY without a Range
 * (a shared GStreamer mount would otherwise seek for every reader). After the PLAY reply it
 * only counts the bytes it receives (interleaved frames, or RTP datagrams) and drops them.
 *
 *   node --import tsx bench/serve-readers.ts URL N [tcp|udp]
 *   node --import tsx bench/serve-readers.ts ws://HOST:PORT/PATH/ws N ws
 *
 * With `ws` each viewer is what a browser's MSE player asks of rtspkit's HTTP side: one
 * WebSocket to /<path>/ws that receives the init segment and a moof/mdat per frame; it
 * counts the bytes of each binary message and drops them.
 *
 * stdout, one JSON line each:
 *   {"ready":N,"failed":["reader 3: ..."]}   once every reader is playing (or failed)
 *   {"t":ms,"bytes":[...],"closed":k}        for every `sample` line read on stdin
 * Exits when stdin closes or on SIGTERM.
 */
import * as dgram from 'node:dgram'
import * as net from 'node:net'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'

const HEADER_END = Buffer.from('\r\n\r\n')
const CONNECT_TIMEOUT_MS = 30_000

interface Response {
  status: number
  headers: Map<string, string>
  body: string
}

class Reader {
  bytes = 0
  closed = false
  private playing = false
  /** The next reply is PLAY's: everything after it is media. */
  private playNext = false
  private pending: Buffer = Buffer.alloc(0)
  private waiter: ((r: Response) => void) | undefined
  private failer: ((e: Error) => void) | undefined
  private cseq = 0
  private readonly socket: net.Socket
  /** UDP: an RTP and RTCP socket per track. */
  private readonly udp: dgram.Socket[] = []

  constructor(
    private readonly url: URL,
    readonly index: number,
    private readonly transport: 'tcp' | 'udp',
  ) {
    this.socket = net.connect({ host: url.hostname, port: Number(url.port || 554) })
    this.socket.setNoDelay(true)
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk))
    this.socket.on('error', (e) => this.fail(e))
    this.socket.on('close', () => {
      this.closed = true
      this.fail(new Error('connection closed'))
    })
  }

  private fail(e: Error): void {
    const f = this.failer
    this.waiter = this.failer = undefined
    f?.(e)
  }

  private onData(chunk: Buffer): void {
    if (this.playing) {
      this.bytes += chunk.length
      return
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    // Interleaved frames sent before the PLAY reply count as media.
    while (this.pending.length >= 4 && this.pending[0] === 0x24) {
      const len = 4 + this.pending.readUInt16BE(2)
      if (this.pending.length < len) return
      this.bytes += len
      this.pending = this.pending.subarray(len)
    }
    const end = this.pending.indexOf(HEADER_END)
    if (end < 0) return
    const lines = this.pending.subarray(0, end).toString('latin1').split('\r\n')
    const headers = new Map<string, string>()
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    const length = Number(headers.get('content-length') ?? 0)
    const total = end + 4 + length
    if (this.pending.length < total) return
    const status = Number(/^RTSP\/1\.0 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0)
    const body = this.pending.subarray(end + 4, total).toString('utf8')
    const rest = this.pending.subarray(total)
    this.pending = Buffer.alloc(0)
    if (this.playNext) this.playing = true
    const w = this.waiter
    this.waiter = this.failer = undefined
    w?.({ status, headers, body })
    if (this.playing) this.bytes += rest.length
    else if (rest.length > 0) this.onData(rest)
  }

  private request(method: string, url: string, extra: Record<string, string> = {}): Promise<Response> {
    return new Promise((resolve, reject) => {
      this.waiter = resolve
      this.failer = reject
      const lines = [`${method} ${url} RTSP/1.0`, `CSeq: ${++this.cseq}`, 'User-Agent: rtspkit-bench-reader']
      for (const [k, v] of Object.entries(extra)) lines.push(`${k}: ${v}`)
      this.socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    })
  }

  private async ok(method: string, url: string, extra: Record<string, string> = {}): Promise<Response> {
    const r = await this.request(method, url, extra)
    if (r.status !== 200) throw new Error(`${method} answered ${r.status}`)
    return r
  }

  async play(): Promise<void> {
    const url = this.url.href
    await this.ok('OPTIONS', url)
    const described = await this.ok('DESCRIBE', url, { Accept: 'application/sdp' })
    const base = described.headers.get('content-base') ?? url
    const controls = mediaControls(described.body)
    if (controls.length === 0) throw new Error('DESCRIBE gave no media')
    let session: string | undefined
    for (let i = 0; i < controls.length; i++) {
      let transport = `RTP/AVP/TCP;unicast;interleaved=${2 * i}-${2 * i + 1}`
      if (this.transport === 'udp') {
        const [rtp, rtcp] = await bindPair()
        this.udp.push(rtp, rtcp)
        rtp.on('message', (m) => {
          this.bytes += m.length
        })
        transport = `RTP/AVP;unicast;client_port=${rtp.address().port}-${rtcp.address().port}`
      }
      const r = await this.ok('SETUP', resolveControl(base, controls[i]!), {
        Transport: transport,
        ...(session !== undefined ? { Session: session } : {}),
      })
      session ??= r.headers.get('session')?.split(';')[0]
      if (session === undefined) throw new Error('SETUP reply has no Session')
    }
    this.playNext = true
    const r = await this.request('PLAY', base, { Session: session! })
    if (r.status !== 200) throw new Error(`PLAY answered ${r.status}`)
  }

  close(): void {
    this.socket.destroy()
    for (const u of this.udp) u.close()
  }
}

/** An MSE viewer over WebSocket (rtspkit's /<path>/ws): JSON control messages, binary fMP4. */
class WsViewer {
  bytes = 0
  closed = false
  private readonly ws: WebSocket

  constructor(url: URL) {
    this.ws = new WebSocket(url)
    this.ws.on('close', () => {
      this.closed = true
    })
    this.ws.on('error', () => {})
  }

  play(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.on('message', (data: Buffer, binary: boolean) => {
        if (!binary) return
        this.bytes += data.length
        resolve()
      })
      this.ws.once('close', () => reject(new Error('WebSocket closed before media')))
      this.ws.once('error', reject)
    })
  }

  close(): void {
    this.ws.terminate()
  }
}

/** Two UDP sockets on an even port and the next one (RFC 3550 §11), with large receive buffers. */
async function bindPair(): Promise<[dgram.Socket, dgram.Socket]> {
  const bind = (port: number): Promise<dgram.Socket | undefined> =>
    new Promise((resolve) => {
      const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 })
      s.once('error', () => {
        s.close()
        resolve(undefined)
      })
      s.bind(port, '127.0.0.1', () => resolve(s))
    })
  for (let attempt = 0; attempt < 100; attempt++) {
    const rtp = await bind(0)
    if (rtp === undefined) continue
    const port = rtp.address().port
    if (port % 2 !== 0 || port === 65535) {
      rtp.close()
      continue
    }
    const rtcp = await bind(port + 1)
    if (rtcp !== undefined) return [rtp, rtcp]
    rtp.close()
  }
  throw new Error('no free UDP port pair')
}

/** a=control of each m= section (RFC 4566 §5.14, RFC 2326 appendix C.1.1). */
function mediaControls(sdp: string): string[] {
  const out: string[] = []
  let inMedia = false
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      inMedia = true
      out.push('*')
    } else if (inMedia && line.startsWith('a=control:')) {
      out[out.length - 1] = line.slice('a=control:'.length).trim()
    }
  }
  return out
}

function resolveControl(base: string, control: string): string {
  if (control === '*') return base
  if (/^rtsp:\/\//i.test(control)) return control
  return base.endsWith('/') ? base + control : `${base}/${control}`
}

async function main(): Promise<void> {
  const [urlArg, nArg, transportArg = 'tcp'] = process.argv.slice(2)
  const n = Number(nArg)
  if (urlArg === undefined || !Number.isInteger(n) || n < 1 || (transportArg !== 'tcp' && transportArg !== 'udp' && transportArg !== 'ws')) {
    process.stderr.write('usage: serve-readers.ts URL N [tcp|udp|ws]\n')
    process.exit(2)
  }
  const url = new URL(urlArg)
  const readers: Array<Reader | WsViewer> = []
  const failed: string[] = []
  // Connect in groups of 20 so that a server's accept queue is not the thing measured.
  for (let i = 0; i < n; i += 20) {
    const group: Promise<void>[] = []
    for (let j = i; j < Math.min(n, i + 20); j++) {
      const r = transportArg === 'ws' ? new WsViewer(url) : new Reader(url, j, transportArg)
      readers.push(r)
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`not playing after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS)
      })
      group.push(
        Promise.race([r.play(), timeout])
          .catch((e: Error) => {
            failed.push(`reader ${j}: ${e.message}`)
          })
          .finally(() => clearTimeout(timer)),
      )
    }
    await Promise.all(group)
  }
  process.stdout.write(`${JSON.stringify({ ready: n - failed.length, failed })}\n`)

  const stop = (): void => {
    for (const r of readers) r.close()
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    if (line.trim() !== 'sample') return
    const bytes = readers.map((r) => r.bytes)
    const closed = readers.filter((r) => r.closed).length
    process.stdout.write(`${JSON.stringify({ t: performance.now(), bytes, closed })}\n`)
  })
  lines.on('close', stop)
}

await main()
