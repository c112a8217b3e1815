// PLAY after the first, and what PLAY replies say: PAUSE and resume (RFC 2326 §10.5, §10.6),
// seeks (Range, §12.29), rate changes (Scale §12.34, Speed §12.35), and the media position
// read from the replies' Range. The pull session owns the connection and the timeline; this
// file decides what each reply does to the timeline.
import { InvalidArgumentError, StatusError, UnsupportedError } from '../errors.js'
import type { RangeHeader } from '../rtsp/headers/range.js'
import type { RtspResponse } from '../rtsp/message.js'
import type { PlayRange } from './options.js'
import { playRangeHeader, rangeOf, rateOf, rtpInfoOf } from './play-headers.js'
import type { Timeline } from './timeline.js'

/** NPT a Scale/Speed change may move the position by (the key frame the server restarts at) before it counts as a seek. */
const MAX_TRICK_SLIP_S = 1

/** What playback needs from its pull session. */
export interface PlaybackHost {
  readonly timeline: Timeline
  /** Headers on every PLAY (ONVIF Require / Rate-Control / Immediate). */
  readonly playHeaders: Record<string, string>
  state(): string
  assertState(action: string, allowed: Array<'playing' | 'paused'>): void
  request(method: 'PLAY' | 'PAUSE', headers?: Record<string, string>): Promise<unknown>
  /** PAUSE answered. */
  paused(): void
  /** A PLAY after PAUSE answered: media flows again. */
  resumed(): void
  /** The first PLAY's reply (its RTP-Info places every track on the timeline). */
  first(res: RtspResponse): void
}

export class Playback {
  /** A PLAY after the first is on its way: its reply moves the timeline on (seek), changes the rate (trick) or resumes. */
  private pending: { seek: boolean; trick: boolean } | undefined
  /** Scale and Speed of the last PLAY reply. */
  private rates: { scale: number | undefined; speed: number | undefined } = { scale: undefined, speed: undefined }
  /** The Range of the last PLAY reply, and the timeline position it began at. */
  private rangeAt: { range: RangeHeader | undefined; pts: number } | undefined

  constructor(private readonly host: PlaybackHost) {}

  get scale(): number | undefined {
    return this.rates.scale
  }

  get speed(): number | undefined {
    return this.rates.speed
  }

  /** A 2xx PLAY reply, read before the media written with it. */
  reply(res: RtspResponse): void {
    if (this.pending !== undefined) this.replayed(res, this.pending)
    else this.host.first(res)
    this.rates = { scale: rateOf(res, 'Scale'), speed: rateOf(res, 'Speed') }
    // The reply's Range starts where the timeline stands now (the first PLAY: at 0).
    this.rangeAt = { range: rangeOf(res), pts: this.pending !== undefined ? this.host.timeline.end() : 0 }
  }

  /** The last PLAY reply's Range start (RFC 2326 §12.29) moved on by the media received since. */
  position(unit: 'npt' | 'clock'): number | undefined {
    const at = this.rangeAt
    const start = at?.range?.unit === unit && typeof at.range.start === 'number' ? at.range.start : undefined
    if (at === undefined || start === undefined) return undefined
    // §12.34, §12.35: at Scale s and Speed v the media position moves s·v times as fast as the
    // stream's RTP time (backwards when negative): GStreamer's RTP time follows its pipeline's
    // running time, so at rate 2 a second of RTP time carries two seconds of the file.
    const rate = (this.rates.scale ?? 1) * (this.rates.speed ?? 1)
    return start + rate * Math.max(0, this.host.timeline.end() - at.pts)
  }

  async pause(): Promise<void> {
    this.host.assertState('pause', ['playing'])
    await this.host.request('PAUSE')
    this.host.paused()
  }

  async play(options: { range?: PlayRange; scale?: number; speed?: number }): Promise<void> {
    const host = this.host
    host.assertState('play', ['playing', 'paused'])
    const headers: Record<string, string> = { ...host.playHeaders }
    if (options.range !== undefined) headers.Range = playRangeHeader(options.range)
    const rates: string[] = []
    for (const [name, v] of [['Scale', options.scale], ['Speed', options.speed]] as const) {
      if (v === undefined) continue
      if (!Number.isFinite(v) || v === 0 || (name === 'Speed' && v < 0)) {
        throw new InvalidArgumentError(`play(): ${name.toLowerCase()} must be a finite number${name === 'Speed' ? ' above 0' : ' other than 0'}, not ${v}`)
      }
      headers[name] = String(v)
      rates.push(`${name}: ${v}`)
    }
    // A seek (a Range, or any other PLAY while playing, §10.5): the server restarts elsewhere.
    // A rate change alone (Scale, Speed) is a discontinuity only if the media position jumps.
    const trick = options.range === undefined && rates.length > 0
    this.pending = { seek: options.range !== undefined || (host.state() === 'playing' && !trick), trick }
    // Media that comes before the reply waits for its RTP-Info (GStreamer writes the new segment first).
    host.timeline.holdForReplay()
    try {
      await host.request('PLAY', headers)
    } catch (err) {
      // 456 Header Field Not Valid for Resource (§11.3.14), 457 Invalid Range, 501: the
      // server cannot play this media at that rate.
      if (trick && err instanceof StatusError && (err.status === 456 || err.status === 457 || err.status === 501)) {
        throw new UnsupportedError(`the server refused ${rates.join(', ')} (${err.status}); it cannot play this media at another rate: play at the normal rate or seek with a range instead`)
      }
      throw err
    } finally {
      this.pending = undefined
      // No-op after the reply was applied (replayed); else the held units go out as they were.
      host.timeline.cancelReplay()
    }
  }

  /**
   * The reply to a PLAY after the first. Resume: media flows again. Seek: every track starts
   * again just past the timeline's end, at its RTP-Info rtptime (else at its first unit),
   * and a 'discontinuity' says how far NPT moved.
   */
  private replayed(res: RtspResponse, { seek, trick }: { seek: boolean; trick: boolean }): void {
    const before = this.position('npt')
    this.host.resumed()
    const range = rangeOf(res)
    const jump = before !== undefined && range?.unit === 'npt' && typeof range.start === 'number' ? range.start - before : 0
    // A rate change restarts the stream where it was: a jump of more than a few frames is a seek.
    this.host.timeline.replay(rtpInfoOf(res) ?? [], seek || (trick && Math.abs(jump) > MAX_TRICK_SLIP_S), jump)
  }
}
