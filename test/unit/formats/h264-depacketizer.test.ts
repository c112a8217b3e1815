import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { H264Depacketizer } from '../../../src/formats/h264/depacketizer.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { h264DecodeOnly, h264RoundTrip } from '../../vectors/h264.js'
import { h, hexUnits, toPackets } from '../../vectors/rtp.js'

function run(d: H264Depacketizer, packets: RtpPacket[]): AccessUnit[] {
  const out: AccessUnit[] = []
  for (const p of packets) out.push(...d.push(p))
  return out
}

describe('H264Depacketizer: round-trip vectors', () => {
  for (const v of h264RoundTrip) {
    test(v.name, () => {
      const d = new H264Depacketizer()
      const units = run(d, toPackets(v.packets, v.au.rtpTimestamp))
      assert.deepEqual(hexUnits(units), hexUnits([v.au]))
      assert.equal(d.dropped, 0)
    })
  }
})

describe('H264Depacketizer: decode-only vectors', () => {
  for (const v of h264DecodeOnly) {
    test(v.name, () => {
      const d = new H264Depacketizer(v.options)
      const units = run(d, toPackets(v.packets, 0))
      assert.deepEqual(hexUnits(units), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped, 'dropped')
      if (v.sps) assert.equal(d.sps?.toString('hex'), v.sps.toString('hex'))
    })
  }
})

describe('H264Depacketizer', () => {
  test('single NAL units and STAP-A entries are views over the packet (no copy)', () => {
    const d = new H264Depacketizer()
    const single = h('41 01 02 03')
    const stap = h('78 0002 4101 0002 4102')
    const [u1] = d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: single })
    const [u2] = d.push({ marker: true, payloadType: 96, sequenceNumber: 2, timestamp: 1, ssrc: 1, payload: stap })
    assert.equal(u1!.data[0]!.buffer, single.buffer)
    assert.equal(u2!.data[1]!.buffer, stap.buffer)
    assert.equal(u2!.data[1]!.byteOffset, stap.byteOffset + 7)
  })

  test('returns a shared empty array while a unit is incomplete', () => {
    const d = new H264Depacketizer()
    const a = d.push({ marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('41 01') })
    const b = d.push({ marker: false, payloadType: 96, sequenceNumber: 2, timestamp: 0, ssrc: 1, payload: h('41 02') })
    assert.equal(a, b)
    assert.equal(a.length, 0)
  })

  test('reset drops the partial unit and counts it once', () => {
    const d = new H264Depacketizer()
    d.push({ marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('41 01') })
    d.push({ marker: false, payloadType: 96, sequenceNumber: 2, timestamp: 0, ssrc: 1, payload: h('7c 85 01') })
    d.reset()
    assert.equal(d.dropped, 1)
    d.reset()
    assert.equal(d.dropped, 1)
    // The rest of the NAL counted at reset arrives without its start: still one loss.
    const units = d.push({ marker: true, payloadType: 96, sequenceNumber: 9, timestamp: 0, ssrc: 1, payload: h('7c 45 02') })
    assert.deepEqual(units, [])
    assert.equal(d.dropped, 1)
  })

  test('a loss between units, then a fragment without its start: counted once', () => {
    const d = new H264Depacketizer()
    d.reset()
    assert.equal(d.dropped, 0)
    d.push({ marker: false, payloadType: 96, sequenceNumber: 5, timestamp: 0, ssrc: 1, payload: h('7c 05 01') })
    d.push({ marker: true, payloadType: 96, sequenceNumber: 6, timestamp: 0, ssrc: 1, payload: h('7c 45 02') })
    assert.equal(d.dropped, 1)
  })

  test('parameterSetsVersion changes only when an in-band set differs', () => {
    const d = new H264Depacketizer()
    const push = (payload: Buffer, ts: number) => d.push({ marker: true, payloadType: 96, sequenceNumber: ts, timestamp: ts, ssrc: 1, payload })
    push(h('78 0003 670102 0002 6803 0002 6501'), 0)
    assert.equal(d.parameterSetsVersion, 2)
    push(h('78 0003 670102 0002 6803 0002 6501'), 1)
    assert.equal(d.parameterSetsVersion, 2)
    push(h('78 0003 670109 0002 6803'), 2)
    assert.equal(d.parameterSetsVersion, 3)
    assert.equal(d.sps?.toString('hex'), '670109')
  })

  test('in-band parameter sets are copied, not kept as views', () => {
    const d = new H264Depacketizer()
    const payload = h('78 0003 670102 0002 6803 0002 6501')
    d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload })
    payload.fill(0)
    assert.equal(d.sps!.toString('hex'), '670102')
    assert.equal(d.pps!.toString('hex'), '6803')
  })

  test('rejects invalid options with typed errors', () => {
    assert.throws(() => new H264Depacketizer({ maxNalUnits: 0 }), RtspError)
    assert.throws(() => new H264Depacketizer({ maxAccessUnitSize: 1.5 }), RtspError)
  })
})
