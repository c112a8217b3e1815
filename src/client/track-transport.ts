// One pull track's transport: where its packets come from (TCP interleaved channels, a UDP
// port pair, a multicast group) and where its receiver reports go. The pull session asks
// for the SETUP Transport (request), wires the reply (wire) and releases it (release);
// the receiver (TrackReceiver) never knows which transport it is on.
import { isIPv4 } from 'node:net'
import { ProtocolError } from '../errors.js'
import type { TransportSpec } from '../rtsp/headers/transport.js'
import { bindRtpPortPair } from '../transport/udp.js'
import type { UdpPortPair } from '../transport/udp.js'
import { MulticastReceiver } from '../transport/multicast.js'
import type { RtspConnection } from './connection.js'
import type { TrackReceiver } from './track-receiver.js'
import type { TrackStats } from './track.js'
import { buildReceiverReport } from '../rtcp/packets.js'

/** A track's reorder flush that waits for the reads of one more turn of the event loop. */
const FLUSHING = Symbol('flushing')
/** Turns of the event loop a reorder flush waits for while datagrams keep coming. */
const MAX_FLUSH_TURNS = 64

/** What a track's transport needs from its session. */
export interface TrackTransportContext {
  readonly conn: RtspConnection
  /** The RTSP server's host (the URL's), when the connection has no peer address. */
  readonly host: string
  readonly udpReceiveBufferSize: number
  /** Media is taken in these states (setting up, starting, playing). */
  receiving(): boolean
  /** The session plays: the reorder buffer's timer is re-armed only then. */
  playing(): boolean
  warning(message: string): void
}

/** One track's transport: its sockets or channels, and the reorder buffer's timer. */
export class TrackLink {
  udp: UdpPortPair | undefined
  /** Multicast: the group's sockets, joined after the SETUP reply names the group. */
  multicast: MulticastReceiver | undefined
  rtcpChannel = -1
  rtcpPacketsSent = 0
  /** The reorder buffer's timer, FLUSHING while its flush waits for pending reads, else undefined. */
  private reorderTimer: NodeJS.Timeout | typeof FLUSHING | undefined
  constructor(
    readonly rx: TrackReceiver,
    private readonly ctx: TrackTransportContext,
  ) {}

  /** The Transport of this track's SETUP (RFC 2326 §12.39); for UDP, binds the port pair it offers. */
  async request(transport: 'tcp' | 'udp' | 'multicast'): Promise<TransportSpec> {
    const i = this.rx.track.index
    if (transport === 'udp') {
      this.udp = await bindRtpPortPair({ host: this.ctx.conn.localAddress, recvBufferSize: this.ctx.udpReceiveBufferSize })
      return { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'unicast', clientPort: [this.udp.rtpPort, this.udp.rtcpPort] }
    }
    // RFC 2326 §12.39: the server picks the group, its ports and ttl, and says them in the reply.
    if (transport === 'multicast') return { protocol: 'RTP/AVP', lowerTransport: 'UDP', delivery: 'multicast' }
    return { protocol: 'RTP/AVP', lowerTransport: 'TCP', delivery: 'unicast', interleaved: [2 * i, 2 * i + 1] }
  }

  /** The SETUP reply: take packets where the server says it sends them (it may differ from what was asked). */
  async wire(reply: TransportSpec | undefined, request: TransportSpec, asked: 'tcp' | 'udp' | 'multicast'): Promise<void> {
    const { rx } = this
    const track = rx.track
    const i = track.index
    const t = track.transport
    t.ssrc = reply?.ssrc
    if (reply?.lowerTransport === 'TCP' || (reply === undefined && asked === 'tcp')) {
      // Use the channels the server actually assigned (it may ignore ours).
      const channels = reply?.interleaved ?? request.interleaved ?? [2 * i, 2 * i + 1]
      if (this.udp !== undefined) {
        // The server answered a UDP request with TCP: go along with it.
        await this.udp.close()
        this.udp = undefined
        this.ctx.warning(`server chose TCP for ${track.control}`)
      }
      t.protocol = 'tcp'
      t.interleaved = channels
      // TCP delivers in order: straight to the receiver, no reorder buffer.
      const conn = this.ctx.conn
      rx.transient = conn.reusesReadBuffer
      // Every packet of one read arrived together: one clock reading per read, not per packet.
      // The payload as a range of the read buffer: no view per packet.
      conn.rangeChannels[channels[0]] = (buf, start, end) => {
        if (this.ctx.receiving()) rx.receiveAt(buf, start, end, conn.readAt)
      }
      conn.channels[channels[1]] = (payload) => rx.receiveRtcp(payload, conn.readAt)
      this.rtcpChannel = channels[1]
      return
    }
    if (reply?.delivery === 'multicast') {
      await this.joinGroup(reply)
      return
    }
    const udp = this.udp
    if (udp === undefined) {
      throw new ProtocolError(`server answered a TCP SETUP for ${track.control} with UDP transport; try --transport udp`)
    }
    t.protocol = 'udp'
    t.clientPort = [udp.rtpPort, udp.rtcpPort]
    // `server_port=0-1` (some cameras behind NAT helpers) means "unknown": learn it from the first packet.
    const sp = reply?.serverPort
    t.serverPort = sp !== undefined && sp[0] > 0 && sp[1] > 0 ? sp : undefined
    // Accept packets only from the server we talk to (RFC 2326 §12.39 `source`, else the RTSP peer).
    const remote = reply?.source ?? this.ctx.conn.remoteAddress ?? this.ctx.host
    udp.setRemote(remote, t.serverPort?.[0], t.serverPort?.[1])
    udp.onRtp(this.datagramHandler())
    udp.onRtcp((buf) => rx.receiveRtcp(buf, performance.now()))
    // NAT-opening packets, so that a firewall in front of us lets the server's stream in.
    udp.punch()
  }

