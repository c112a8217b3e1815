/**
 * A bare RTSP client over one TCP socket, for driving a server request by request: any
 * method, any headers (or none), raw bytes, and the `$` interleaved frames it sends back,
 * each tagged with how many replies had arrived before it (so a test can tell what came
 * after a PAUSE or PLAY reply).
 *
 * It has its own small reader (independent of src/rtsp on purpose: a test double must not
 * share the bugs of the code under test). It expects a well-behaved server: replies and
 * `$` frames only.
 *
 *   const c = await RawRtspClient.connect(port)
 *   const res = await c.request('OPTIONS', '*')
 *   assert.equal(res.status, 200)
 *   c.destroy()
 */
import * as net from 'node:net'

export interface RawResponse {
  status: number
  reason: string
  /** Header names lower-cased; repeated headers keep every value in `all`. */
  headers: Record<string, string>
  all: Record<string, string[]>
  body: Buffer
}

export interface RawFrame {
  channel: number
  payload: Buffer
  /** Replies received before this frame. */
  afterReplies: number
}

export class RawRtspClient {
  readonly replies: RawResponse[] = []
  readonly frames: RawFrame[] = []
  /** Resolves when the server closes the connection (or it is destroyed here). */
  readonly closed: Promise<void>
  isClosed = false
  onFrame: ((frame: RawFrame) => void) | undefined
  private buf: Buffer = Buffer.alloc(0)
  private cseq = 0
  private readonly waiting: Array<(res: RawResponse) => void> = []
  private resolveClosed!: () => void

  private constructor(readonly socket: net.Socket) {
    this.closed = new Promise((r) => {
      this.resolveClosed = r
    })
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => {})
    socket.on('close', () => {
      this.isClosed = true
      this.resolveClosed()
    })
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawRtspClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host)
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new RawRtspClient(socket))
      })
    })
  }

  /** Send a request (CSeq added unless given; `CSeq: ''` leaves it out) and wait for the next reply. */
  request(method: string, url: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
    const h: Record<string, string> = { CSeq: String(++this.cseq), ...headers }
    if (h.CSeq === '') delete h.CSeq
    const b = body === undefined ? undefined : Buffer.from(body)
    if (b !== undefined) h['Content-Length'] = String(b.length)
    let head = `${method} ${url} RTSP/1.0\r\n`
    for (const [k, v] of Object.entries(h)) head += `${k}: ${v}\r\n`
    head += '\r\n'
    const reply = this.nextReply()
    this.socket.write(b === undefined ? head : Buffer.concat([Buffer.from(head), b]))
    return reply
  }

  /** The next reply to arrive; rejects if the connection closes first. */
  nextReply(): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('connection closed before the reply'))
      this.waiting.push(resolve)
      void this.closed.then(() => {
        const i = this.waiting.indexOf(resolve)
        if (i >= 0) {
          this.waiting.splice(i, 1)
          reject(new Error('connection closed before the reply'))
        }
      })
    })
  }

  /** Write bytes as they are; false when the socket is gone or its buffer is full. */
  write(data: string | Buffer): boolean {
    if (this.socket.destroyed) return false
    return this.socket.write(data)
  }

  /** Frames on `channel` that arrived after `replies` replies. */
  framesAfter(replies: number, channel?: number): RawFrame[] {
    return this.frames.filter((f) => f.afterReplies >= replies && (channel === undefined || f.channel === channel))
  }

  destroy(): void {
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    for (;;) {
      if (this.buf.length === 0) return
      if (this.buf[0] === 0x24) {
        if (this.buf.length < 4) return
        const size = this.buf.readUInt16BE(2)
        if (this.buf.length < 4 + size) return
        const frame: RawFrame = { channel: this.buf[1]!, payload: Buffer.from(this.buf.subarray(4, 4 + size)), afterReplies: this.replies.length }
        this.buf = this.buf.subarray(4 + size)
        this.frames.push(frame)
        this.onFrame?.(frame)
        continue
      }
      const end = this.buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n')
      const m = /^RTSP\/1\.0 (\d{3}) ?(.*)$/.exec(lines[0]!)
      if (m === null) throw new Error(`raw client: unexpected bytes from the server: ${JSON.stringify(lines[0]!.slice(0, 80))}`)
      const headers: Record<string, string> = {}
      const all: Record<string, string[]> = {}
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':')
        if (colon <= 0) continue
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        ;(all[name] ??= []).push(value)
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
      }
      const length = Number(headers['content-length'] ?? 0)
      if (this.buf.length < end + 4 + length) return
      const body = Buffer.from(this.buf.subarray(end + 4, end + 4 + length))
      this.buf = this.buf.subarray(end + 4 + length)
      const res: RawResponse = { status: Number(m[1]), reason: m[2]!, headers, all, body }
      this.replies.push(res)
      this.waiting.shift()?.(res)
    }
  }
}
