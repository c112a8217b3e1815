/**
 * What `session.talk()` sends, as bytes of the back-channel's codec: audio from a file or
 * a pipe (WAV with PCM, A-law or µ-law; raw 16-bit PCM; raw A-law / µ-law) turned into
 * G.711 of the law the camera asked for (PCM is encoded, the other law transcoded), or AAC
 * frames from ADTS for a camera that takes AAC. Pure:
 * async iterables in, async iterables out; reading files and stdin is the caller's.
 */
import { InvalidArgumentError, MediaError, UnsupportedError } from '../errors.js'
import { encodeG711, transcodeG711, type G711Law } from '../codec/g711.js'
import { parseAdtsHeader } from '../codec/adts.js'

/**
 * What the input bytes are: 'wav' (RIFF WAVE: 16-bit PCM, A-law or µ-law, mono), 's16le'
 * (raw 16-bit little-endian PCM, mono, at the back-channel's rate), 'pcmu' / 'pcma' (raw
 * G.711), 'adts' (AAC in ADTS frames, for a camera that takes AAC; it is not re-encoded).
 * 'auto' (default): a stream that starts with RIFF is WAV, one that starts with an ADTS sync
 * word is ADTS; anything else needs a format.
 */
export type TalkFormat = 'auto' | 'wav' | 's16le' | 'pcmu' | 'pcma' | 'adts'

export const TALK_FORMATS: readonly TalkFormat[] = ['auto', 'wav', 's16le', 'pcmu', 'pcma', 'adts']

/** The talk format a file name suggests (.wav, .pcmu/.ulaw/.mulaw/.ul, .pcma/.alaw/.al, .pcm/.raw/.s16le, .aac/.adts), else undefined. */
export function talkFormatFromPath(path: string): Exclude<TalkFormat, 'auto'> | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase()
  switch (ext) {
    case 'wav':
      return 'wav'
    case 'pcmu':
    case 'ulaw':
    case 'mulaw':
    case 'ul':
      return 'pcmu'
    case 'pcma':
    case 'alaw':
    case 'al':
      return 'pcma'
    case 'pcm':
    case 'raw':
    case 's16le':
      return 's16le'
    case 'aac':
    case 'adts':
      return 'adts'
    default:
      return undefined
  }
}

type Sample = 'PCM' | G711Law

/** The conversion for a given back-channel: its law and sample rate. */
export interface TalkTarget {
  law: G711Law
  sampleRate: number
}

const hint = (target: TalkTarget) =>
  `convert it with: ffmpeg -i IN -ar ${target.sampleRate} -ac 1 -c:a ${target.law === 'PCMU' ? 'pcm_mulaw' : 'pcm_alaw'} OUT.wav`

/**
 * G.711 bytes of `target.law` from `source`, chunk by chunk as it is read (a pipe that never
 * ends is fine). Throws MediaError / UnsupportedError for input it cannot send as it is.
 */
export async function* toG711(source: AsyncIterable<Uint8Array>, format: TalkFormat, target: TalkTarget): AsyncGenerator<Buffer> {
  if (!TALK_FORMATS.includes(format)) throw new InvalidArgumentError(`talk(): format must be one of ${TALK_FORMATS.join(', ')}, not ${JSON.stringify(format)}`)
  if (format === 'adts') throw new UnsupportedError(`the camera's back-channel takes ${target.law}, not AAC: give PCM or G.711 (${hint(target)})`)
  const it = source[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  let sample: Sample
  let remaining = Number.POSITIVE_INFINITY
  if (format === 'auto' || format === 'wav') {
    // Read until the WAV header is complete (or until the first bytes show it is not one).
    for (;;) {
      if (head.length >= 4 && head.toString('latin1', 0, 4) !== 'RIFF') {
        if (format === 'wav') throw new MediaError('the talk input is not a WAV file (no RIFF header); give its format (s16le, pcmu or pcma)')
        throw new UnsupportedError('cannot tell the talk input\'s format (not a WAV file): give it as s16le, pcmu or pcma')
      }
      const wav = head.length >= 12 ? parseWavHeader(head, target) : undefined
      if (wav !== undefined) {
        sample = wav.sample
        remaining = wav.dataSize
        head = head.subarray(wav.dataOffset)
        break
      }
      const next = await it.next()
      if (next.done === true) throw new MediaError('the talk input ended inside its WAV header (no data chunk)')
      head = Buffer.concat([head, next.value])
      if (head.length > 1 << 20) throw new MediaError('no WAV data chunk in the first MiB of the talk input')
    }
  } else {
    sample = format === 's16le' ? 'PCM' : format === 'pcmu' ? 'PCMU' : 'PCMA'
  }
  // An odd byte of PCM waits for its other half.
  let carry: Buffer | undefined
  const convert = (bytes: Buffer): Buffer => {
    if (sample !== 'PCM') return transcodeG711(sample, target.law, bytes)
    let pcm = bytes
    if (carry !== undefined) {
      pcm = Buffer.concat([carry, bytes])
      carry = undefined
    }
    if ((pcm.length & 1) !== 0) {
      carry = Buffer.from(pcm.subarray(pcm.length - 1))
      pcm = pcm.subarray(0, pcm.length - 1)
    }
    return encodeG711(target.law, pcm)
  }
  let chunk: Buffer | undefined = head
  while (remaining > 0) {
    if (chunk === undefined) {
      const next = await it.next()
      if (next.done === true) break
      chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
    }
    const take = chunk.length <= remaining ? chunk : chunk.subarray(0, remaining)
    remaining -= take.length
    chunk = undefined
    if (take.length > 0) {
      const out = convert(take)
      if (out.length > 0) yield out
    }
  }
  if (remaining <= 0) await it.return?.()
}

interface WavInfo {
  sample: Sample
  dataOffset: number
  /** Bytes of the data chunk; Infinity when the writer could not say (a pipe: 0 or 0xFFFFFFFF). */
  dataSize: number
}

/**
 * RIFF WAVE header (Microsoft's RIFF spec; WAVE_FORMAT_PCM 1, ALAW 6, MULAW 7, EXTENSIBLE
 * 0xFFFE with the format in the sub-format GUID's first two bytes). Undefined while the data
 * chunk's header has not arrived yet.
 */
function parseWavHeader(buf: Buffer, target: TalkTarget): WavInfo | undefined {
  if (buf.toString('latin1', 8, 12) !== 'WAVE') throw new MediaError('the talk input is a RIFF file but not WAVE audio')
  let off = 12
  let sample: Sample | undefined
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4)
    const size = buf.readUInt32LE(off + 4)
    if (id === 'data') {
      if (sample === undefined) throw new MediaError('the talk input\'s WAV data chunk comes before its fmt chunk')
      return { sample, dataOffset: off + 8, dataSize: size === 0 || size === 0xffffffff ? Number.POSITIVE_INFINITY : size }
    }
    if (off + 8 + size > buf.length) return undefined
    if (id === 'fmt ') sample = wavFormat(buf.subarray(off + 8, off + 8 + size), target)
    off += 8 + size + (size & 1) // chunks are padded to an even size
  }
  return undefined
}

