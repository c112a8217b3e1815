/**
 * Multicast delivery of the embedded server (RFC 2326 §12.39 `multicast`): each stream that
 * a reader SETUPs with `RTP/AVP;multicast` gets a group address from the pool and a port
 * pair per track, and one sender that sends every packet of the stream once to the group,
 * however many readers joined it. The sender is a reader session of its own (so it joins
 * and resumes at key frames, with a sender report first) whose datagrams go to the group;
 * it plays while at least one reader session plays.
 */
import type * as dgram from 'node:dgram'
import { closeMulticastSocket, MulticastAddressPool, openMulticastSocket } from '../transport/multicast.js'
import { normalizeAddress } from '../transport/udp.js'
import { BindError, InvalidArgumentError } from '../errors.js'
import { refuse } from './request.js'
import { ServerSession } from './session.js'
import type { DatagramSender, SessionHost } from './session.js'
import type { Stream } from './stream.js'

export interface MulticastOptions {
  /** Group addresses to hand out, one per stream: `239.0.0.0/24`. */
  range: string
  /** First RTP port; each track takes the next free even pair from here. Default 40000. */
  port?: number
  /** IP TTL of the datagrams (hops). Default 16. */
  ttl?: number
  /** Local IPv4 address of the interface to send on. Default: the server's host when it is one address (127.0.0.1: loopback), else the OS's choice. */
  iface?: string
}

/** What a reader's SETUP answers: where its track is sent. */
export interface MulticastTarget {
  destination: string
  port: [number, number]
  ttl: number
}

interface GroupTrack {
  ports: [number, number]
  rtcp: dgram.Socket
}

/** What the groups need from the server around them. */
export interface MulticastHost {
  maxReaderQueueBytes: number
  /** The stream ended or the sender failed: end a reader session. */
  endSession(session: ServerSession, reason: string): void
  logLine(line: string): void
}

class Group implements DatagramSender {
  readonly members = new Set<ServerSession>()
  readonly sender: ServerSession
  /** Every reader session set up on this group (playing or not), for RTCP liveness. */
  readonly sessions = new Set<ServerSession>()

  constructor(
    readonly stream: Stream,
    readonly address: string,
    readonly tracks: GroupTrack[],
    private readonly socket: dgram.Socket,
    host: MulticastHost,
    onEnded: (group: Group, reason: string) => void,
  ) {
    const senderHost: SessionHost = {
      udp: this,
      maxReaderQueueBytes: host.maxReaderQueueBytes,
      sessionEnded: (_s, reason) => onEnded(this, reason),
    }
    this.sender = new ServerSession(senderHost, 'reader', stream, address)
    tracks.forEach((t, i) => this.sender.setupTrack(i, { protocol: 'udp', clientPorts: t.ports }))
  }

  /** Hot path: every packet once, to the group. */
  sendTo(_kind: 'rtp' | 'rtcp', buf: Uint8Array, port: number, address: string): boolean {
    this.socket.send(buf, port, address)
    return true
  }
}

export class MulticastGroups {
  private readonly pool: MulticastAddressPool
  private readonly firstPort: number
  private readonly ttl: number
  private readonly iface: string | undefined
  private readonly groups = new Map<Stream, Group>()
  private readonly opening = new Map<Stream, Promise<Group>>()
  private readonly portsUsed = new Set<number>()
  /** One send socket for every group (bound to the interface, a free port). */
  private socket: Promise<dgram.Socket> | undefined
  private sendPort = 0
  private closed = false

  constructor(
    options: MulticastOptions,
    serverHost: string,
    private readonly host: MulticastHost,
  ) {
    this.pool = new MulticastAddressPool(options.range)
    this.firstPort = options.port ?? 40000
    this.ttl = options.ttl ?? 16
    if (!(Number.isInteger(this.firstPort) && this.firstPort >= 1 && this.firstPort <= 65534)) throw new InvalidArgumentError(`multicast port must be 1-65534, got ${options.port}`)
    if (!(Number.isInteger(this.ttl) && this.ttl >= 0 && this.ttl <= 255)) throw new InvalidArgumentError(`multicast ttl must be 0-255, got ${options.ttl}`)
    this.iface = options.iface ?? (serverHost !== '0.0.0.0' && !serverHost.includes(':') ? serverHost : undefined)
  }

  /** The group of `stream` (made at its first multicast SETUP) and where track `index` goes. */
  async target(stream: Stream, index: number): Promise<MulticastTarget> {
    let group = this.groups.get(stream)
    if (group === undefined) {
      let opening = this.opening.get(stream)
      if (opening === undefined) {
        opening = this.open(stream)
        this.opening.set(stream, opening)
      }
      try {
        group = await opening
      } finally {
        this.opening.delete(stream)
      }
    }
    const track = group.tracks[index]!
    return { destination: group.address, port: track.ports, ttl: this.ttl }
  }

