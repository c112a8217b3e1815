/**
 * The init segment of a live fragmented MP4 (ISO/IEC 14496-12 §8.8): `ftyp` + `moov` with
 * empty sample tables and an `mvex`/`trex` per track, so that every sample comes in movie
 * fragments. One sample entry per track: avc1 (avcC), hvc1 (hvcC), mp4a (esds), Opus (dOps),
 * fLaC (dfLa).
 */
import { box, fourcc, fullBox, u16, u32, u8, UNITY_MATRIX, zeros } from './boxes.js'

interface TrackBase {
  /** track_ID (1-based, unique in the movie). */
  id: number
  /** Ticks per second of the track's decode times and durations. */
  timescale: number
}

export type LiveFmp4Track =
  | (TrackBase & { codec: 'avc1'; width: number; height: number; /** AVCDecoderConfigurationRecord. */ config: Buffer })
  | (TrackBase & { codec: 'hvc1'; width: number; height: number; /** HEVCDecoderConfigurationRecord. */ config: Buffer })
  | (TrackBase & { codec: 'mp4a'; sampleRate: number; channels: number; /** AudioSpecificConfig. */ config: Buffer })
  | (TrackBase & { codec: 'Opus'; channels: number; preSkip?: number })
  | (TrackBase & { codec: 'fLaC'; sampleRate: number; channels: number; bitsPerSample: number })

export function isVideo(t: LiveFmp4Track): t is Extract<LiveFmp4Track, { codec: 'avc1' | 'hvc1' }> {
  return t.codec === 'avc1' || t.codec === 'hvc1'
}

/** `ftyp` + `moov` for `tracks`. */
export function initSegment(tracks: readonly LiveFmp4Track[]): Buffer {
  return Buffer.concat([ftyp(), moov(tracks)])
}

function ftyp(): Buffer {
  return box(
    'ftyp',
    fourcc('isom'), // major_brand
    u32(0x200), // minor_version
    fourcc('isom'), // compatible_brands: ISO base media
    fourcc('iso6'), // movie fragments with tfdt
    fourcc('mp41'),
  )
}

function moov(tracks: readonly LiveFmp4Track[]): Buffer {
  const nextId = tracks.reduce((m, t) => Math.max(m, t.id), 0) + 1
  return box('moov', mvhd(nextId), ...tracks.map(trak), box('mvex', ...tracks.map(trex)))
}

/** §8.2.2 movie header, version 0. */
function mvhd(nextTrackId: number): Buffer {
  return fullBox(
    'mvhd', 0, 0,
    u32(0), // creation_time
    u32(0), // modification_time
    u32(1000), // timescale
    u32(0), // duration: unknown (live)
    u32(0x00010000), // rate 1.0
    u16(0x0100), // volume 1.0
    zeros(10), // reserved
    UNITY_MATRIX, // matrix
    zeros(24), // pre_defined
    u32(nextTrackId), // next_track_ID
  )
}

function trak(t: LiveFmp4Track): Buffer {
  return box('trak', tkhd(t), mdia(t))
}

/** §8.3.2 track header, version 0, flags track_enabled | track_in_movie. */
function tkhd(t: LiveFmp4Track): Buffer {
  const video = isVideo(t)
  return fullBox(
    'tkhd', 0, 3,
    u32(0), // creation_time
    u32(0), // modification_time
    u32(t.id), // track_ID
    u32(0), // reserved
    u32(0), // duration: unknown
    zeros(8), // reserved
    u16(0), // layer
    u16(0), // alternate_group
    u16(video ? 0 : 0x0100), // volume: 1.0 for audio
    u16(0), // reserved
    UNITY_MATRIX, // matrix
    u32(video ? t.width << 16 : 0), // width, 16.16
    u32(video ? t.height << 16 : 0), // height, 16.16
  )
}

function mdia(t: LiveFmp4Track): Buffer {
  const video = isVideo(t)
  return box(
    'mdia',
    fullBox(
      'mdhd', 0, 0,
      u32(0), // creation_time
      u32(0), // modification_time
      u32(t.timescale), // timescale
      u32(0), // duration: unknown
      u16(0x55c4), // language: 'und' (ISO 639-2/T, 5 bits per letter)
      u16(0), // pre_defined
    ),
    fullBox(
      'hdlr', 0, 0,
      u32(0), // pre_defined
      fourcc(video ? 'vide' : 'soun'), // handler_type
      zeros(12), // reserved
      Buffer.from(video ? 'VideoHandler\0' : 'SoundHandler\0', 'latin1'), // name
    ),
    box(
      'minf',
      video
        ? fullBox('vmhd', 0, 1, u16(0), zeros(6)) // graphicsmode copy, opcolor
        : fullBox('smhd', 0, 0, u16(0), u16(0)), // balance, reserved
      box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))), // one entry: media in this file
      box(
        'stbl',
        fullBox('stsd', 0, 0, u32(1), sampleEntry(t)),
        fullBox('stts', 0, 0, u32(0)), // no samples outside fragments
        fullBox('stsc', 0, 0, u32(0)),
        fullBox('stsz', 0, 0, u32(0), u32(0)), // sample_size, sample_count
        fullBox('stco', 0, 0, u32(0)),
      ),
    ),
  )
}

