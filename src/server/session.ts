/**
 * A session of the embedded server (RFC 2326 §3.6): a reader playing one stream, or a
 * publisher recording one. Readers take packets from the stream's fan-out and send them
 * over TCP (interleaved in the client's connection) or UDP (from the server's shared port
 * pair); publishers feed the packets they receive into their stream.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { createRtpPacket, parseRtpPacketInto } from '../rtp/packet.js'
import { encodeInterleaved } from '../rtsp/serialize.js'
import { Batch } from './stream.js'
import type { Stream, StreamReader } from './stream.js'

export type SessionRole = 'reader' | 'publisher'
/** ready: set up, not flowing; playing / recording: media flows; closed: gone. */
export type SessionState = 'ready' | 'playing' | 'recording' | 'closed'

export interface TrackTransport {
  /** multicast: the stream's group sender (multicast.ts) sends, the session only joins it. */
  protocol: 'tcp' | 'udp' | 'multicast'
  /** TCP: RTP and RTCP channels of `$` frames. */
  channels?: [number, number]
  /** UDP: the client's RTP and RTCP ports. */
  clientPorts?: [number, number]
}

/** Sends datagrams to any address: the server's UDP port pair, or its multicast sender. */
export interface DatagramSender {
  sendTo(kind: 'rtp' | 'rtcp', buf: Uint8Array, port: number, address: string): boolean
}

interface ReaderTrack extends TrackTransport {
  /** TCP: the RTP channel (`channels[0]`), read on every batch; -1 for UDP and multicast. */
  rtpChannel: number
  /** Waiting for a key-frame start before sending (join, or after falling behind). */
  waitKey: boolean
  gated: boolean
  /** The last batch sent: where the RTP stream stands (SSRC, sequence number) for a seek to continue it. */
  last: Batch | undefined
}

interface PublisherTrack extends TrackTransport {
  probe: ((payload: Buffer) => boolean) | undefined
  pending: Buffer[]
  pendingTs: number
  pendingKey: boolean
  pendingBytes: number
}

/** What a session needs from the server around it. */
export interface SessionHost {
  udp: DatagramSender | undefined
  /** Multicast readers join their stream's group instead of reading the stream themselves. */
  multicast?: { join(session: ServerSession): void; leave(session: ServerSession): void } | undefined
  maxReaderQueueBytes: number
  /** A reader or publisher ended; the server forgets it and logs the line. */
  sessionEnded(session: ServerSession, reason: string): void
}

export interface SessionStats {
  packetsSent: number
  bytesSent: number
  /** Batches (access units or packets) a reader skipped: joined mid-GOP, or fell behind. */
  batchesDropped: number
  packetsReceived: number
  bytesReceived: number
}

const scratch = createRtpPacket()
/** A publisher's access unit larger than this many packets or bytes is forwarded in pieces (a sender that never sets the marker bit holds no more). */
const MAX_PENDING = 1024
const MAX_PENDING_BYTES = 8 * 1024 * 1024

export class ServerSession implements StreamReader {
  readonly id = randomBytes(8).toString('hex')
  readonly role: SessionRole
  readonly stream: Stream
  readonly remoteAddress: string
  readonly startedAt = performance.now()
  state: SessionState = 'ready'
  /** The connection a TCP session lives in; undefined for UDP sessions (they outlive their connection). */
  socket: Socket | undefined
  lastActivity = performance.now()
  /** When a TCP reader's queue first went over the limit; 0 while it keeps up. */
  laggingSince = 0
  /** Gated reader tracks still waiting for their key frame. */
  private gatedWaiting = 0
  readonly stats: SessionStats = { packetsSent: 0, bytesSent: 0, batchesDropped: 0, packetsReceived: 0, bytesReceived: 0 }
  private readonly readerTracks: Array<ReaderTrack | undefined> = []
  /**
   * A reader's own playback of a file from a position it asked for (RFC 2326 §12.29 Range on
   * PLAY) instead of the path's shared pass; `position()` is where it stands now (NPT, s).
   */
  playback: { stream: Stream; position(): number; stop(): void } | undefined
  /** Where a PAUSE left the reader's own playback (NPT, s): a PLAY without Range resumes there. */
  resumeAt: number | undefined
  /** The first PLAY started it (logged and announced once, whatever PAUSE and seeks follow). */
  started = false
  private readonly publisherTracks: Array<PublisherTrack | undefined> = []

  constructor(
    private readonly host: SessionHost,
    role: SessionRole,
    stream: Stream,
    remoteAddress: string,
  ) {
    this.role = role
    this.stream = stream
    this.remoteAddress = remoteAddress
  }

  get protocol(): 'tcp' | 'udp' | 'multicast' | undefined {
    return this.readerTracks.find((t) => t !== undefined)?.protocol ?? this.publisherTracks.find((t) => t !== undefined)?.protocol
  }

