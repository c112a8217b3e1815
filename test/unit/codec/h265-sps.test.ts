import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { h265NalType, isH265Irap, isH265ParameterSet, isH265Vcl } from '../../../src/codec/h265-nal.js'
import { h265LevelName, h265ProfileName, hevcCodecString, parseH265Sps } from '../../../src/codec/h265-sps.js'
import { MediaError } from '../../../src/errors.js'
import { h265SpsVectors } from '../../vectors/h265.js'

describe('parseH265Sps: x265 SPS vectors checked against ffprobe', () => {
  for (const v of h265SpsVectors) {
    test(v.name, () => {
      const info = parseH265Sps(v.sps)
      const got: Record<string, unknown> = {}
      for (const key of Object.keys(v.expect)) got[key] = info[key as keyof typeof info]
      assert.deepEqual(got, v.expect)
      // Without the 2-byte NAL header too.
      assert.equal(parseH265Sps(v.sps.subarray(2)).codecString, v.expect.codecString)
    })
  }
})

describe('parseH265Sps', () => {
  test('truncated and invalid SPS throw MediaError', () => {
    const sps = h265SpsVectors[0]!.sps
    // Everything up to the bit depths (byte 22 of this SPS) is needed.
    for (let n = 0; n < 23; n++) assert.throws(() => parseH265Sps(sps.subarray(0, n)), MediaError, `length ${n}`)
    assert.throws(() => parseH265Sps(Buffer.alloc(40, 0xff)), MediaError)
  })

  test('high tier shows in tier and codec string', () => {
    const sps = Buffer.from(h265SpsVectors[4]!.sps)
    sps[3]! |= 0x20 // general_tier_flag
    const info = parseH265Sps(sps)
    assert.equal(info.tier, 'High')
    assert.equal(info.codecString, 'hvc1.1.6.H93.90')
  })
})

describe('H.265 names and helpers', () => {
  test('profile names, including a profile given only by its compatibility flag', () => {
    assert.equal(h265ProfileName(1), 'Main')
    assert.equal(h265ProfileName(2), 'Main 10')
    assert.equal(h265ProfileName(0, 0x20000000), 'Main 10')
    assert.equal(h265ProfileName(30), 'Unknown (30)')
  })

  test('level names', () => {
    assert.deepEqual([30, 60, 63, 93, 120, 153, 186].map(h265LevelName), ['1.0', '2.0', '2.1', '3.1', '4.0', '5.1', '6.2'])
  })

  test('codec string: profile space letter, reversed compatibility flags, trailing zero bytes left out', () => {
    const ptl = {
      generalProfileSpace: 1,
      generalTierFlag: false,
      generalProfileIdc: 1,
      generalProfileCompatibilityFlags: 0x60000000,
      generalConstraintIndicatorFlags: Buffer.from([0xb0, 0, 0, 0, 0, 0]),
      generalLevelIdc: 93,
    }
    assert.equal(hevcCodecString(ptl), 'hvc1.A1.6.L93.B0')
    assert.equal(hevcCodecString({ ...ptl, generalProfileSpace: 0, generalConstraintIndicatorFlags: Buffer.alloc(6) }, 'hev1'), 'hev1.1.6.L93')
  })

  test('NAL types', () => {
    assert.equal(h265NalType(0x26), 19)
    assert.equal(h265NalType(0x40), 32)
    assert.ok(isH265Irap(19) && isH265Irap(21) && isH265Irap(16) && isH265Irap(23) && !isH265Irap(1) && !isH265Irap(24))
    assert.ok(isH265Vcl(0) && isH265Vcl(31) && !isH265Vcl(32))
    assert.ok(isH265ParameterSet(32) && isH265ParameterSet(34) && !isH265ParameterSet(35))
  })
})