  /**
   * A multicast SETUP reply (`multicast;destination=G;port=P-Q;ttl=T`): bind the group's ports
   * (shared with other readers on this host) and join it on the interface that reaches the
   * server (the RTSP connection's local address: 127.0.0.1 for a server on loopback).
   */
  private async joinGroup(reply: TransportSpec): Promise<void> {
    const track = this.rx.track
    const group = reply.destination
    const ports = reply.port
    if (group === undefined || ports === undefined) {
      throw new ProtocolError(`the multicast SETUP reply for ${track.control} names no destination and port; try --transport udp`)
    }
    const local = this.ctx.conn.localAddress
    const mc = await MulticastReceiver.open({ group, ports, ...(local !== undefined && isIPv4(local) ? { iface: local } : {}), recvBufferSize: this.ctx.udpReceiveBufferSize })
    this.multicast = mc
    // Packets from the server only (RFC 2326 §12.39 `source`, else the RTSP peer).
    mc.setSource(reply.source ?? this.ctx.conn.remoteAddress ?? this.ctx.host)
    const t = track.transport
    t.protocol = 'multicast'
    t.destination = group
    t.clientPort = [mc.rtpPort, mc.rtcpPort]
    mc.onRtp(this.datagramHandler())
    mc.onRtcp((buf) => this.rx.receiveRtcp(buf, performance.now()))
  }

  /** RTP datagrams of one track (UDP or multicast) into its receiver, through the reorder buffer. */
  private datagramHandler(): (buf: Buffer) => void {
    const rx = this.rx
    let datagrams = 0
    // The reorder buffer's timer: armed only while packets wait for an earlier one.
    const tick = (): void => {
      // Timers run before the poll phase reads the datagrams that came meanwhile: after a
      // stall (a loaded host, a GC pause) the packet waited for may be in the socket already.
      // Declare it lost only once a turn of the loop has read nothing more (bounded, so a
      // stream that never lets up is still flushed).
      let seen = datagrams
      let turns = 0
      const afterReads = (): void => {
        if (this.reorderTimer !== FLUSHING) return // released meanwhile
        if (datagrams !== seen && ++turns < MAX_FLUSH_TURNS) {
          seen = datagrams
          setImmediate(afterReads)
          return
        }
        this.reorderTimer = undefined
        if (rx.flushExpired(performance.now()) > 0 && this.ctx.playing()) arm()
      }
      this.reorderTimer = FLUSHING
      setImmediate(afterReads)
    }
    const arm = (): void => {
      this.reorderTimer = setTimeout(tick, 20)
      this.reorderTimer.unref()
    }
    return (buf) => {
      if (!this.ctx.receiving()) return
      datagrams++
      rx.receiveDatagram(buf, performance.now())
      if (this.reorderTimer === undefined && rx.waiting > 0) arm()
    }
  }

  /** A receiver report (RFC 3550 §6.4.2) on this track's RTCP path, once it has received packets. */
  receiverReport(ssrc: number, now: number): void {
    if (this.rx.packetsReceived === 0) return
    this.sendRtcp(buildReceiverReport({ ssrc, reports: [this.rx.stats.report(now)], cname: 'rtspkit' }))
  }

  /** The track's counters (PullSession.stats()); the timeline counts its frames. */
  stats(framesReceived: number): TrackStats {
    const rx = this.rx
    return {
      packetsReceived: rx.packetsReceived,
      bytesReceived: rx.bytesReceived,
      packetsLost: rx.stats.packetsLost,
      framesReceived,
      framesDropped: rx.depacketizer.dropped,
      jitter: rx.stats.jitter / rx.track.clockRate,
      rtcpPacketsReceived: rx.rtcpPacketsReceived,
      rtcpPacketsSent: this.rtcpPacketsSent,
    }
  }

  private sendRtcp(rr: Buffer): void {
    if (this.udp !== undefined) this.udp.sendRtcp(rr)
    else if (this.multicast !== undefined) this.multicast.sendRtcp(rr)
    else if (this.rtcpChannel >= 0) this.ctx.conn.writeInterleaved(this.rtcpChannel, rr)
    this.rtcpPacketsSent++
  }

  /** Stop the reorder buffer's timer (the session stops its media). */
  stopTimer(): void {
    if (this.reorderTimer !== FLUSHING) clearTimeout(this.reorderTimer)
    this.reorderTimer = undefined
  }

  /** Close the sockets; a multicast group is left (IGMP leave). */
  release(): void {
    void this.udp?.close()
    this.udp = undefined
    void this.multicast?.close()
    this.multicast = undefined
  }
}