  get trackCount(): number {
    return (this.role === 'reader' ? this.readerTracks : this.publisherTracks).filter((t) => t !== undefined).length
  }

  setupTrack(index: number, transport: TrackTransport, probe?: (payload: Buffer) => boolean): void {
    if (this.role === 'reader') {
      const gated = this.stream.tracks[index]?.gated ?? false
      // One object shape for every reader track (no spread): the per-batch loads and stores in
      // deliver() stay monomorphic (issue 14, fan-out profile: StoreIC misses per reader).
      this.readerTracks[index] = {
        protocol: transport.protocol,
        channels: transport.channels,
        clientPorts: transport.clientPorts,
        rtpChannel: transport.protocol === 'tcp' && transport.channels !== undefined ? transport.channels[0] : -1,
        gated,
        waitKey: gated,
        last: undefined,
      }
    } else {
      this.publisherTracks[index] = { ...transport, probe, pending: [], pendingTs: 0, pendingKey: false, pendingBytes: 0 }
    }
  }

  isSetUp(index: number): boolean {
    return (this.role === 'reader' ? this.readerTracks : this.publisherTracks)[index] !== undefined
  }

  /** Indexes of the tracks set up, in order. */
  setUpTracks(): number[] {
    const list = this.role === 'reader' ? this.readerTracks : this.publisherTracks
    const out: number[] = []
    list.forEach((t, i) => {
      if (t !== undefined) out.push(i)
    })
    return out
  }

  /** Start (or resume after PAUSE) delivery: every gated track waits for its next key frame. */
  play(): void {
    this.holdAll()
    this.state = 'playing'
    if (this.protocol === 'multicast') this.host.multicast?.join(this)
    else this.source.readers.add(this)
  }

  /** Where this reader's packets come from: its own playback, else the path's stream. */
  get source(): Stream {
    return this.playback?.stream ?? this.stream
  }

  /** Stop the reader's own playback (before a seek, or as the session ends). */
  stopPlayback(): void {
    const p = this.playback
    if (p === undefined) return
    this.playback = undefined
    p.stream.readers.delete(this)
    p.stop()
  }

  /**
   * Every track waits: gated ones for a key frame, the others until no gated track waits, so
   * all tracks (re)start together. GStreamer's rtspsrc over TCP stamps the first packet of
   * every stream with the arrival time of the session's first packet; audio sent up to a
   * GOP ahead of video would put its first key frame that far too early.
   */
  private holdAll(): void {
    let gated = 0
    for (const t of this.readerTracks) {
      if (t === undefined) continue
      t.waitKey = true
      if (t.gated) gated++
    }
    this.gatedWaiting = gated
  }

  /** Track `t` may (re)start with `batch`: a key frame on a gated track, after them on the others. */
  private canResume(index: number, t: ReaderTrack, batch: Batch): boolean {
    if (!batch.keyStart || (!t.gated && this.gatedWaiting > 0)) return false
    t.waitKey = false
    if (t.gated) this.gatedWaiting--
    // A sender report first: the reader maps this track's clock from its first packet on.
    const sr = this.source.senderReport(index)
    if (sr !== undefined) this.deliverRtcp(index, sr)
    return true
  }

  pause(): void {
    if (this.protocol === 'multicast') this.host.multicast?.leave(this)
    else this.source.readers.delete(this)
    this.state = 'ready'
  }

  /**
   * How long (ms) this TCP reader's queue has stayed backed up, 0 when it is not. A reader
   * whose queue drained to half is reading again, even while it waits for a key frame to
   * resume at: only a queue that stays full (a reader that stopped reading) counts as behind.
   * `stalledMs`: time the server itself did not run since the last check, which is not the reader's.
   */
  lagMs(now: number, stalledMs: number): number {
    if (this.laggingSince === 0) return 0
    this.laggingSince += stalledMs
    if ((this.socket?.writableLength ?? 0) <= this.host.maxReaderQueueBytes / 2) {
      this.laggingSince = 0
      return 0
    }
    return now - this.laggingSince
  }

  // ---- reader: the per-packet hot path ----