  private async open(stream: Stream): Promise<Group> {
    const address = this.pool.allocate()
    if (address === undefined) throw refuse(453, 'every multicast group address of the range is in use (one per stream); give --multicast a larger range')
    const tracks: GroupTrack[] = []
    try {
      this.socket ??= openMulticastSocket({ ...(this.iface !== undefined ? { iface: this.iface } : {}), ttl: this.ttl }).then((s) => {
        this.sendPort = s.address().port
        return s
      })
      const socket = await this.socket
      for (let i = 0; i < stream.tracks.length; i++) tracks.push(await this.openTrack(address))
      if (this.closed || stream.ended) throw refuse(404, `the stream /${stream.path} ended while its multicast group opened`)
      const group = new Group(stream, address, tracks, socket, this.host, (g, reason) => this.groupEnded(g, reason))
      for (const t of tracks) t.rtcp.on('message', (buf, rinfo) => this.onRtcp(group, buf, rinfo))
      this.groups.set(stream, group)
      this.host.logLine(`stream /${stream.path}: multicast group ${address} ports ${tracks.map((t) => t.ports.join('-')).join(', ')} ttl ${this.ttl}`)
      return group
    } catch (err) {
      for (const t of tracks) {
        this.freePorts(t.ports)
        void closeMulticastSocket(t.rtcp, address, this.iface)
      }
      this.pool.release(address)
      throw err
    }
  }

  /**
   * A port pair of the group and its RTCP socket: receiver reports keep readers alive. Never
   * bound exclusively (readers on this host share it); it hears this server's own sender
   * reports looped back. A port some other program holds exclusively is skipped.
   */
  private async openTrack(address: string): Promise<GroupTrack> {
    for (let attempt = 0; ; attempt++) {
      const ports = this.allocatePorts()
      try {
        const rtcp = await openMulticastSocket({ group: address, port: ports[1], ...(this.iface !== undefined ? { iface: this.iface } : {}), ttl: this.ttl })
        return { ports, rtcp }
      } catch (err) {
        // The pair stays marked used: another program holds it.
        if (!(err instanceof BindError) || err.reason !== 'EADDRINUSE' || attempt >= 15) throw refuse(453, `no multicast port pair could be bound: ${(err as Error).message}`)
      }
    }
  }

  private allocatePorts(): [number, number] {
    for (let p = this.firstPort + (this.firstPort & 1); p < 65535; p += 2) {
      if (this.portsUsed.has(p)) continue
      this.portsUsed.add(p)
      return [p, p + 1]
    }
    throw refuse(453, 'no free multicast port pair left; give --multicast-port a lower first port')
  }

  private freePorts(ports: [number, number]): void {
    this.portsUsed.delete(ports[0])
  }

  /**
   * RTCP on a group's port. Our own sender reports come back (loopback is on so that readers
   * on this host hear the group): RFC 3550 §8.2 tells a looped-back packet of one's own from a
   * colliding SSRC by its source transport address, so they are dropped here and never counted
   * as another participant. Receiver reports refresh the readers of their host.
   */
  private onRtcp(group: Group, buf: Buffer, rinfo: dgram.RemoteInfo): void {
    if (rinfo.port === this.sendPort && (this.iface === undefined || rinfo.address === this.iface)) return
    if (buf.length < 8 || buf[1] !== 201) return
    const from = normalizeAddress(rinfo.address)
    const now = performance.now()
    for (const s of group.sessions) if (s.remoteAddress === from) s.lastActivity = now
  }

  /** A reader session set up on the group of its stream (after `target`). */
  add(session: ServerSession): void {
    this.groups.get(session.stream)?.sessions.add(session)
  }

  /** A multicast reader's PLAY: the group's sender plays while any member does. */
  join(session: ServerSession): void {
    const group = this.groups.get(session.stream)
    if (group === undefined) return
    group.sessions.add(session)
    group.members.add(session)
    if (group.members.size === 1) group.sender.play()
  }

  leave(session: ServerSession): void {
    const group = this.groups.get(session.stream)
    if (group === undefined) return
    group.members.delete(session)
    if (group.members.size === 0 && group.sender.state === 'playing') group.sender.pause()
  }

  /** The session is gone (TEARDOWN, timeout): the group closes with its last session. */
  remove(session: ServerSession): void {
    const group = this.groups.get(session.stream)
    if (group === undefined) return
    this.leave(session)
    group.sessions.delete(session)
    if (group.sessions.size === 0) this.closeGroup(group)
  }

  private groupEnded(group: Group, reason: string): void {
    this.closeGroup(group)
    for (const s of [...group.sessions]) this.host.endSession(s, reason)
  }

  private closeGroup(group: Group): void {
    if (this.groups.get(group.stream) !== group) return
    this.groups.delete(group.stream)
    group.sender.pause()
    group.sender.state = 'closed'
    for (const t of group.tracks) {
      this.freePorts(t.ports)
      void closeMulticastSocket(t.rtcp, group.address, this.iface)
    }
    this.pool.release(group.address)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const g of [...this.groups.values()]) this.closeGroup(g)
    const socket = this.socket
    this.socket = undefined
    if (socket !== undefined) await closeMulticastSocket(await socket.catch(() => undefined as never)).catch(() => {})
  }
}
