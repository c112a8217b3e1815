import { InvalidArgumentError, MediaError } from '../errors.js'
import { BitReader } from './bit-reader.js'
import { BitWriter } from './bit-writer.js'

/** samplingFrequencyIndex 0..12 (ISO/IEC 14496-3 §1.6.3.4); 15 means an explicit 24-bit rate. */
export const AAC_SAMPLE_RATES: readonly number[] = [
  96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
]

/** channelConfiguration → channel count (Table 1.19; 0 means a program_config_element says). */
const CHANNELS_BY_CONFIG: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8]

/** Object types whose AudioSpecificConfig continues with GASpecificConfig (§4.4.1). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23])

export interface AudioSpecificConfig {
  /** Audio object type as signalled (2 = AAC LC, 5 = SBR / HE-AAC, 29 = PS / HE-AAC v2). */
  objectType: number
  /** Output sample rate: the SBR extension rate when SBR is signalled, else the core rate. */
  sampleRate: number
  /** Core (AAC) sample rate. */
  coreSampleRate: number
  /** Output channels (PS doubles a mono core to 2). */
  channels: number
  channelConfiguration: number
  /** Object type under SBR/PS, when objectType is 5 or 29. */
  coreObjectType?: number
  /** Samples per frame at `sampleRate`: 1024 or 960 (512/480 for ER AAC LD), doubled with SBR. Absent for non-GA object types. */
  frameLength?: number
}

/** Parse an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1). Throws MediaError when truncated. */
export function parseAudioSpecificConfig(buf: Uint8Array): AudioSpecificConfig {
  const r = new BitReader(buf)
  try {
    let objectType = readObjectType(r)
    let coreSampleRate = readSampleRate(r)
    const channelConfiguration = r.readBits(4)
    let sampleRate = coreSampleRate
    let coreObjectType: number | undefined
    let sbr = false
    let ps = false
    if (objectType === 5 || objectType === 29) {
      // Explicit hierarchical SBR signalling: extension rate, then the core object type.
      sbr = true
      ps = objectType === 29
      sampleRate = readSampleRate(r)
      coreObjectType = readObjectType(r)
      if (coreObjectType === 22) r.skipBits(4) // extensionChannelConfiguration (ER BSAC)
    }
    const gaType = coreObjectType ?? objectType
    let channels = CHANNELS_BY_CONFIG[channelConfiguration] ?? 0
    let frameLength: number | undefined
    if (GA_OBJECT_TYPES.has(gaType)) {
      // GASpecificConfig (§4.4.1)
      const shortFrame = r.readBool() // frameLengthFlag
      frameLength = gaType === 23 ? (shortFrame ? 480 : 512) : shortFrame ? 960 : 1024
      if (r.readBool()) r.skipBits(14) // dependsOnCoreCoder → coreCoderDelay
      const extensionFlag = r.readBool()
      if (channelConfiguration === 0) channels = readPceChannels(r)
      if (gaType === 6 || gaType === 20) r.skipBits(3) // layerNr
      if (extensionFlag) {
        if (gaType === 22) r.skipBits(16) // numOfSubFrame, layer_length
        if (gaType === 17 || gaType === 19 || gaType === 20 || gaType === 23) r.skipBits(3)
        r.skipBits(1) // extensionFlag3
      }
      if (!sbr && objectType === 2) {
        // Backward-compatible SBR/PS signalling after the config (§1.6.5.2, sync 0x2b7 then 0x548).
        const ext = readSyncExtension(r)
        if (ext) {
          sbr = true
          ps = ext.ps
          sampleRate = ext.sampleRate
          coreObjectType = objectType
          objectType = ps ? 29 : 5
        }
      }
      if (sbr) frameLength *= 2
    }
    if (ps && channels === 1) channels = 2
    const out: AudioSpecificConfig = { objectType, sampleRate, coreSampleRate, channels, channelConfiguration }
    if (coreObjectType !== undefined) out.coreObjectType = coreObjectType
    if (frameLength !== undefined) out.frameLength = frameLength
    return out
  } catch (err) {
    if (err instanceof MediaError) throw new MediaError(`invalid AAC AudioSpecificConfig ${Buffer.from(buf).toString('hex') || '(empty)'}: ${err.message}`, { cause: err })
    throw err
  }

  function readSampleRate(r: BitReader): number {
    const index = r.readBits(4)
    if (index === 15) return r.readBits(24)
    const rate = AAC_SAMPLE_RATES[index]
    if (rate === undefined) throw new MediaError(`reserved samplingFrequencyIndex ${index}`)
    return rate
  }
}

