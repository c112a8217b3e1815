export { Fmp4FileRecorder, type Fmp4FileRecorderOptions } from './fmp4-file-recorder.js'
export { movieFragment, type FragmentSampleOut, type TrackFragment } from './movie-fragment.js'
export { DecodeTimes } from './decode-times.js'
