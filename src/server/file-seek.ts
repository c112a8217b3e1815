/**
 * Seeking in a served file (RFC 2326 §12.29 Range on PLAY): where playback from an NPT
 * position starts (the key frame at or before it), and the file's frames from there on.
 */
import type { PaceSource, SourceFrame } from '../input/file-source.js'

/** Where a seek lands: the first video track's key frame at or before the position (audio-only: the frame at or before it). */
export interface SeekPoint {
  /** NPT of the key frame, seconds (answered in the PLAY reply's Range). */
  pts: number
  dts: number
  /** The track the point is on. */
  trackIndex: number
}

/** The seek point for `npt` seconds; past the end it is the last key frame. */
export async function findSeekPoint(source: PaceSource, gateTrack: number, npt: number): Promise<SeekPoint> {
  let point: SeekPoint | undefined
  for await (const f of frameList(source)) {
    if (f.trackIndex !== gateTrack || !f.keyFrame) continue
    if (point !== undefined && f.pts > npt) break
    point = { pts: f.pts, dts: f.dts, trackIndex: f.trackIndex }
  }
  return point ?? { pts: 0, dts: 0, trackIndex: gateTrack }
}

/**
 * The file's frames from `point` on, for one pass; later passes (a looping file) start from
 * the beginning. Frames of the gate track before the key frame in decode order are left
 * out, and other tracks' frames presented before it (audio starts with the picture).
 */
export function framesFrom(source: PaceSource, point: SeekPoint): PaceSource {
  let first = true
  const keep = (f: SourceFrame): boolean => (f.trackIndex === point.trackIndex ? f.dts >= point.dts : f.pts >= point.pts)
  const skipFirstPass = (): boolean => {
    const skip = first
    first = false
    return skip
  }
  return {
    duration: source.duration,
    frames: () => {
      const all = source.frames()
      if (!skipFirstPass()) return all
      return (async function* () {
        for await (const f of all) if (keep(f)) yield f
      })()
    },
    ...(source.cachedFrames !== undefined
      ? {
          cachedFrames: () => {
            const all = source.cachedFrames!()
            if (all === undefined) return undefined
            if (!skipFirstPass()) return all
            return (function* () {
              for (const f of all) if (keep(f)) yield f
            })()
          },
        }
      : {}),
  }
}

/** Every frame once, from memory when the file is held there. */
function frameList(source: PaceSource): AsyncIterable<SourceFrame> | Iterable<SourceFrame> {
  return source.cachedFrames?.() ?? source.frames()
}
