export { createRecorder, formatFromPath } from './recorder.js'
export type {
  OutputFormat,
  Recorder,
  RecorderDropCounts,
  RecorderFrame,
  RecorderOptions,
  RecorderTrack,
  SkippedTrack,
} from './types.js'
