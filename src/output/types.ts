/**
 * The recorder contract shared by createRecorder and every container writer. It lives
 * below both so that recorder.ts (which picks a writer) and the writers do not import
 * each other.
 */
import type { CodecDetails, CodecName } from '../formats/types.js'

/**
 * mp4: fragmented MP4; ts: MPEG-TS; h264 / h265: raw Annex B elementary stream (video only);
 * mjpeg: concatenated JPEG frames (video only); mov: fragmented QuickTime (also takes G.711);
 * aac: raw AAC with ADTS headers (one AAC or MP4A-LATM track).
 */
export type OutputFormat = 'mp4' | 'ts' | 'h264' | 'h265' | 'mjpeg' | 'mov' | 'aac'

export interface RecorderTrack {
  type: 'video' | 'audio'
  codec: CodecName
  clockRate: number
  /**
   * H.264: sps/pps (may stay undefined until in-band ones are seen), width/height, codecString.
   * AAC: audioSpecificConfig (or objectType + sampleRate + channels), sampleRate, channels.
   * Read when the track is configured (video: at its first key frame), so a session may fill it in late.
   */
  details: CodecDetails
}

export interface RecorderFrame {
  /** Index into the tracks given to createRecorder. */
  trackIndex: number
  /** Presentation time in seconds, >= 0, from the session's common origin (the same for every track). */
  pts: number
  keyFrame: boolean
  /** H.264: NAL units of one picture without start codes (may include SPS/PPS/SEI/AUD). AAC: [raw frame]. */
  data: Buffer[]
  /**
   * Called at most once, when the recorder no longer needs `data` (written out, or skipped),
   * so that the caller may reuse its buffers (`() => session.release(frame)`). Recorders that
   * keep the buffers never call it; then they are left to the garbage collector.
   */
  release?: () => void
}

/** A track the recorder does not write, and why. */
export interface SkippedTrack {
  trackIndex: number
  reason: string
}

/** Frames the recorder did not write, by cause. */
export interface RecorderDropCounts {
  /** Before the recording started (the first video key frame), or before the track's own first key frame. */
  beforeStart: number
  /** Timestamp not after the track's previous one (duplicates, reordering, clock steps), or a picture of such a GOP. */
  backwards: number
  /** Frames of skipped tracks, of tracks ended for lagging (see RecorderOptions.maxTrackLag), or with no data. */
  ignored: number
}

export interface Recorder {
  readonly format: OutputFormat
  /**
   * Write one access unit. Resolves when the sink can take more (backpressure). Calls are
   * serialized, but callers should await each one. Throws OutputError when the sink fails.
   */
  write(frame: RecorderFrame): Promise<void>
  /**
   * Flush and close: the output is a complete, playable file. A file sink is closed; a stream
   * sink (e.g. process.stdout) is drained and left open. Throws OutputError when nothing could
   * be recorded (no video key frame with parameter sets arrived) or the sink failed.
   */
  finalize(): Promise<void>
  /** Frames handed to the container. */
  readonly framesWritten: number
  /** Bytes handed to the sink. */
  readonly bytesWritten: number
  /** Tracks not written: a codec the container cannot hold, or a track ended for lagging. */
  readonly skippedTracks: readonly SkippedTrack[]
  readonly dropped: Readonly<RecorderDropCounts>
}

export interface RecorderOptions {
  format: OutputFormat
  tracks: readonly RecorderTrack[]
  /** A file path (created or truncated), or a writable stream that is left open (e.g. process.stdout). */
  sink: string | NodeJS.WritableStream
  /**
   * MP4/TS interleave tracks by time, so a track that stops (or never starts) sending makes the
   * muxer hold every other track in memory. A track whose newest frame is this many seconds
   * behind the newest frame of any track is ended and listed in skippedTracks. Default 10.
   */
  maxTrackLag?: number
}