function sampleEntry(t: LiveFmp4Track): Buffer {
  switch (t.codec) {
    case 'avc1':
      return visualEntry('avc1', t.width, t.height, box('avcC', t.config))
    case 'hvc1':
      return visualEntry('hvc1', t.width, t.height, box('hvcC', t.config))
    case 'mp4a':
      return audioEntry('mp4a', t.channels, t.sampleRate, esds(t.config))
    case 'Opus':
      return audioEntry('Opus', t.channels, 48000, dOps(t.channels, t.preSkip ?? 0))
    case 'fLaC':
      return audioEntry('fLaC', t.channels, t.sampleRate, dfLa(t.sampleRate, t.channels, t.bitsPerSample))
  }
}

/** §12.1.3 VisualSampleEntry. */
function visualEntry(type: string, width: number, height: number, config: Buffer): Buffer {
  return box(
    type,
    zeros(6), // reserved
    u16(1), // data_reference_index
    u16(0), // pre_defined
    u16(0), // reserved
    zeros(12), // pre_defined
    u16(width), // width
    u16(height), // height
    u32(0x00480000), // horizresolution 72 dpi
    u32(0x00480000), // vertresolution 72 dpi
    u32(0), // reserved
    u16(1), // frame_count
    zeros(32), // compressorname
    u16(0x0018), // depth
    u16(0xffff), // pre_defined -1
    config,
  )
}

/** §12.2.3 AudioSampleEntry (version 0). */
function audioEntry(type: string, channels: number, sampleRate: number, config: Buffer): Buffer {
  return box(
    type,
    zeros(6), // reserved
    u16(1), // data_reference_index
    zeros(8), // reserved
    u16(channels), // channelcount
    u16(16), // samplesize
    u16(0), // pre_defined
    u16(0), // reserved
    u32(sampleRate < 0x10000 ? sampleRate << 16 : 0), // samplerate, 16.16
    config,
  )
}

/** An MPEG-4 descriptor (ISO/IEC 14496-1 §8.3.3): tag, expandable size, payload. */
function descriptor(tag: number, ...parts: Buffer[]): Buffer {
  const payload = Buffer.concat(parts)
  const n = payload.length
  // Size in four 7-bit groups with the continuation bit, the form every muxer writes.
  const size = Buffer.from([0x80 | ((n >> 21) & 0x7f), 0x80 | ((n >> 14) & 0x7f), 0x80 | ((n >> 7) & 0x7f), n & 0x7f])
  return Buffer.concat([u8(tag), size, payload])
}

/** ISO/IEC 14496-14 §5.6 'esds': ES_Descriptor > DecoderConfigDescriptor > DecoderSpecificInfo. */
function esds(asc: Buffer): Buffer {
  return fullBox(
    'esds', 0, 0,
    descriptor(
      0x03, // ES_DescrTag
      u16(0), // ES_ID
      u8(0), // streamDependenceFlag, URL_Flag, OCRstreamFlag, streamPriority
      descriptor(
        0x04, // DecoderConfigDescrTag
        u8(0x40), // objectTypeIndication: Audio ISO/IEC 14496-3
        u8((0x05 << 2) | 1), // streamType audio, upStream 0, reserved 1
        Buffer.from([0, 0, 0]), // bufferSizeDB
        u32(0), // maxBitrate
        u32(0), // avgBitrate
        descriptor(0x05, asc), // DecSpecificInfoTag: AudioSpecificConfig
      ),
      descriptor(0x06, u8(2)), // SLConfigDescrTag: predefined 2 (MP4)
    ),
  )
}

/** Opus in ISOBMFF §4.3.2 'dOps' (big-endian, unlike OpusHead). */
function dOps(channels: number, preSkip: number): Buffer {
  const b = Buffer.alloc(11)
  b[0] = 0 // Version
  b[1] = channels // OutputChannelCount
  b.writeUInt16BE(preSkip, 2) // PreSkip
  b.writeUInt32BE(48000, 4) // InputSampleRate
  b.writeInt16BE(0, 8) // OutputGain
  b[10] = 0 // ChannelMappingFamily: mono/stereo
  return box('dOps', b)
}

/**
 * FLAC in ISOBMFF §3.3.2 'dfLa': the STREAMINFO metadata block (FLAC format §8.2), marked last.
 * Block sizes vary with the source's packets (variable-blocksize stream).
 */
function dfLa(sampleRate: number, channels: number, bitsPerSample: number): Buffer {
  const info = Buffer.alloc(4 + 34)
  info[0] = 0x80 | 0 // last-metadata-block 1, BLOCK_TYPE 0 STREAMINFO
  info.writeUIntBE(34, 1, 3) // length
  info.writeUInt16BE(16, 4) // minimum block size (the format's floor)
  info.writeUInt16BE(65535, 6) // maximum block size
  info.writeUIntBE(0, 8, 3) // minimum frame size: unknown
  info.writeUIntBE(0, 11, 3) // maximum frame size: unknown
  // sample rate (20 bits), channels - 1 (3), bits per sample - 1 (5), total samples (36: unknown = 0)
  info.writeUInt32BE(((sampleRate & 0xfffff) << 12) | (((channels - 1) & 7) << 9) | (((bitsPerSample - 1) & 0x1f) << 4), 14)
  info.writeUInt32BE(0, 18) // total samples, low 32 bits
  // MD5 of the unencoded audio: 16 zero bytes (unknown)
  return fullBox('dfLa', 0, 0, info)
}

/** §8.8.3 track extends: defaults that every trun here overrides. */
function trex(t: LiveFmp4Track): Buffer {
  return fullBox(
    'trex', 0, 0,
    u32(t.id), // track_ID
    u32(1), // default_sample_description_index
    u32(0), // default_sample_duration
    u32(0), // default_sample_size
    u32(0), // default_sample_flags
  )
}
