export { LiveFmp4Muxer, type MuxFrameInput, type MuxTrackInput } from './muxer.js'
export { initSegment, type LiveFmp4Track } from './init.js'
export { fragment, type FragmentSample } from './fragment.js'
export { ALAW_TO_PCM, ULAW_TO_PCM, g711ToFlacFrame } from './flac.js'
