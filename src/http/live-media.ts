/**
 * The seam between a served path and its browser viewers (MSE over WebSocket, live `.mp4`,
 * WHEP, snapshots): access units of every track, depacketized once per path and shared by
 * every viewer. Types only; the producer lives in `http/`, consumers in `http/` and `webrtc/`.
 */
import type { CodecDetails, CodecName } from '../formats/types.js'

/** One track of a live path, as a viewer needs it. */
export interface LiveTrack {
  /** Position among the path's tracks (0-based); `LiveFrame.track` refers to it. */
  index: number
  /** SDP media type: 'video' | 'audio' | ... */
  type: string
  /** Upper-case codec name as the formats registry gives it: 'H264', 'H265', 'AAC', 'OPUS', 'PCMA', 'PCMU', 'JPEG', ... */
  codec: CodecName
  clockRate: number
  channels?: number
  /** Codec details (SPS/PPS, size, AudioSpecificConfig, ...) from the SDP, then in-band. */
  details: CodecDetails
  /** fmtp parameters of the payload type (keys lower-cased). */
  fmtp: Record<string, string>
}

/** One access unit of one track. Buffers may be shared between viewers: never mutate them. */
export interface LiveFrame {
  /** `LiveTrack.index`. */
  track: number
  /** RTP timestamp extended past the 32-bit wrap, in ticks of the track's clock rate. */
  timestamp: number
  /** Seconds on the path's common timeline (all tracks share the origin). */
  pts: number
  /** Video: a random access point (IDR / IRAP / JPEG). Audio: always true. */
  keyFrame: boolean
  /** H.264/H.265: NAL units without start codes; AAC: [raw frame]; G.711/Opus: [payload]; JPEG: [JFIF image]. */
  data: Buffer[]
  /** Video: seconds since the track's previous frame (a live frame's own duration is not known yet). */
  duration?: number
}

/** Receives a path's frames. Called synchronously from the path's fan-out: never block. */
export interface LiveViewer {
  frame(frame: LiveFrame): void
  /** The track list or a track's details changed (resolution change, late SPS). */
  tracksChanged?(): void
  /** The path ended (source gone, server closing); `err` says why when it was not a close. */
  end?(err?: Error): void
}

/** One served path as browser viewers see it. */
export interface LiveMedia {
  readonly path: string
  /** Tracks known now; details may fill in later (then `tracksChanged`). */
  tracks(): readonly LiveTrack[]
  /**
   * Starts delivering frames: first the GOP cache (from the last key frame), then live.
   * Returns the function that stops delivery. Opens the upstream on demand.
   */
  subscribe(viewer: LiveViewer): () => void
}
