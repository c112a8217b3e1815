// The format entry (SDP match, depacketizer) lives in format.ts, which the receive path
// imports without the packetizer (issue #14: fewer modules at start-up).
export * from './format.js'
export { OpusPacketizer, type OpusPacketizerOptions } from './packetizer.js'
