import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Readable } from 'node:stream'
import { adtsFrames, talkFormatFromPath, toG711 } from '../../../src/client/talk-audio.js'
import { linearToAlaw, linearToUlaw } from '../../../src/codec/g711.js'

function wav(tag: number, bits: number, body: Buffer, opts: { rate?: number; channels?: number; dataSize?: number; extra?: Buffer } = {}): Buffer {
  const fmt = Buffer.alloc(16)
  const channels = opts.channels ?? 1
  const rate = opts.rate ?? 8000
  fmt.writeUInt16LE(tag, 0)
  fmt.writeUInt16LE(channels, 2)
  fmt.writeUInt32LE(rate, 4)
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8)
  fmt.writeUInt16LE((channels * bits) / 8, 12)
  fmt.writeUInt16LE(bits, 14)
  const extra = opts.extra ?? Buffer.alloc(0)
  const head = Buffer.alloc(12)
  head.write('RIFF', 0, 'latin1')
  head.writeUInt32LE(4 + 8 + 16 + extra.length + 8 + body.length, 4)
  head.write('WAVE', 8, 'latin1')
  const fmtHead = Buffer.from('fmt \0\0\0\0', 'latin1')
  fmtHead.writeUInt32LE(16, 4)
  const dataHead = Buffer.from('data\0\0\0\0', 'latin1')
  dataHead.writeUInt32LE(opts.dataSize ?? body.length, 4)
  return Buffer.concat([head, fmtHead, fmt, extra, dataHead, body])
}

async function collect(source: Iterable<Uint8Array>, format: Parameters<typeof toG711>[1], law: 'PCMU' | 'PCMA' = 'PCMU'): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const b of toG711(Readable.from(source, { objectMode: true }), format, { law, sampleRate: 8000 })) out.push(b)
  return Buffer.concat(out)
}

const SAMPLES = [0, 1000, -1000, 12345, -12345, 32767]
const pcm = Buffer.alloc(SAMPLES.length * 2)
SAMPLES.forEach((s, i) => pcm.writeInt16LE(s, i * 2))

test('talk input: a 16-bit PCM WAV is encoded to the back-channel\'s law, split anywhere', async () => {
  const file = wav(1, 16, pcm)
  for (let cut = 1; cut < file.length; cut += 3) {
    const got = await collect([file.subarray(0, cut), file.subarray(cut)], 'auto')
    assert.deepEqual([...got], SAMPLES.map(linearToUlaw), `cut at ${cut}`)
  }
  assert.deepEqual([...(await collect([file], 'wav', 'PCMA'))], SAMPLES.map(linearToAlaw))
})

test('talk input: A-law and µ-law WAVs pass through or are transcoded; data past the data chunk is ignored', async () => {
  const ulaw = Buffer.from(SAMPLES.map(linearToUlaw))
  assert.deepEqual(await collect([wav(7, 8, Buffer.concat([ulaw, Buffer.from('LIST')]), { dataSize: ulaw.length })], 'auto'), ulaw)
  const alaw = Buffer.from(SAMPLES.map(linearToAlaw))
  assert.deepEqual(await collect([wav(6, 8, alaw)], 'auto', 'PCMA'), alaw)
  assert.equal((await collect([wav(6, 8, alaw)], 'auto', 'PCMU')).length, alaw.length)
})

test('talk input: a WAV written to a pipe (data size 0xFFFFFFFF) is read to the end', async () => {
  const file = wav(1, 16, pcm, { dataSize: 0xffffffff })
  assert.equal((await collect([file], 'auto')).length, SAMPLES.length)
})

test('talk input: raw s16le keeps an odd byte for the next chunk; raw pcmu/pcma', async () => {
  const got = await collect([pcm.subarray(0, 3), pcm.subarray(3, 8), pcm.subarray(8)], 's16le')
  assert.deepEqual([...got], SAMPLES.map(linearToUlaw))
  const ulaw = Buffer.from(SAMPLES.map(linearToUlaw))
  assert.deepEqual(await collect([ulaw], 'pcmu'), ulaw)
})

