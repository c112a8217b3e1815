/**
 * mediabunny as its single-file CommonJS bundle (its package's `require` entry for Node)
 * rather than its ESM entry: the ESM build is ~70 modules that Node resolves, reads, compiles
 * and links one by one, ~0.08 CPU-s of every `rtspkit push` (issue 14; bench/push.ts); the
 * bundle loads in ~0.02. Same version and API (the types come from the ESM declarations).
 * Only input/ uses it: nothing mediabunny creates here reaches output/'s muxers (frames are Buffers).
 */
import { createRequire } from 'node:module'

const mediabunny = createRequire(import.meta.url)('mediabunny') as typeof import('mediabunny')

export const { ALL_FORMATS, BufferSource, EncodedPacketSink, FilePathSource, Input } = mediabunny
export type { EncodedPacket, InputTrack } from 'mediabunny'
/** The class's instance type, beside the value above (a const carries no type of the same name). */
export type EncodedPacketSink = import('mediabunny').EncodedPacketSink
