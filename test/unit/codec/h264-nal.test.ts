import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { addEmulationPrevention, joinAnnexB, joinAvcc, nalType, removeEmulationPrevention, splitAnnexB } from '../../../src/codec/h264-nal.js'
import { h } from '../../vectors/rtp.js'

describe('H.264 NAL helpers', () => {
  test('nalType', () => {
    assert.equal(nalType(0x67), 7)
    assert.equal(nalType(0x65), 5)
    assert.equal(nalType(0x7c), 28)
  })

  test('splitAnnexB: 3- and 4-byte start codes, trailing zeros, leading bytes', () => {
    const parts = splitAnnexB(h('00 00 00 01 67 42 00 00 01 68 ce 00 00 00 00 01 65 88 00 00'))
    assert.deepEqual(parts.map((p) => p.toString('hex')), ['6742', '68ce', '6588'])
    assert.deepEqual(splitAnnexB(h('41 01 00 00 01 41 02')).map((p) => p.toString('hex')), ['4101', '4102'])
    assert.deepEqual(splitAnnexB(h('00 00 01')), [])
  })

  test('splitAnnexB returns views', () => {
    const buf = h('00 00 01 67 42 00 00 01 68 ce')
    const [a] = splitAnnexB(buf)
    assert.equal(a!.buffer, buf.buffer)
  })

  test('removeEmulationPrevention', () => {
    assert.equal(removeEmulationPrevention(h('00 00 03 01 00 00 03 00 00 03')).toString('hex'), '00000100000000')
    const none = h('67 42 00 1e')
    assert.equal(removeEmulationPrevention(none), none)
  })

  test('emulation prevention round-trip and splitAnnexB(joinAnnexB(x)) = x', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 8 }), (rbsps) => {
        for (const rbsp of rbsps) {
          assert.deepEqual([...removeEmulationPrevention(addEmulationPrevention(rbsp))], [...rbsp])
        }
        // a NAL unit: header byte, escaped payload, a non-zero last byte (rbsp_stop_one_bit)
        const nalus = rbsps.map((r) => Buffer.concat([Buffer.from([0x41]), addEmulationPrevention(Buffer.concat([r, Buffer.from([0x80])]))]))
        assert.deepEqual(splitAnnexB(joinAnnexB(nalus)).map((b) => b.toString('hex')), nalus.map((b) => b.toString('hex')))
      }),
    )
  })

  test('joinAvcc writes 4-byte lengths', () => {
    assert.equal(joinAvcc([h('6742'), h('68')]).toString('hex'), '000000026742' + '0000000168')
  })
})