test('talk input: stereo, another rate, 8-bit PCM and non-WAV input without a format are refused with the ffmpeg line to fix them', async () => {
  await assert.rejects(collect([wav(1, 16, pcm, { channels: 2 })], 'auto'), { code: 'RTSP_ERR_UNSUPPORTED', message: /2 channels.*ffmpeg -i IN -ar 8000 -ac 1 -c:a pcm_mulaw/ })
  await assert.rejects(collect([wav(1, 16, pcm, { rate: 16000 })], 'auto'), { code: 'RTSP_ERR_UNSUPPORTED', message: /16000 Hz/ })
  await assert.rejects(collect([wav(1, 8, pcm)], 'auto'), { code: 'RTSP_ERR_UNSUPPORTED', message: /tag 1, 8 bits/ })
  await assert.rejects(collect([pcm], 'auto'), { code: 'RTSP_ERR_UNSUPPORTED', message: /s16le, pcmu or pcma/ })
  await assert.rejects(collect([pcm], 'wav'), { code: 'RTSP_ERR_MEDIA' })
  await assert.rejects(collect([pcm], 'mp3' as never), { code: 'RTSP_ERR_INVALID_ARGUMENT' })
})

test('talk input: formats from file names', () => {
  assert.equal(talkFormatFromPath('a/b.WAV'), 'wav')
  assert.equal(talkFormatFromPath('x.ulaw'), 'pcmu')
  assert.equal(talkFormatFromPath('x.alaw'), 'pcma')
  assert.equal(talkFormatFromPath('x.s16le'), 's16le')
  assert.equal(talkFormatFromPath('x.mp3'), undefined)
})

/** An ADTS frame (ISO/IEC 13818-7 §6.2, no CRC) around `payload`: AAC-LC, 16 kHz, mono unless said. */
function adts(payload: Buffer, opts: { rateIndex?: number; channels?: number } = {}): Buffer {
  const len = payload.length + 7
  const h = Buffer.alloc(7)
  h[0] = 0xff
  h[1] = 0xf1 // MPEG-4, layer 0, no CRC
  h[2] = (1 << 6) | ((opts.rateIndex ?? 8) << 2) | (((opts.channels ?? 1) >> 2) & 1) // profile LC (object type 2)
  h[3] = (((opts.channels ?? 1) & 3) << 6) | ((len >> 11) & 3)
  h[4] = (len >> 3) & 0xff
  h[5] = ((len & 7) << 5) | 0x1f
  h[6] = 0xfc
  return Buffer.concat([h, payload])
}

async function frames(source: Buffer[], format: Parameters<typeof adtsFrames>[1] = 'auto'): Promise<Buffer[]> {
  const out: Buffer[] = []
  for await (const f of adtsFrames(Readable.from(source, { objectMode: true }), format, { objectType: 2, sampleRate: 16000, channels: 1 })) out.push(Buffer.from(f))
  return out
}

test('talk input: ADTS for an AAC back-channel gives the raw frames, split anywhere', async () => {
  const file = Buffer.concat([adts(Buffer.from([1, 2, 3])), adts(Buffer.from([4, 5])), adts(Buffer.alloc(300, 6))])
  for (let cut = 1; cut < file.length; cut += 7) {
    const got = await frames([file.subarray(0, cut), file.subarray(cut)])
    assert.deepEqual(got.map((f) => f.length), [3, 2, 300], `cut at ${cut}`)
    assert.deepEqual([...got[0]!], [1, 2, 3])
  }
})

test('talk input: ADTS of another rate or channel count, PCM for an AAC camera and ADTS for a G.711 one are refused', async () => {
  await assert.rejects(frames([adts(Buffer.from([1]), { rateIndex: 3 })]), { code: 'RTSP_ERR_UNSUPPORTED', message: /48000 Hz.*ffmpeg -i IN -ar 16000 -ac 1 -c:a aac -f adts/ })
  await assert.rejects(frames([adts(Buffer.from([1]), { channels: 2 })]), { code: 'RTSP_ERR_UNSUPPORTED', message: /2 channel/ })
  await assert.rejects(frames([pcm], 's16le'), { code: 'RTSP_ERR_UNSUPPORTED', message: /does not encode it/ })
  await assert.rejects(frames([pcm]), { code: 'RTSP_ERR_MEDIA', message: /not ADTS/ })
  await assert.rejects(frames([adts(Buffer.from([1, 2, 3])).subarray(0, 8)]), { code: 'RTSP_ERR_MEDIA', message: /ends inside an ADTS frame/ })
  await assert.rejects(collect([adts(Buffer.from([1]))], 'adts'), { code: 'RTSP_ERR_UNSUPPORTED', message: /takes PCMU, not AAC/ })
  assert.equal(talkFormatFromPath('x.aac'), 'adts')
})
