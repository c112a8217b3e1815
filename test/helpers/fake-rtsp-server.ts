/**
 * A scriptable RTSP server for the faults a real peer won't produce: wrong CSeq, replies
 * split at odd places, garbage between interleaved frames, silence, resets.
 *
 * It has its own small request reader (independent of src/rtsp on purpose: a test double
 * must not share the bugs of the code under test). Requests on one connection reach the
 * handler one at a time, in order; interleaved frames the client sends ('$' ch len16
 * payload, e.g. RTCP receiver reports) are skipped and counted.
 *
 *   const server = await startFakeServer((req, ctx) => {
 *     if (req.method === 'OPTIONS') ctx.reply(200, { Public: 'OPTIONS, DESCRIBE' })
 *     else ctx.reply(404)
 *   })
 *   t.after(() => server.stop())
 */
import * as net from 'node:net'

export interface FakeRequest {
  method: string
  url: string
  /** Header names lower-cased; a repeated header's values joined with ', '. */
  headers: Record<string, string>
  /** The CSeq header ('' when absent). */
  cseq: string
  body: Buffer
  /** The request text as received (head and body). */
  raw: string
  socket: net.Socket
  /** 0-based index of this connection on the server. */
  connection: number
}

export interface FakeContext {
  /**
   * Send `RTSP/1.0 status reason` with `CSeq` echoed first, then `headers`, then
   * Content-Length and the body. A `CSeq` key in headers replaces the echo; `CSeq: ''`
   * leaves CSeq out.
   */
  reply(status: number, headers?: Record<string, string>, body?: string | Buffer): void
  /**
   * Write raw bytes (a hand-made reply, interleaved frames, garbage). Returns false when
   * the socket's buffer is full (wait for `req.socket`'s 'drain') or it is closed.
   */
  write(raw: string | Buffer): boolean
  /** Half-close (FIN) after what was written. */
  close(): void
  /** Drop the connection at once. */
  destroy(): void
}

export type FakeHandler = (req: FakeRequest, ctx: FakeContext) => void | Promise<void>

export interface FakeServerOptions {
  /** Called for each accepted socket before any request (e.g. to greet with garbage). */
  onConnection?: (socket: net.Socket, ctx: FakeContext) => void
  /** Called for each interleaved frame the client sends. */
  onInterleaved?: (channel: number, payload: Buffer, socket: net.Socket) => void
  /** Largest request head accepted before the connection is dropped; default 64 KiB. */
  maxHeadBytes?: number
}

export interface FakeServer {
  port: number
  /** rtsp://127.0.0.1:PORT/path (default path '/stream'). */
  url(path?: string): string
  /** Connections accepted so far. */
  readonly connections: number
  /** Every request received, in order, across connections. */
  readonly requests: readonly FakeRequest[]
  /** Interleaved frames received from clients. */
  readonly interleavedFrames: number
  /** Heads of the responses clients sent to requests the server made. */
  readonly responses: readonly string[]
  /** Close the listener and destroy every open connection. */
  stop(): Promise<void>
}

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  457: 'Invalid Range',
  459: 'Aggregate Operation Not Allowed',
  460: 'Only Aggregate Operation Allowed',
  461: 'Unsupported Transport',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'RTSP Version Not Supported',
  551: 'Option Not Supported',
}

const HEAD_END = Buffer.from('\r\n\r\n')

/** One interleaved frame: '$', channel, 16-bit big-endian length, payload (RFC 2326 §10.12). */
export function interleavedFrame(channel: number, payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(4)
  head[0] = 0x24
  head[1] = channel
  head.writeUInt16BE(payload.length, 2)
  return Buffer.concat([head, payload])
}

/** A minimal RTP packet (RFC 3550 §5.1): version 2, no padding, extension or CSRCs. */
export function rtpPacket(p: {
  payloadType: number
  sequenceNumber: number
  timestamp: number
  ssrc: number
  marker?: boolean
  payload: Buffer
}): Buffer {
  const head = Buffer.allocUnsafe(12)
  head[0] = 0x80
  head[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f)
  head.writeUInt16BE(p.sequenceNumber & 0xffff, 2)
  head.writeUInt32BE(p.timestamp >>> 0, 4)
  head.writeUInt32BE(p.ssrc >>> 0, 8)
  return Buffer.concat([head, p.payload])
}

/** Format a response by hand (for tests that want to split or mangle it before writing). */
export function formatResponse(
  status: number,
  cseq: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Buffer {
  const bodyBytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  let cseqValue = cseq
  const lines: string[] = []
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'cseq') cseqValue = v
    else lines.push(`${k}: ${v}`)
  }
  if (bodyBytes !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
    lines.push(`Content-Length: ${bodyBytes.length}`)
  }
  const head = [`RTSP/1.0 ${status} ${REASONS[status] ?? 'Status'}`]
  if (cseqValue !== '') head.push(`CSeq: ${cseqValue}`)
  const text = `${[...head, ...lines].join('\r\n')}\r\n\r\n`
  return bodyBytes === undefined ? Buffer.from(text, 'utf8') : Buffer.concat([Buffer.from(text, 'utf8'), bodyBytes])
}

