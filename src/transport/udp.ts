import * as dgram from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'
import { BindError, InvalidArgumentError } from '../errors.js'
import { buildEmptyReceiverReport } from '../rtcp/packets.js'
import { RTP_HEADER_LENGTH, writeRtpHeader } from '../rtp/packet.js'

export interface BindRtpPortPairOptions {
  /**
   * Local address to bind, normally the one the RTSP TCP socket is bound to
   * (`socket.localAddress`). Default '0.0.0.0'; an IPv6 address binds IPv6 sockets.
   */
  host?: string
  /** SO_RCVBUF asked for the RTP socket (the OS may cap it). Default 4 MiB; 0 keeps the OS default. */
  recvBufferSize?: number
  /** Lowest RTP port. Default 10000. */
  minPort?: number
  /** Highest port of the pair (the last RTCP port). Default 65535. */
  maxPort?: number
  /** Even ports to try before giving up. Default 64. */
  attempts?: number
  /**
   * Drop packets whose source address is not the server's (see `setRemote`). Default
   * true; turn off only for a server that sends media from another host.
   */
  filterSource?: boolean
}

/** `rinfo` says where the datagram came from (the embedded server routes by it). */
export type DatagramHandler = (buf: Buffer, rinfo: dgram.RemoteInfo) => void

const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024
const RETRYABLE = new Set(['EADDRINUSE', 'EACCES'])
const BIND_HINT = 'check the local address or use --transport tcp'

function ignoreError(): void {}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : String(err)
}

function bindSocket(type: 'udp4' | 'udp6', host: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type, reuseAddr: false })
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      socket.off('listening', onListening)
      try {
        socket.close()
      } catch {
        // the failed bind already released the handle
      }
      reject(err)
    }
    const onListening = (): void => {
      socket.off('error', onError)
      // Keep a listener until the pair takes the socket over: an unhandled 'error' would throw.
      socket.on('error', ignoreError)
      resolve(socket)
    }
    socket.once('error', onError)
    socket.once('listening', onListening)
    socket.bind({ port, address: host, exclusive: true })
  })
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve())
    } catch {
      resolve() // already closed
    }
  })
}

function checkPort(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidArgumentError(`${name} ${value} is not a port number (1..65535)`)
  }
}

/**
 * Bind an RTP socket on a free even port and its RTCP socket on port + 1 (RFC 3550 §11),
 * for a SETUP with `client_port=`. Ports are tried in turn from a random even port in
 * the range; a pair whose RTCP half is taken releases its RTP half before the next try,
 * so a failure leaves no socket open.
 */
export async function bindRtpPortPair(options: BindRtpPortPairOptions = {}): Promise<UdpPortPair> {
  const host = options.host ?? '0.0.0.0'
  const type = isIPv6(host) ? 'udp6' : isIPv4(host) ? 'udp4' : undefined
  if (type === undefined) throw new InvalidArgumentError(`UDP bind host ${host} is not an IP address`)
  const minPort = options.minPort ?? 10000
  const maxPort = options.maxPort ?? 65535
  checkPort('minPort', minPort)
  checkPort('maxPort', maxPort)
  const firstEven = minPort + (minPort & 1)
  const lastEven = (maxPort - 1) & ~1
  if (firstEven > lastEven) {
    throw new InvalidArgumentError(`port range ${minPort}-${maxPort} holds no even/odd RTP/RTCP pair`)
  }
  const pairs = (lastEven - firstEven) / 2 + 1
  const attempts = Math.min(pairs, options.attempts ?? 64)
  if (!(attempts >= 1)) throw new InvalidArgumentError(`attempts must be at least 1, got ${options.attempts}`)
  const recvBufferSize = options.recvBufferSize ?? DEFAULT_RECV_BUFFER

  const start = Math.floor(Math.random() * pairs)
  let lastCode = ''
  for (let i = 0; i < attempts; i++) {
    const port = firstEven + ((start + i) % pairs) * 2
    let rtp: dgram.Socket
    try {
      rtp = await bindSocket(type, host, port)
    } catch (err) {
      lastCode = errorCode(err)
      if (RETRYABLE.has(lastCode)) continue
      throw new BindError({ protocol: 'udp', host, port, reason: lastCode, hint: BIND_HINT, cause: err })
    }
    let rtcp: dgram.Socket
    try {
      rtcp = await bindSocket(type, host, port + 1)
    } catch (err) {
      await closeSocket(rtp)
      lastCode = errorCode(err)
      if (RETRYABLE.has(lastCode)) continue
      throw new BindError({ protocol: 'udp', host, port: port + 1, reason: lastCode, hint: BIND_HINT, cause: err })
    }
    let granted = 0
    if (recvBufferSize > 0) {
      try {
        rtp.setRecvBufferSize(recvBufferSize)
      } catch {
        // Not fatal: the OS refused the size; the default buffer may drop bursts.
      }
    }
    try {
      granted = rtp.getRecvBufferSize()
    } catch {
      granted = 0
    }
    return new UdpPortPair(rtp, rtcp, host, granted, options.filterSource ?? true)
  }
  throw new BindError({ protocol: 'udp', host, range: [minPort, maxPort], attempts, reason: lastCode, hint: 'widen the range or use --transport tcp' })
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d) as plain IPv4, so both spellings compare equal. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/**
 * The RTP/RTCP socket pair of one UDP track. Datagrams from any address but the server's
 * are dropped and counted (anyone can aim packets at an open port). The server's source
 * port is not checked: some servers send from ports other than their `server_port`.
 * Made by `bindRtpPortPair`.
 */