function wavFormat(fmt: Buffer, target: TalkTarget): Sample {
  if (fmt.length < 16) throw new MediaError('the talk input\'s WAV fmt chunk is too short')
  let tag = fmt.readUInt16LE(0)
  const channels = fmt.readUInt16LE(2)
  const rate = fmt.readUInt32LE(4)
  const bits = fmt.readUInt16LE(14)
  if (tag === 0xfffe && fmt.length >= 26) tag = fmt.readUInt16LE(24)
  if (channels !== 1) throw new UnsupportedError(`the talk input has ${channels} channels; the back-channel takes mono: ${hint(target)}`)
  if (rate !== target.sampleRate) throw new UnsupportedError(`the talk input is at ${rate} Hz; the back-channel takes ${target.sampleRate} Hz: ${hint(target)}`)
  if (tag === 1 && bits === 16) return 'PCM'
  if (tag === 6 && bits === 8) return 'PCMA'
  if (tag === 7 && bits === 8) return 'PCMU'
  throw new UnsupportedError(`the talk input's WAV format (tag ${tag}, ${bits} bits) is not 16-bit PCM, A-law or µ-law: ${hint(target)}`)
}

/** What an AAC back-channel takes (from its SDP's AudioSpecificConfig). */
export interface AacTarget {
  objectType: number
  sampleRate: number
  channels: number
}

/**
 * Raw AAC frames (the ADTS headers removed) from an ADTS stream (ISO/IEC 13818-7 §6.2),
 * split anywhere; each frame's header must say the camera's object type, rate and channels.
 * rtspkit does not encode AAC: other input is refused with the ffmpeg line that makes it.
 */
export async function* adtsFrames(source: AsyncIterable<Uint8Array>, format: TalkFormat, target: AacTarget): AsyncGenerator<Buffer> {
  if (!TALK_FORMATS.includes(format)) throw new InvalidArgumentError(`talk(): format must be one of ${TALK_FORMATS.join(', ')}, not ${JSON.stringify(format)}`)
  const fix = `ffmpeg -i IN -ar ${target.sampleRate} -ac ${target.channels} -c:a aac -f adts OUT.aac`
  if (format !== 'auto' && format !== 'adts') throw new UnsupportedError(`the camera's back-channel takes AAC and rtspkit does not encode it: give ADTS (${fix})`)
  let buf: Buffer = Buffer.alloc(0)
  for await (const chunk of source) {
    buf = buf.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([buf, chunk])
    let off = 0
    while (buf.length - off >= 7) {
      const h = parseAdtsHeader(buf.subarray(off))
      if (h === undefined || h.frameLength < h.headerLength) {
        throw new MediaError(`the talk input is not ADTS at byte ${off} (no sync word): the camera's back-channel takes AAC in ADTS frames (${fix})`)
      }
      if (h.objectType !== target.objectType || h.sampleRate !== target.sampleRate || h.channels !== target.channels) {
        throw new UnsupportedError(`the talk input is AAC object type ${h.objectType}, ${h.sampleRate} Hz, ${h.channels} channel(s); the camera takes object type ${target.objectType}, ${target.sampleRate} Hz, ${target.channels}: ${fix}`)
      }
      if (buf.length - off < h.frameLength) break
      yield buf.subarray(off + h.headerLength, off + h.frameLength)
      off += h.frameLength
    }
    buf = buf.subarray(off)
  }
  if (buf.length > 0) throw new MediaError(`the talk input ends inside an ADTS frame (${buf.length} bytes left)`)
}
