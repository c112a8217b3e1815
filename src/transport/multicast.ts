/**
 * RTP over IPv4 multicast (RFC 2326 §12.39 `multicast;destination=;port=;ttl=`, RFC 3550
 * §11: RTP on an even port, RTCP on the next). Sockets that share a group's ports with any
 * number of other readers and senders on the same host: every socket bound to a group port
 * sets SO_REUSEADDR and binds the group address itself, so it receives that group's
 * datagrams only (a socket bound to 0.0.0.0 would get every group joined on the port).
 */
import * as dgram from 'node:dgram'
import { isIPv4 } from 'node:net'
import { BindError, InvalidArgumentError } from '../errors.js'

/** 224.0.0.0/4 (RFC 5771). */
export function isMulticastIPv4(address: string): boolean {
  if (!isIPv4(address)) return false
  const first = Number(address.slice(0, address.indexOf('.')))
  return first >= 224 && first <= 239
}

function toInt(address: string): number {
  return address.split('.').reduce((n, p) => n * 256 + Number(p), 0)
}

function fromInt(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/**
 * Group addresses handed out from a block (`239.0.0.0/24`, or one address `/32`), lowest
 * free first; the block's first address is skipped when it has others (x.x.x.0 confuses
 * some receivers).
 */
export class MulticastAddressPool {
  readonly first: number
  readonly count: number
  readonly #used = new Set<number>()

  constructor(cidr: string) {
    const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(cidr.trim())
    const bits = m?.[2] !== undefined ? Number(m[2]) : 32
    if (m === null || !isMulticastIPv4(m[1]!) || bits < 4 || bits > 32) {
      throw new InvalidArgumentError(`multicast range ${JSON.stringify(cidr)} is not an IPv4 multicast block; give one like 239.0.0.0/24 (224.0.0.0/4, RFC 5771)`)
    }
    const size = 2 ** (32 - bits)
    const base = toInt(m[1]!) - (toInt(m[1]!) % size)
    this.first = size > 1 ? base + 1 : base
    this.count = size > 1 ? size - 1 : 1
  }

  /** A free group address, or undefined when all are in use. */
  allocate(): string | undefined {
    for (let i = 0; i < this.count; i++) {
      if (this.#used.has(i)) continue
      this.#used.add(i)
      return fromInt(this.first + i)
    }
    return undefined
  }

  release(address: string): void {
    this.#used.delete(toInt(address) - this.first)
  }
}

export interface MulticastSocketOptions {
  /** The group to bind and join; undefined: a send-only socket bound to `iface` on a free port. */
  group?: string
  /** Port to bind (with `group`). */
  port?: number
  /** Local IPv4 address of the interface to send and join on (127.0.0.1 for loopback). Default: the OS's choice. */
  iface?: string
  /** IP TTL of datagrams sent to a group. Default 16. */
  ttl?: number
  /** SO_RCVBUF to ask for (0: the OS default). */
  recvBufferSize?: number
}

/**
 * A UDP socket for one multicast port: bound with SO_REUSEADDR (never exclusively, so other
 * readers on the host share the port), joined to the group on `iface`, sending on `iface`
 * with loopback on (readers on this host hear what it sends).
 */
export function openMulticastSocket(opts: MulticastSocketOptions): Promise<dgram.Socket> {
  const { group, iface } = opts
  if (group !== undefined && !isMulticastIPv4(group)) throw new InvalidArgumentError(`${group} is not an IPv4 multicast address (224.0.0.0/4)`)
  if (iface !== undefined && !isIPv4(iface)) throw new InvalidArgumentError(`multicast interface ${iface} is not an IPv4 address`)
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  const host = group ?? iface ?? '0.0.0.0'
  const port = group !== undefined ? (opts.port ?? 0) : 0
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      try {
        socket.close()
      } catch {
        // the failed bind released it
      }
      reject(new BindError({ protocol: 'udp', host, port, reason: err.code ?? err.message, hint: 'choose another multicast port or group', cause: err }))
    }
    socket.once('error', onError)
    socket.bind({ address: host, port, exclusive: false }, () => {
      socket.off('error', onError)
      socket.on('error', () => {}) // send errors are counted by their callbacks
      try {
        if (iface !== undefined) socket.setMulticastInterface(iface)
        socket.setMulticastTTL(opts.ttl ?? 16)
        socket.setMulticastLoopback(true)
        if (group !== undefined) socket.addMembership(group, iface)
        if (opts.recvBufferSize !== undefined && opts.recvBufferSize > 0) socket.setRecvBufferSize(opts.recvBufferSize)
      } catch (err) {
        socket.close()
        const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message
        reject(new BindError({ protocol: 'udp', host, port, reason: code, hint: `check that ${iface ?? 'the default interface'} can carry multicast (a route for 224.0.0.0/4)`, cause: err }))
        return
      }
      resolve(socket)
    })
  })
}