  /**
   * True when this reader holds none of `batch`'s bytes on return (StreamReader.deliver):
   * skipped, or written to a socket that took it all at once (nothing queued, so neither the
   * Writable's buffer nor a pending write request references it).
   */
  deliver(index: number, batch: Batch): boolean {
    const t = this.readerTracks[index]
    if (t === undefined || t.protocol === 'multicast') return true
    const socket = t.protocol === 'tcp' ? this.socket : undefined
    let released = false
    if (t.protocol === 'tcp') {
      if (socket === undefined || socket.destroyed) return true
      const queued = socket.writableLength
      if (queued > this.host.maxReaderQueueBytes) {
        // A slow reader never holds up the others: it skips to the next key frame
        // (and is cut by the server if it stays behind).
        if (this.laggingSince === 0) this.laggingSince = performance.now()
        this.holdAll()
        this.stats.batchesDropped++
        return true
      }
      if (t.waitKey) {
        // Resume only once the queue has drained to half, at a key frame (other tracks: right after it).
        if ((this.laggingSince !== 0 && queued > this.host.maxReaderQueueBytes / 2) || !this.canResume(index, t, batch)) {
          this.stats.batchesDropped++
          return true
        }
        this.laggingSince = 0
      }
      socket.write(batch.framed(t.rtpChannel))
      released = socket.writableLength === 0
    } else {
      if (t.waitKey && !this.canResume(index, t, batch)) {
        this.stats.batchesDropped++
        return true
      }
      const udp = this.host.udp
      const port = t.clientPorts![0]
      if (udp === undefined) return true
      const packets = batch.packets
      for (let i = 0; i < packets.length; i++) udp.sendTo('rtp', packets[i]!, port, this.remoteAddress)
    }
    t.last = batch
    this.stats.packetsSent += batch.count
    this.stats.bytesSent += batch.bytes
    return released
  }

  /** Per track index, the SSRC and next sequence number of what this reader received, if anything. */
  rtpContinuation(): Array<{ ssrc: number; sequenceNumber: number } | undefined> {
    return this.readerTracks.map((t) => {
      const last = t?.last
      // A batch whose bytes may have been reused says where it ended itself.
      if (last !== undefined && last.nextSequenceNumber >= 0) return { ssrc: last.ssrc, sequenceNumber: last.nextSequenceNumber }
      const packets = last?.packets
      const p = packets?.[packets.length - 1]
      if (p === undefined || p.length < 12) return undefined
      return { ssrc: p.readUInt32BE(8), sequenceNumber: (p.readUInt16BE(2) + 1) & 0xffff }
    })
  }

  deliverRtcp(index: number, packet: Buffer): void {
    const t = this.readerTracks[index]
    if (t === undefined || t.waitKey || t.protocol === 'multicast') return
    if (t.protocol === 'tcp') {
      const socket = this.socket
      if (socket === undefined || socket.destroyed || socket.writableLength > this.host.maxReaderQueueBytes) return
      socket.write(encodeInterleaved(t.channels![1], packet))
    } else {
      this.host.udp?.sendTo('rtcp', packet, t.clientPorts![1], this.remoteAddress)
    }
  }

  sourceEnded(reason: string): void {
    this.host.sessionEnded(this, reason)
  }

  // ---- publisher ----

  /**
   * One RTP packet from the publisher. Video packets are gathered into access units
   * (until the marker bit, or a new timestamp for senders that never set it) so readers
   * get one write per unit and know where key frames start; others go out at once.
   */
  ingest(index: number, packet: Buffer): void {
    this.lastActivity = performance.now()
    this.stats.packetsReceived++
    this.stats.bytesReceived += packet.length
    const t = this.publisherTracks[index]
    if (t === undefined || this.state !== 'recording') return
    if (!parseRtpPacketInto(packet, scratch)) return
    if (t.probe === undefined) {
      this.stream.deliver(index, new Batch([packet], true), scratch.timestamp)
      return
    }
    if (t.pending.length > 0 && scratch.timestamp !== t.pendingTs) this.flush(index, t)
    t.pending.push(packet)
    t.pendingBytes += packet.length
    t.pendingTs = scratch.timestamp
    if (!t.pendingKey) t.pendingKey = t.probe(scratch.payload)
    if (scratch.marker || t.pending.length >= MAX_PENDING || t.pendingBytes >= MAX_PENDING_BYTES) this.flush(index, t)
  }

  private flush(index: number, t: PublisherTrack): void {
    const batch = new Batch(t.pending, t.pendingKey)
    t.pending = []
    t.pendingKey = false
    t.pendingBytes = 0
    this.stream.deliver(index, batch, t.pendingTs)
  }

  /** RTCP from the publisher: sender reports go on to the readers (same SSRC, same clock). */
  ingestRtcp(index: number, packet: Buffer): void {
    this.lastActivity = performance.now()
    if (this.state !== 'recording' || packet.length < 8 || packet[1] !== 200) return
    this.stream.deliverRtcp(index, packet)
  }

  summary(): string {
    const secs = ((performance.now() - this.startedAt) / 1000).toFixed(1)
    const s = this.stats
    if (this.protocol === 'multicast') return `after ${secs} s, reading its stream's multicast group`
    return this.role === 'reader'
      ? `after ${secs} s, ${s.packetsSent} packets sent, ${s.batchesDropped} skipped`
      : `after ${secs} s, ${s.packetsReceived} packets received`
  }
}
