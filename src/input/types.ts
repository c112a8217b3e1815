/** What a media file source hands out: its tracks and frames, in the terms the RTP side needs. */
import type { CodecDetails } from '../formats/types.js'

/** One elementary stream of a media file, in the terms the RTP side needs. */
export interface SourceTrack {
  type: 'video' | 'audio'
  codec: 'H264' | 'H265' | 'AAC' | 'OPUS' | (string & {})
  /** RTP clock: 90000 for video, the sample rate for AAC, 48000 for Opus. */
  clockRate: number
  /** sps/pps (and vps for H.265) without start codes, audioSpecificConfig, sampleRate, channels, codecString. */
  details: CodecDetails & { vps?: Buffer }
}

export interface SourceFrame {
  trackIndex: number
  /** Presentation time, seconds. */
  pts: number
  /** Decode time, seconds (never above pts; non-decreasing per track). */
  dts: number
  keyFrame: boolean
  /** H.264/H.265: NAL units without start codes or length prefixes. AAC/Opus: [raw frame]. */
  data: Buffer[]
}

export interface FileSource {
  tracks: SourceTrack[]
  /** Seconds from the first to the end of the last frame. */
  duration: number
  /** Frames of every track, merged in decode order; each call starts from the beginning. */
  frames(): AsyncIterable<SourceFrame>
  /**
   * The same frames, synchronously, for a file held in memory (demuxed once when opened):
   * fresh frame objects whose data are views of memory. Undefined for files read in chunks.
   */
  cachedFrames?(): Iterable<SourceFrame> | undefined
  close(): Promise<void>
}

export interface FileSourceOptions {
  /**
   * Files up to this size are read into memory once: samples are then views of that buffer
   * and every loop pass demuxes without a file read or a copy. Larger files are read in
   * chunks (mediabunny's FilePathSource, 8 MiB cache). Default 64 MiB.
   */
  inMemoryMaxBytes?: number
  /**
   * A plain (non-fragmented) MP4/MOV held in memory with only H.264 and AAC tracks is indexed
   * from its sample tables (input/mp4-index.ts) instead of demuxed with mediabunny: the same
   * frames, without loading mediabunny (`rtspkit push`; issue 14). Anything else is demuxed as
   * before. Default false.
   */
  mp4Index?: boolean
}