/** GetAudioObjectType(): 5 bits, 31 escapes to 32 + 6 more bits. */
function readObjectType(r: BitReader): number {
  const t = r.readBits(5)
  return t === 31 ? 32 + r.readBits(6) : t
}

function readSyncExtension(r: BitReader): { sampleRate: number; ps: boolean } | undefined {
  if (r.bitsLeft < 16) return undefined
  try {
    if (r.readBits(11) !== 0x2b7) return undefined
    if (readObjectType(r) !== 5 || !r.readBool()) return undefined
    const index = r.readBits(4)
    const sampleRate = index === 15 ? r.readBits(24) : AAC_SAMPLE_RATES[index]
    if (sampleRate === undefined) return undefined
    let ps = false
    if (r.bitsLeft >= 12 && r.readBits(11) === 0x548) ps = r.readBool()
    return { sampleRate, ps }
  } catch {
    return undefined
  }
}

/** program_config_element (§4.4.1.1) up to the element lists: count the output channels. */
function readPceChannels(r: BitReader): number {
  r.skipBits(4 + 2 + 4) // element_instance_tag, object_type, sampling_frequency_index
  const front = r.readBits(4)
  const side = r.readBits(4)
  const back = r.readBits(4)
  const lfe = r.readBits(2)
  r.skipBits(3) // num_assoc_data_elements
  r.skipBits(4) // num_valid_cc_elements
  if (r.readBool()) r.skipBits(4) // mono_mixdown
  if (r.readBool()) r.skipBits(4) // stereo_mixdown
  if (r.readBool()) r.skipBits(3) // matrix_mixdown
  let channels = lfe
  for (let i = 0; i < front + side + back; i++) {
    channels += r.readBool() ? 2 : 1 // is_cpe
    r.skipBits(4)
  }
  return channels
}

export interface AudioSpecificConfigInit {
  /** 1 Main, 2 LC, 3 SSR, 4 LTP, 6 Scalable, 7 TwinVQ; 5 (HE-AAC) and 29 (HE-AAC v2) write explicit SBR over LC. */
  objectType: number
  /** Output sample rate; for 5/29 the core runs at half of it. */
  sampleRate: number
  channels: number
  /** 960 for the 960-sample frame variant; default 1024. */
  frameLength?: 960 | 1024
}

/** Build an AudioSpecificConfig: `{ objectType: 2, sampleRate: 48000, channels: 2 }` → 11 90. */
export function buildAudioSpecificConfig(init: AudioSpecificConfigInit): Buffer {
  const { objectType, sampleRate, channels } = init
  const sbr = objectType === 5 || objectType === 29
  if (!sbr && ![1, 2, 3, 4, 6, 7].includes(objectType)) {
    throw new InvalidArgumentError(`cannot build an AudioSpecificConfig for object type ${objectType}; use 1-4, 5, 6, 7 or 29`)
  }
  let channelConfiguration = channels >= 1 && channels <= 6 ? channels : channels === 8 ? 7 : -1
  if (objectType === 29) channelConfiguration = channels === 2 || channels === 1 ? 1 : -1
  if (channelConfiguration < 0) throw new InvalidArgumentError(`cannot signal ${channels} AAC channels without a program config element; use 1-6 or 8`)
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || sampleRate >= 2 ** 24) {
    throw new InvalidArgumentError(`invalid AAC sample rate ${sampleRate}`)
  }
  const w = new BitWriter()
  w.write(objectType, 5)
  writeSampleRate(w, sbr ? sampleRate / 2 : sampleRate)
  w.write(channelConfiguration, 4)
  if (sbr) {
    writeSampleRate(w, sampleRate)
    w.write(2, 5) // core: AAC LC
  }
  w.write(init.frameLength === 960 ? 1 : 0, 1) // frameLengthFlag
  w.write(0, 1) // dependsOnCoreCoder
  w.write(0, 1) // extensionFlag
  return w.finish()
}

function writeSampleRate(w: BitWriter, rate: number): void {
  const index = AAC_SAMPLE_RATES.indexOf(rate)
  if (index >= 0) {
    w.write(index, 4)
  } else {
    if (!Number.isInteger(rate)) throw new InvalidArgumentError(`invalid AAC sample rate ${rate}`)
    w.write(15, 4)
    w.write(rate, 24)
  }
}

/** RFC 6381 §3.3 codec string for MPEG-4 audio: 'mp4a.40.' + object type (2 LC, 5 HE, 29 HE v2). */
export function aacCodecString(objectType: number): string {
  return `mp4a.40.${objectType}`
}
