// The pull session's common timeline: where each track's access units land in pts, from
// the PLAY reply's RTP-Info, the tracks' RTCP sender reports, or arrival. Pure (times come
// in as arguments), fed by the track receivers; the session hands its frames out.
import type { Frame, Track } from './track.js'
import type { AccessUnit } from '../formats/types.js'
import type { RtpInfoEntry } from '../rtsp/headers/rtp-info.js'
import { TimestampUnwrapper } from '../rtp/timestamp-unwrapper.js'

/**
 * Where the common timeline comes from: the PLAY reply's RTP-Info (every track), the arrival
 * of each track's first unit, or RTCP sender reports of every track (once they arrived).
 */
export type ClockSource = 'rtp-info' | 'arrival' | 'sender-reports'

/** Longest stretch of one track's media (seconds of RTP time) held for a common timeline (Timeline.held). */
const HOLD_MAX_S = 0.5

export interface TimelineSink {
  /** One unit placed on the timeline. */
  frame(frame: Frame): void
  /** A track's RTP clock jumped, or a seek moved NPT by `jumpS`; the timeline stays continuous. */
  discontinuity(track: Track, jumpS: number): void
}

/** How far apart units with the same RTP timestamp are placed (0.1 ms: 9 ticks of a 90 kHz clock). */
const REPEAT_STEP_S = 0.0001

/** One track's clock on the timeline. */
class TrackClock {
  readonly unwrapper = new TimestampUnwrapper()
  base: number | undefined
  offset = 0
  /** RTP-Info rtptime (RFC 2326 §12.33) when the PLAY reply gave one. */
  rtpInfoTime: number | undefined
  /** Timeline position of rtpInfoTime: 0 for the first PLAY, past the last frame after a seek. */
  rtpInfoPts = 0
  framesReceived = 0
  /** Last unit's extended timestamp and arrival, for discontinuity detection. */
  lastExt = 0
  lastArrival = 0
  lastPts = 0
  /** The last unit's pts (lastPts is the largest: B-frames go back). */
  prevPts = 0
  /** Latest sender report: its wall clock and the RTP time of the same instant. */
  srUnixMs: number | undefined
  srRtpTime = 0
  /** The track's timeline follows the sender-report mapping of the reference track. */
  srSynced = false
  /** RTP timestamp of the track's first held unit (Timeline.held). */
  heldFirstTs: number | undefined
  constructor(readonly track: Track) {}
}

interface HeldUnit {
  c: TrackClock
  au: AccessUnit
  now: number
}

/** The RTP-Info entry of a track (RFC 2326 §12.33): its url is the track's control URL, or ends like it. */
export function rtpInfoFor(entries: readonly RtpInfoEntry[], control: string): RtpInfoEntry | undefined {
  return entries.find((e) => e.url === control || control.endsWith(e.url) || e.url.endsWith(control.slice(control.lastIndexOf('/') + 1)))
}

export class Timeline {
  /** How the tracks' timelines are aligned; 'arrival' turns into 'sender-reports' once every track has sent one. */
  clockSource: ClockSource = 'arrival'
  /** Timeline origin (performance.now()): media may arrive before the PLAY reply (Reolink, v4l2rtspserver). */
  startedAt = 0
  readonly clocks: TrackClock[] = []
  /** The track whose timeline the others are aligned to by sender reports. */
  private syncRef: TrackClock | undefined
  /**
   * Units held, in arrival order, while the tracks' common timeline is unknown: before the
   * PLAY reply, and after a reply without RTP-Info for every track (RFC 2326 §12.33) until
   * every track's first sender report (RFC 3550 §6.4.1) is in. Over UDP a track's first RTP
   * packets and its SR come on two sockets and are read in either order: placing units by
   * arrival and moving the track when its SR follows would step its timeline. A server that
   * sends no SR costs at most HOLD_MAX_S of media (measured in RTP time, so a busy machine
   * changes nothing), then units are placed by arrival as before. Undefined once released.
   */
  private held: HeldUnit[] | undefined = []
  /**
   * Units held while a PLAY after the first is answered (holdForReplay): GStreamer writes the
   * new segment's first packets before its reply, on RTP times of the old one. The reply's
   * RTP-Info rtptime (RFC 2326 §12.33) tells the two apart (replay). Undefined otherwise.
   */
  private replayHeld: HeldUnit[] | undefined

