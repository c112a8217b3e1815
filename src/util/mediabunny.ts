/**
 * mediabunny as its single-file CommonJS bundle (its package's `require` entry for Node)
 * rather than its ESM entry: the ESM build is ~70 modules that Node resolves, reads, compiles
 * and links one by one, ~0.08 CPU-s of every start-up that opens a file or writes a container
 * (issue 14; bench/push.ts); the bundle loads in ~0.02. Same version and API (the types come
 * from the ESM declarations). The one way into mediabunny for input/ and output/, so a process
 * that reads a file and records loads it once.
 *
 * The bundle (1.5 MB) is compiled through a V8 code cache kept in the user's cache directory
 * (util/code-cache.ts): parsing it, and lazily compiling the demuxer's functions, was about
 * half of what `rtspkit push` spent before its first packet on Node 20 (issue 14).
 */
import { createRequire } from 'node:module'
import { loadCommonJs } from './code-cache.js'

const require = createRequire(import.meta.url)
const mediabunny = loadCommonJs(require, 'mediabunny') as typeof import('mediabunny')

export const {
  ALL_FORMATS,
  BufferSource,
  EncodedAudioPacketSource,
  EncodedPacket,
  EncodedPacketSink,
  EncodedVideoPacketSource,
  FilePathSource,
  Input,
  MovOutputFormat,
  Mp4OutputFormat,
  MpegTsOutputFormat,
  Output,
  StreamTarget,
} = mediabunny
export type { AudioCodec, InputTrack, StreamTargetChunk } from 'mediabunny'
// The instance types of the classes used as types, beside the values above (a const carries
// no type of the same name).
export type EncodedAudioPacketSource = import('mediabunny').EncodedAudioPacketSource
export type EncodedPacket = import('mediabunny').EncodedPacket
export type EncodedPacketSink = import('mediabunny').EncodedPacketSink
export type EncodedVideoPacketSource = import('mediabunny').EncodedVideoPacketSource
export type Output = import('mediabunny').Output
