import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { AacDepacketizer } from '../../../src/formats/aac/depacketizer.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import { HBR, aacDecodeOnly, aacRoundTrip } from '../../vectors/aac.js'
import { h, hexUnits, toPackets } from '../../vectors/rtp.js'

describe('AacDepacketizer: round-trip vectors', () => {
  for (const v of aacRoundTrip) {
    test(v.name, () => {
      const d = new AacDepacketizer(HBR)
      const units: AccessUnit[] = []
      for (const p of toPackets(v.packets, 0)) units.push(...d.push(p))
      assert.deepEqual(hexUnits(units), hexUnits(v.units))
      assert.equal(d.dropped, 0)
    })
  }
})

describe('AacDepacketizer: decode-only vectors', () => {
  for (const v of aacDecodeOnly) {
    test(v.name, () => {
      const d = new AacDepacketizer(v.options)
      const units: AccessUnit[] = []
      for (const p of toPackets(v.packets, 0)) units.push(...d.push(p))
      assert.deepEqual(hexUnits(units), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped, 'dropped')
    })
  }
})

describe('AacDepacketizer', () => {
  test('frames of a packet are views over it', () => {
    const payload = h('0020 0010 0010 aabb ccdd')
    const units = new AacDepacketizer(HBR).push({ marker: true, payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload })
    assert.equal(units[1]!.data[0]!.buffer, payload.buffer)
    assert.equal(units[1]!.data[0]!.byteOffset, payload.byteOffset + 8)
  })

  test('reset drops a partial fragment', () => {
    const d = new AacDepacketizer(HBR)
    d.push({ marker: false, payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('0010 00a0 0102030405') })
    d.reset()
    assert.equal(d.dropped, 1)
    d.reset()
    assert.equal(d.dropped, 1)
  })

  test('rejects invalid options with typed errors', () => {
    assert.throws(() => new AacDepacketizer({ ...HBR, sizeLength: 33 }), RtspError)
    assert.throws(() => new AacDepacketizer({ ...HBR, frameDuration: 0 }), RtspError)
  })

  test('a layout whose later headers take no bits is malformed, not an endless loop', () => {
    const d = new AacDepacketizer({ sizeLength: 0, indexLength: 3, indexDeltaLength: 0 })
    assert.deepEqual(d.push({ marker: true, payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('0006 00 aabb') }), [])
    assert.equal(d.dropped, 1)
  })
})