interface ParsedHead {
  method: string
  url: string
  headers: Record<string, string>
  contentLength: number
}

function parseHead(text: string): ParsedHead | undefined {
  const lines = text.split(/\r?\n/)
  const requestLine = lines.shift() ?? ''
  const m = /^(\S+)\s+(\S+)\s+RTSP\/\d\.\d\s*$/.exec(requestLine)
  if (!m) return undefined
  const headers: Record<string, string> = {}
  let last: string | undefined
  for (const line of lines) {
    if (line === '') continue
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ` ${line.trim()}` // folded continuation line
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    last = name
  }
  const contentLength = Number.parseInt(headers['content-length'] ?? '0', 10)
  return { method: m[1]!, url: m[2]!, headers, contentLength: Number.isFinite(contentLength) ? contentLength : 0 }
}

export async function startFakeServer(handler: FakeHandler, opts: FakeServerOptions = {}): Promise<FakeServer> {
  const maxHead = opts.maxHeadBytes ?? 64 * 1024
  const sockets = new Set<net.Socket>()
  const requests: FakeRequest[] = []
  const responses: string[] = []
  let connections = 0
  let interleavedFrames = 0

  const server = net.createServer((socket) => {
    const connection = connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {}) // resets are part of the game

    const write = (raw: string | Buffer): boolean => {
      if (socket.destroyed || !socket.writable) return false
      return socket.write(raw)
    }
    const baseCtx = {
      write,
      close: (): void => {
        if (!socket.destroyed) socket.end()
      },
      destroy: (): void => {
        socket.destroy()
      },
    }
    opts.onConnection?.(socket, {
      ...baseCtx,
      reply: (status, headers, body) => {
        write(formatResponse(status, '', headers, body))
      },
    })

    let buf: Buffer = Buffer.alloc(0)
    let queue: Promise<void> = Promise.resolve()

    const dispatch = (req: FakeRequest): void => {
      const ctx: FakeContext = {
        ...baseCtx,
        reply: (status, headers, body) => {
          write(formatResponse(status, req.cseq, headers, body))
        },
      }
      queue = queue.then(async () => {
        try {
          await handler(req, ctx)
        } catch (e) {
          ctx.reply(500, { 'X-Fake-Error': String((e as Error)?.message ?? e).replace(/[\r\n]+/g, ' ') })
        }
      })
    }

    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
      for (;;) {
        if (buf.length === 0) return
        if (buf[0] === 0x24) {
          if (buf.length < 4) return
          const len = buf.readUInt16BE(2)
          if (buf.length < 4 + len) return
          interleavedFrames++
          opts.onInterleaved?.(buf[1]!, buf.subarray(4, 4 + len), socket)
          buf = buf.subarray(4 + len)
          continue
        }
        // Skip stray line breaks between messages.
        if (buf[0] === 0x0d || buf[0] === 0x0a) {
          buf = buf.subarray(1)
          continue
        }
        const end = buf.indexOf(HEAD_END)
        if (end < 0) {
          if (buf.length > maxHead) socket.destroy()
          return
        }
        const headText = buf.subarray(0, end).toString('utf8')
        if (headText.startsWith('RTSP/')) {
          // The client answering a request we sent it (RFC 2326 §10: server → client requests).
          responses.push(headText)
          buf = buf.subarray(end + 4)
          continue
        }
        const head = parseHead(headText)
        if (!head) {
          // Not a request: answer 400 without CSeq and drop the line.
          write(formatResponse(400, ''))
          buf = buf.subarray(end + 4)
          continue
        }
        const total = end + 4 + head.contentLength
        if (buf.length < total) return
        const body = Buffer.from(buf.subarray(end + 4, total))
        const raw = buf.subarray(0, total).toString('utf8')
        buf = buf.subarray(total)
        const req: FakeRequest = {
          method: head.method,
          url: head.url,
          headers: head.headers,
          cseq: head.headers.cseq ?? '',
          body,
          raw,
          socket,
          connection,
        }
        requests.push(req)
        dispatch(req)
      }
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('fake RTSP server has no TCP address')
  const port = address.port

  let stopping: Promise<void> | undefined
  return {
    port,
    url: (path = '/stream') => `rtsp://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`,
    get connections() {
      return connections
    },
    get requests() {
      return requests
    },
    get interleavedFrames() {
      return interleavedFrames
    },
    get responses() {
      return responses
    },
    stop(): Promise<void> {
      stopping ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
      return stopping
    },
  }
}