  constructor(
    private readonly sink: TimelineSink,
    private readonly opts: { maxJumpS: number; maxHeld: number },
  ) {}

  /** A track set up; its index is its position among the tracks. */
  add(track: Track): void {
    this.clocks.push(new TrackClock(track))
  }

  /** Units placed on the timeline for track `index`. */
  framesReceived(index: number): number {
    return this.clocks[index]?.framesReceived ?? 0
  }

  /** The end of the timeline so far: the latest pts of any track. */
  end(): number {
    let end = 0
    for (const c of this.clocks) if (c.lastPts > end) end = c.lastPts
    return end
  }

  /** Stop holding units (the session ended). */
  dispose(): void {
    this.held = undefined
  }

  /** The first PLAY reply's RTP-Info; `early` are frames placed but not yet handed out. */
  applyRtpInfo(entries: readonly RtpInfoEntry[], early: readonly Frame[] | undefined): void {
    for (const c of this.clocks) {
      const match = rtpInfoFor(entries, c.track.control)
      if (match?.rtptime !== undefined) c.rtpInfoTime = match.rtptime
    }
    if (!this.clocks.every((c) => c.rtpInfoTime !== undefined)) return
    this.clockSource = 'rtp-info'
    this.releaseHeld()
    // Units that came before the reply (UDP packets overtaking it) were timed by arrival:
    // re-base them on rtptime; they are still held, so their pts can be corrected.
    for (const c of this.clocks) {
      if (c.base === undefined || c.rtpInfoTime === undefined) continue
      c.base = c.lastExt - ((c.lastExt - c.rtpInfoTime) | 0) // signed 32-bit distance
      c.offset = 0
      c.srSynced = false
      c.lastPts = 0
      for (const f of early ?? []) {
        if (f.track !== c.track) continue
        f.pts = (f.timestamp - c.base) / c.track.clockRate
        if (f.pts > c.lastPts) c.lastPts = f.pts
      }
    }
  }

  /**
   * A PLAY after the first: every track starts again just past the timeline's end, at its
   * RTP-Info rtptime (else at its first unit). A seek says how far NPT moved (`jumpS`).
   */
  replay(entries: readonly RtpInfoEntry[], seek: boolean, jumpS: number): void {
    const held = this.replayHeld
    this.replayHeld = undefined
    const after: HeldUnit[] = []
    const started = new Set<TrackClock>()
    for (const h of held ?? []) {
      // The new segment starts at the unit whose RTP time is the track's rtptime (its first
      // packet's); what came before it is the old segment (same or lower RTP times on a restarted clock).
      if (!started.has(h.c) && h.au.rtpTimestamp === rtpInfoFor(entries, h.c.track.control)?.rtptime) started.add(h.c)
      if (started.has(h.c)) after.push(h)
      else this.place(h.c, h.au, h.now)
    }
    // A resume is placed the same way, just past the end (the pause leaves no gap): GStreamer
    // may resume a file media from an earlier point, rtspkit's server restarts its RTP clock.
    const resumeAt = this.end() + 0.001
    for (const c of this.clocks) {
      // Without an rtptime the track's first unit after the reply lands at resumeAt (no RTP-Info branch of place()).
      c.rtpInfoTime = rtpInfoFor(entries, c.track.control)?.rtptime ?? Number.NaN
      c.rtpInfoPts = resumeAt
      c.base = undefined
      c.srUnixMs = undefined
      c.srSynced = false
      if (seek && c.framesReceived > 0) this.sink.discontinuity(c.track, jumpS)
    }
    for (const h of after) this.place(h.c, h.au, h.now)
  }

  /** A PLAY after the first was sent: hold the units that come until replay() or cancelReplay(). */
  holdForReplay(): void {
    if (this.held === undefined) this.replayHeld ??= []
  }

  /** The PLAY failed: the held units belong to the stream as it was. */
  cancelReplay(): void {
    const held = this.replayHeld
    this.replayHeld = undefined
    for (const h of held ?? []) this.place(h.c, h.au, h.now)
  }

