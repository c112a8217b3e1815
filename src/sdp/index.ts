export { parseSdp, parseRtpMap, parseFmtpParams, rtpMapFor } from './parse.js'
export { writeSdp } from './write.js'
export type { SdpMediaInput, SdpSessionInput } from './write.js'
export type { MediaDescription, RtpMap, SessionDescription } from './types.js'