export class UdpPortPair {
  readonly rtpPort: number
  readonly rtcpPort: number
  /** Local address bound. */
  readonly host: string
  /** SO_RCVBUF of the RTP socket as the OS granted it (Linux reports double the usable size). */
  readonly recvBufferSize: number
  /** Datagrams dropped: wrong source address, or before `setRemote`. */
  packetsDropped = 0
  rtpPacketsReceived = 0
  rtcpPacketsReceived = 0
  sendErrors = 0

  readonly #rtp: dgram.Socket
  readonly #rtcp: dgram.Socket
  readonly #filterSource: boolean
  readonly #mapIPv4: boolean
  #remote: string | undefined
  #sendAddress = ''
  #remoteRtpPort: number | undefined
  #remoteRtcpPort: number | undefined
  #onRtp: DatagramHandler | undefined
  #onRtcp: DatagramHandler | undefined
  #onError: ((err: Error) => void) | undefined
  #closing: Promise<void> | undefined

  /** @internal use `bindRtpPortPair`. */
  constructor(rtp: dgram.Socket, rtcp: dgram.Socket, host: string, recvBufferSize: number, filterSource: boolean) {
    this.#rtp = rtp
    this.#rtcp = rtcp
    this.host = host
    this.rtpPort = rtp.address().port
    this.rtcpPort = rtcp.address().port
    this.recvBufferSize = recvBufferSize
    this.#filterSource = filterSource
    this.#mapIPv4 = rtp.address().family === 'IPv6'
    for (const socket of [rtp, rtcp]) {
      socket.off('error', ignoreError)
      socket.on('error', this.#handleError)
    }
    rtp.on('message', this.#handleRtp)
    rtcp.on('message', this.#handleRtcp)
  }

  /**
   * The server: its address (from the RTSP connection, or the Transport `source=`) and
   * its `server_port` pair when the SETUP reply gave one. Unknown ports are learnt from
   * the first datagram the server sends to each socket.
   */
  setRemote(address: string, rtpPort?: number, rtcpPort?: number): void {
    if (!isIPv4(address) && !isIPv6(address)) throw new InvalidArgumentError(`remote ${address} is not an IP address`)
    if (rtpPort !== undefined) checkPort('remote RTP port', rtpPort)
    if (rtcpPort !== undefined) checkPort('remote RTCP port', rtcpPort)
    this.#remote = normalizeAddress(address)
    this.#sendAddress = this.#mapIPv4 && isIPv4(this.#remote) ? `::ffff:${this.#remote}` : this.#remote
    this.#remoteRtpPort = rtpPort
    this.#remoteRtcpPort = rtcpPort
  }

  get remoteAddress(): string | undefined {
    return this.#remote
  }

  get remoteRtpPort(): number | undefined {
    return this.#remoteRtpPort
  }

  get remoteRtcpPort(): number | undefined {
    return this.#remoteRtcpPort
  }

  get closed(): boolean {
    return this.#closing !== undefined
  }

  /** One handler for RTP datagrams (replaces the previous; undefined removes it). */
  onRtp(handler: DatagramHandler | undefined): void {
    this.#onRtp = handler
  }

  onRtcp(handler: DatagramHandler | undefined): void {
    this.#onRtcp = handler
  }

  /** Socket and send errors (without a handler they are only counted). */
  onError(handler: ((err: Error) => void) | undefined): void {
    this.#onError = handler
  }

  #accepts(address: string): boolean {
    const remote = this.#remote
    // No remote: a pair without source filtering (the embedded server's) takes every datagram.
    if (remote === undefined) return !this.#filterSource
    if (!this.#filterSource || address === remote) return true
    return normalizeAddress(address) === remote
  }

  // Arrow fields: one closure per pair, none per packet.
  readonly #handleRtp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (!this.#accepts(rinfo.address)) {
      this.packetsDropped++
      return
    }
    this.rtpPacketsReceived++
    if (this.#remoteRtpPort === undefined) this.#remoteRtpPort = rinfo.port
    this.#onRtp?.(msg, rinfo)
  }

  readonly #handleRtcp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (!this.#accepts(rinfo.address)) {
      this.packetsDropped++
      return
    }
    this.rtcpPacketsReceived++
    if (this.#remoteRtcpPort === undefined) this.#remoteRtcpPort = rinfo.port
    this.#onRtcp?.(msg, rinfo)
  }

  readonly #handleError = (err: Error): void => {
    this.#onError?.(err)
  }