  /** One access unit of track `index`, arrived at `now`. */
  unit(index: number, au: AccessUnit, now: number): void {
    const c = this.clocks[index]!
    const replayHeld = this.replayHeld
    if (replayHeld !== undefined) {
      replayHeld.push({ c, au, now })
      // A reply that never comes costs a bounded wait: the units go out on the old timeline.
      if (replayHeld.length >= this.opts.maxHeld) this.cancelReplay()
      return
    }
    const held = this.held
    if (held === undefined) return this.place(c, au, now)
    if (held.length === 0 || c.heldFirstTs === undefined) c.heldFirstTs = au.rtpTimestamp
    held.push({ c, au, now })
    const spanS = ((au.rtpTimestamp - c.heldFirstTs) | 0) / c.track.clockRate // signed 32-bit distance
    if (spanS >= HOLD_MAX_S || held.length >= this.opts.maxHeld) this.releaseHeld()
  }

  /** Place the held units on the timeline chosen now (RTP-Info, sender reports, else arrival), in order. */
  releaseHeld(): void {
    const held = this.held
    if (held === undefined) return
    this.held = undefined
    const ref = this.syncRef
    if (this.clockSource === 'sender-reports' && ref !== undefined && ref.base === undefined) {
      // The reference track starts by its first unit's arrival; the others follow its SR mapping.
      const first = held.find((h) => h.c === ref)
      if (first !== undefined) {
        ref.base = ref.lastExt = ref.unwrapper.unwrap(first.au.rtpTimestamp)
        ref.offset = (first.now - this.startedAt) / 1000
      }
    }
    for (let i = 0; i < held.length; i++) {
      const h = held[i]!
      h.c.heldFirstTs = undefined
      this.place(h.c, h.au, h.now)
    }
  }

  private place(c: TrackClock, au: AccessUnit, now: number): void {
    const track = c.track
    const ext = c.unwrapper.unwrap(au.rtpTimestamp)
    if (c.base === undefined) {
      if (c.rtpInfoTime !== undefined) {
        // RTP-Info maps each track's rtptime to the same PLAY start: tracks stay in sync.
        const d = (au.rtpTimestamp - c.rtpInfoTime) | 0 // signed 32-bit distance
        c.base = ext - d
        // After a seek or resume, a first unit from before rtptime still lands past the old end.
        c.offset = d < 0 && c.rtpInfoPts > 0 ? c.rtpInfoPts - d / track.clockRate : c.rtpInfoPts
      } else {
        const m = this.clockSource === 'sender-reports' ? this.referenceMapping(c, ext) : undefined
        if (m !== undefined) {
          c.base = m.base
          c.offset = m.offset
          c.srSynced = true
        } else {
          // No RTP-Info: align the track's first unit with its arrival time (until sender reports say better).
          c.base = ext
          c.offset = (now - this.startedAt) / 1000
        }
      }
    } else if (c.framesReceived > 0) {
      // A jump of the RTP clock that wall-clock time does not match (camera restart, a
      // server switching sources): keep the timeline continuous instead of leaving a gap of
      // hours in recordings, and say so.
      const jumpS = (ext - c.lastExt) / track.clockRate
      const wallS = (now - c.lastArrival) / 1000
      if (Math.abs(jumpS - wallS) > this.opts.maxJumpS) {
        c.base = ext
        c.offset = c.lastPts + Math.max(wallS, 0.001)
        // The last SR's NTP ↔ RTP pairing belongs to the old clock: wait for the next one.
        c.srUnixMs = undefined
        c.srSynced = false
        this.sink.discontinuity(track, jumpS)
      }
    }
    // Two units with one RTP time (GStreamer after a rate change: the pictures from the key
    // frame to the position it restarts at, all at the segment's start) cannot share a pts in
    // a recording: each comes REPEAT_STEP_S after the one before.
    const repeated = c.framesReceived > 0 && ext === c.lastExt
    c.lastExt = ext
    c.lastArrival = now
    c.framesReceived++
    const pts = repeated ? c.prevPts + REPEAT_STEP_S : c.offset + (ext - c.base) / track.clockRate
    c.prevPts = pts
    if (pts > c.lastPts) c.lastPts = pts
    this.sink.frame({
      track,
      timestamp: ext,
      pts,
      keyFrame: au.keyFrame,
      data: au.data,
      // RFC 3550 §6.4.1: the SR pairs an NTP instant with an RTP time; signed 32-bit distance from it.
      captureTime: c.srUnixMs === undefined ? undefined : c.srUnixMs + (((au.rtpTimestamp - c.srRtpTime) | 0) * 1000) / track.clockRate,
    })
  }

