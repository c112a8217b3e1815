/**
 * Recorders: access units in, a playable file or stream out. One interface for every
 * container; `createRecorder` picks the writer for the format.
 */
import { extname } from 'node:path'
import { InvalidArgumentError } from '../errors.js'
import { AnnexBRecorder } from './annexb-recorder.js'
import { MjpegRecorder } from './mjpeg-recorder.js'
import { AdtsRecorder } from './adts-recorder.js'

import type { OutputFormat, Recorder, RecorderOptions } from './types.js'

/** Create a recorder; for a path the file is opened (created or truncated) before this resolves. */
export async function createRecorder(opts: RecorderOptions): Promise<Recorder> {
  if (opts.maxTrackLag !== undefined && !(opts.maxTrackLag > 0)) {
    throw new InvalidArgumentError(`maxTrackLag must be a positive number of seconds, not ${opts.maxTrackLag}`)
  }
  switch (opts.format) {
    case 'mp4':
    case 'ts':
    case 'mov':
      // Loaded here: mediabunny (its bundle, util/mediabunny.ts) costs start-up time that a raw
      // H.264/AAC/MJPEG recording or a probe does not need (issue #14).
      return (await import('./mediabunny-recorder.js')).MediabunnyRecorder.create(opts)
    case 'aac':
      return AdtsRecorder.create(opts)
    case 'h264':
      return AnnexBRecorder.create(opts)
    case 'h265':
      return AnnexBRecorder.create(opts, 'h265')
    case 'mjpeg':
      return MjpegRecorder.create(opts)
    default:
      throw new InvalidArgumentError(`unknown output format "${String(opts.format)}"; use mp4, mov, ts, h264, h265, mjpeg or aac`)
  }
}

const FORMAT_BY_EXTENSION: Readonly<Record<string, OutputFormat>> = {
  '.mp4': 'mp4',
  '.m4v': 'mp4',
  '.fmp4': 'mp4',
  '.ts': 'ts',
  '.h264': 'h264',
  '.264': 'h264',
  '.h265': 'h265',
  '.265': 'h265',
  '.hevc': 'h265',
  '.mjpeg': 'mjpeg',
  '.mjpg': 'mjpeg',
  '.mov': 'mov',
  '.aac': 'aac',
  '.adts': 'aac',
}

/** The format a file name asks for (case-insensitive extension), or undefined. */
export function formatFromPath(path: string): OutputFormat | undefined {
  return FORMAT_BY_EXTENSION[extname(path).toLowerCase()]
}