  readonly #afterSend = (err: Error | null): void => {
    if (err) {
      this.sendErrors++
      this.#onError?.(err)
    }
  }

  #send(socket: dgram.Socket, port: number | undefined, buf: Uint8Array): boolean {
    if (port === undefined || this.#remote === undefined || this.#closing) return false
    socket.send(buf, port, this.#sendAddress, this.#afterSend)
    return true
  }

  /** Send to any address (the embedded server's shared pair serves many clients). False once closed. */
  sendTo(kind: 'rtp' | 'rtcp', buf: Uint8Array, port: number, address: string): boolean {
    // dgram throws on port 0 or > 65535: one peer's bad port must not throw into a fan-out loop.
    if (this.#closing || !(port >= 1 && port <= 65535)) return false
    const to = this.#mapIPv4 && isIPv4(address) ? `::ffff:${address}` : address
    ;(kind === 'rtp' ? this.#rtp : this.#rtcp).send(buf, port, to, this.#afterSend)
    return true
  }

  /** Send to the server's RTP port. False (nothing sent) while it is unknown or closed. */
  sendRtp(buf: Uint8Array): boolean {
    return this.#send(this.#rtp, this.#remoteRtpPort, buf)
  }

  /** Send to the server's RTCP port. False (nothing sent) while it is unknown or closed. */
  sendRtcp(buf: Uint8Array): boolean {
    return this.#send(this.#rtcp, this.#remoteRtcpPort, buf)
  }

  /**
   * Open NAT/firewall mappings towards the server before PLAY, as FFmpeg and gortsplib
   * do: an empty RTP packet to its RTP port and an empty RR to its RTCP port. Ports not
   * known yet are skipped. Returns the number of datagrams sent.
   */
  punch(ssrc = 0): number {
    const rtp = Buffer.alloc(RTP_HEADER_LENGTH)
    writeRtpHeader(rtp, 0, { payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc })
    let sent = 0
    if (this.sendRtp(rtp)) sent++
    if (this.sendRtcp(buildEmptyReceiverReport(ssrc))) sent++
    return sent
  }

  /** Close both sockets; handlers stop at once. Safe to call more than once. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#onRtp = undefined
      this.#onRtcp = undefined
      this.#closing = Promise.all([closeSocket(this.#rtp), closeSocket(this.#rtcp)]).then(() => undefined)
    }
    return this.#closing
  }
}