  /** An RTCP sender report of track `index` (RFC 3550 §6.4.1). */
  senderReport(index: number, unixMs: number, rtpTimestamp: number): void {
    const c = this.clocks[index]!
    c.srUnixMs = unixMs
    c.srRtpTime = rtpTimestamp
    if (this.clockSource !== 'rtp-info') this.syncFromSenderReports(c)
  }

  /**
   * Without RTP-Info, tracks start aligned by the arrival of their first unit, which is off by
   * whatever the camera delays one medium against another (audio encoders often lag video by
   * hundreds of ms). An SR pairs an NTP wall-clock instant with the RTP time of the same
   * instant (RFC 3550 §6.4.1), so once every track has sent one, each track is re-based so
   * that units captured at the same instant get the same pts, as FFmpeg's RTSP demuxer does
   * with its first RTCP NTP time. The reference (the first video track with units) keeps its
   * timeline; another track moves once, and again only after a discontinuity of its clock.
   * Such a move is one step of the track's pts (backwards or forwards); the recorders' common
   * timeline drops what would go backwards. Clock drift between SRs is not followed.
   */
  private syncFromSenderReports(c: TrackClock): void {
    if (this.clockSource === 'arrival') {
      if (this.clocks.some((r) => r.srUnixMs === undefined)) return
      const held = this.held
      if (held !== undefined) {
        // Nothing placed yet: the first video track with held units is the reference.
        const holders = this.clocks.filter((r) => held.some((h) => h.c === r))
        const ref = holders.find((r) => r.track.type === 'video') ?? holders[0]
        if (ref === undefined) return
        this.syncRef = ref
        ref.srSynced = true
        this.clockSource = 'sender-reports'
        this.releaseHeld()
        return
      }
      const started = this.clocks.filter((r) => r.base !== undefined)
      const ref = started.find((r) => r.track.type === 'video') ?? started[0]
      if (ref === undefined) return
      this.syncRef = ref
      ref.srSynced = true
      this.clockSource = 'sender-reports'
      // Tracks without units yet are aligned at their first unit.
      for (const r of started) if (r !== ref) this.alignToReference(r)
    } else if (c === this.syncRef) {
      c.srSynced = true
    } else if (!c.srSynced && c.base !== undefined) {
      this.alignToReference(c)
    }
  }

  private alignToReference(c: TrackClock): void {
    const m = this.referenceMapping(c, c.lastExt)
    if (m === undefined) return
    c.base = m.base
    c.offset = m.offset
    c.srSynced = true
  }

  /**
   * The base and offset that put a track's latest SR instant at the reference's pts for the
   * same wall-clock instant, so that every unit of it lands on the reference's timeline.
   * `nearExt` is an extended timestamp of this track near the SR's (to extend its 32-bit RTP
   * time). Undefined while either track lacks a current SR.
   */
  private referenceMapping(c: TrackClock, nearExt: number): { base: number; offset: number } | undefined {
    const ref = this.syncRef
    if (ref === undefined || ref.srUnixMs === undefined || ref.base === undefined || c.srUnixMs === undefined) return undefined
    // Signed 32-bit distances (`| 0` wraps modulo 2^32) extend both SRs' RTP times.
    const refSrExt = ref.lastExt + ((ref.srRtpTime - ref.lastExt) | 0)
    return {
      base: nearExt + ((c.srRtpTime - nearExt) | 0),
      offset: ref.offset + (refSrExt - ref.base) / ref.track.clockRate + (c.srUnixMs - ref.srUnixMs) / 1000,
    }
  }
}
