export { createSegmentedRecorder, SegmentedRecorder, RecordingWriteError } from './segmented-recorder.js'
export type { GapInfo, RecordFs, SegmentInfo, SegmentedRecorderEvents, SegmentedRecorderOptions, WallClockSource } from './segmented-recorder.js'
export { formatName } from './strftime.js'
export { parseDuration, parseSize } from './units.js'
