import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { AAC_SAMPLE_RATES, aacCodecString, buildAudioSpecificConfig, parseAudioSpecificConfig } from '../../../src/codec/aac-config.js'
import { InvalidArgumentError, MediaError } from '../../../src/errors.js'

const vectors = [
  { hex: '1190', name: 'LC 48000 Hz stereo', objectType: 2, sampleRate: 48000, channels: 2, frameLength: 1024 },
  { hex: '1210', name: 'LC 44100 Hz stereo', objectType: 2, sampleRate: 44100, channels: 2, frameLength: 1024 },
  { hex: '1408', name: 'LC 16000 Hz mono (Axis, Dahua)', objectType: 2, sampleRate: 16000, channels: 1, frameLength: 1024 },
  { hex: '1588', name: 'LC 8000 Hz mono', objectType: 2, sampleRate: 8000, channels: 1, frameLength: 1024 },
  { hex: '1188', name: 'LC 48000 Hz mono', objectType: 2, sampleRate: 48000, channels: 1, frameLength: 1024 },
  { hex: '1194', name: 'LC 48000 Hz stereo, 960-sample frames', objectType: 2, sampleRate: 48000, channels: 2, frameLength: 960 },
  { hex: '2b118800', name: 'HE-AAC explicit SBR: 24 kHz core, 48 kHz out', objectType: 5, sampleRate: 48000, coreSampleRate: 24000, channels: 2, frameLength: 2048, coreObjectType: 2 },
  { hex: 'eb098800', name: 'HE-AAC v2 (PS): mono core plays stereo', objectType: 29, sampleRate: 48000, coreSampleRate: 24000, channels: 2, frameLength: 2048, coreObjectType: 2 },
  { hex: '131056e598', name: 'LC with backward-compatible SBR signalling', objectType: 5, sampleRate: 48000, coreSampleRate: 24000, channels: 2, frameLength: 2048, coreObjectType: 2 },
  { hex: '130856e59d4880', name: 'LC with backward-compatible SBR and PS signalling', objectType: 29, sampleRate: 48000, coreSampleRate: 24000, channels: 2, frameLength: 2048, coreObjectType: 2 },
  { hex: 'f94640', name: 'escaped object type 42 (USAC)', objectType: 42, sampleRate: 48000, channels: 2, frameLength: undefined },
  { hex: '1780181c88', name: 'explicit 24-bit sample rate (index 15)', objectType: 2, sampleRate: 12345, channels: 1, frameLength: 1024 },
  { hex: '118004c8050001190000', name: 'channel configuration 0: channels from the PCE (5.1)', objectType: 2, sampleRate: 48000, channels: 6, frameLength: 1024 },
  { hex: 'b988', name: 'ER AAC LD: 512-sample frames', objectType: 23, sampleRate: 48000, channels: 1, frameLength: 512 },
]

describe('parseAudioSpecificConfig', () => {
  for (const v of vectors) {
    test(`${v.hex}: ${v.name}`, () => {
      const asc = parseAudioSpecificConfig(Buffer.from(v.hex, 'hex'))
      assert.equal(asc.objectType, v.objectType)
      assert.equal(asc.sampleRate, v.sampleRate)
      assert.equal(asc.channels, v.channels)
      assert.equal(asc.frameLength, v.frameLength)
      if (v.coreSampleRate) assert.equal(asc.coreSampleRate, v.coreSampleRate)
      if (v.coreObjectType) assert.equal(asc.coreObjectType, v.coreObjectType)
    })
  }

  test('truncated input throws MediaError', () => {
    assert.throws(() => parseAudioSpecificConfig(Buffer.alloc(0)), MediaError)
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('11', 'hex')), MediaError)
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('17', 'hex')), MediaError)
  })

  test('reserved sampling frequency index throws MediaError', () => {
    // objectType 2, index 13
    assert.throws(() => parseAudioSpecificConfig(Buffer.from('1690', 'hex')), MediaError)
  })

  test('arbitrary bytes parse or throw MediaError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        try {
          parseAudioSpecificConfig(bytes)
        } catch (err) {
          if (!(err instanceof MediaError)) throw err
        }
      }),
    )
  })
})

describe('buildAudioSpecificConfig', () => {
  test('known configs', () => {
    assert.equal(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2 }).toString('hex'), '1190')
    assert.equal(buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 2 }).toString('hex'), '1210')
    assert.equal(buildAudioSpecificConfig({ objectType: 2, sampleRate: 16000, channels: 1 }).toString('hex'), '1408')
    assert.equal(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2, frameLength: 960 }).toString('hex'), '1194')
    assert.equal(buildAudioSpecificConfig({ objectType: 5, sampleRate: 48000, channels: 2 }).toString('hex'), '2b118800')
    assert.equal(buildAudioSpecificConfig({ objectType: 29, sampleRate: 48000, channels: 2 }).toString('hex'), 'eb098800')
    assert.equal(buildAudioSpecificConfig({ objectType: 2, sampleRate: 12345, channels: 1 }).toString('hex'), '1780181c88')
  })

  test('build then parse is the identity for LC at table rates and common channel counts', () => {
    fc.assert(
      fc.property(fc.constantFrom(...AAC_SAMPLE_RATES), fc.constantFrom(1, 2, 3, 4, 5, 6, 8), (sampleRate, channels) => {
        const asc = parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate, channels }))
        assert.deepEqual([asc.objectType, asc.sampleRate, asc.channels, asc.frameLength], [2, sampleRate, channels, 1024])
      }),
    )
  })

  test('rejects what it cannot signal', () => {
    assert.throws(() => buildAudioSpecificConfig({ objectType: 42, sampleRate: 48000, channels: 2 }), InvalidArgumentError)
    assert.throws(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 7 }), InvalidArgumentError)
    assert.throws(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 0, channels: 2 }), InvalidArgumentError)
  })

  test('codec string', () => {
    assert.equal(aacCodecString(2), 'mp4a.40.2')
    assert.equal(aacCodecString(5), 'mp4a.40.5')
  })
})