/** Leave the group (when joined) and close; safe to call twice. */
export function closeMulticastSocket(socket: dgram.Socket, group?: string, iface?: string): Promise<void> {
  return new Promise((resolve) => {
    try {
      if (group !== undefined) socket.dropMembership(group, iface)
    } catch {
      // not a member (any more)
    }
    try {
      socket.close(() => resolve())
    } catch {
      resolve()
    }
  })
}

/**
 * A reader's sockets for one track of a multicast session: RTP and RTCP bound to the
 * group's ports (shared with other readers on the host), joined on `iface`. Receiver
 * reports go to the group's RTCP port (RFC 3550 §6: RTCP goes to the same group).
 */
export class MulticastReceiver {
  readonly group: string
  readonly rtpPort: number
  readonly rtcpPort: number
  readonly iface: string | undefined
  rtpPacketsReceived = 0
  rtcpPacketsReceived = 0
  /** Datagrams dropped: from another source than the server (RFC 2326 `source=`). */
  packetsDropped = 0
  readonly #rtp: dgram.Socket
  readonly #rtcp: dgram.Socket
  #source: string | undefined
  #closing: Promise<void> | undefined

  private constructor(group: string, iface: string | undefined, rtp: dgram.Socket, rtcp: dgram.Socket) {
    this.group = group
    this.iface = iface
    this.#rtp = rtp
    this.#rtcp = rtcp
    this.rtpPort = rtp.address().port
    this.rtcpPort = rtcp.address().port
  }

  static async open(opts: { group: string; ports: [number, number]; iface?: string; ttl?: number; recvBufferSize?: number }): Promise<MulticastReceiver> {
    const base = { group: opts.group, ...(opts.iface !== undefined ? { iface: opts.iface } : {}), ...(opts.ttl !== undefined ? { ttl: opts.ttl } : {}) }
    const rtp = await openMulticastSocket({ ...base, port: opts.ports[0], recvBufferSize: opts.recvBufferSize ?? 4 * 1024 * 1024 })
    let rtcp: dgram.Socket
    try {
      rtcp = await openMulticastSocket({ ...base, port: opts.ports[1] })
    } catch (err) {
      await closeMulticastSocket(rtp, opts.group, opts.iface)
      throw err
    }
    return new MulticastReceiver(opts.group, opts.iface, rtp, rtcp)
  }

  /** Take datagrams only from `address` (the server, or the Transport's `source=`). */
  setSource(address: string | undefined): void {
    this.#source = address
  }

  onRtp(handler: (buf: Buffer, rinfo: dgram.RemoteInfo) => void): void {
    this.#rtp.removeAllListeners('message')
    this.#rtp.on('message', (buf, rinfo) => {
      if (this.#source !== undefined && rinfo.address !== this.#source) {
        this.packetsDropped++
        return
      }
      this.rtpPacketsReceived++
      handler(buf, rinfo)
    })
  }

  /**
   * RTCP heard on the group: the sender's reports, and also every reader's receiver reports,
   * this one's own among them (looped back): the handler must not take another SSRC than the
   * sender's for its own (RFC 3550 §8.2).
   */
  onRtcp(handler: (buf: Buffer, rinfo: dgram.RemoteInfo) => void): void {
    this.#rtcp.removeAllListeners('message')
    this.#rtcp.on('message', (buf, rinfo) => {
      if (this.#source !== undefined && rinfo.address !== this.#source) {
        this.packetsDropped++
        return
      }
      // Our own receiver report, looped back: not the sender's.
      if (rinfo.port === this.rtcpPort && buf.length >= 2 && buf[1] === 201) return
      this.rtcpPacketsReceived++
      handler(buf, rinfo)
    })
  }

  /** A receiver report to the group's RTCP port. */
  sendRtcp(buf: Uint8Array): boolean {
    if (this.#closing !== undefined) return false
    this.#rtcp.send(buf, this.rtcpPort, this.group, () => {})
    return true
  }

  get closed(): boolean {
    return this.#closing !== undefined
  }

  /** Leave the group and close both sockets (IGMP leave, RFC 2236 §3). */
  close(): Promise<void> {
    this.#closing ??= Promise.all([closeMulticastSocket(this.#rtp, this.group, this.iface), closeMulticastSocket(this.#rtcp, this.group, this.iface)]).then(() => undefined)
    return this.#closing
  }
}
