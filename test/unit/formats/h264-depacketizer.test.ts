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
  test('NAL units are copied out of the packet: the payload may be a reused read buffer', () => {
    const d = new H264Depacketizer()
    const single = h('41 01 02 03')
    const stap = h('78 0002 4101 0002 4102')
    const fuStart = h('7c 81 aa bb')
    const fuEnd = h('7c 41 cc dd')
    const [u1] = d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: single })
    const [u2] = d.push({ marker: true, payloadType: 96, sequenceNumber: 2, timestamp: 1, ssrc: 1, payload: stap })
    assert.equal(d.push({ marker: false, payloadType: 96, sequenceNumber: 3, timestamp: 2, ssrc: 1, payload: fuStart }).length, 0)
    fuStart.fill(0xee) // the read buffer is reused before the next fragment comes
    const [u3] = d.push({ marker: true, payloadType: 96, sequenceNumber: 4, timestamp: 2, ssrc: 1, payload: fuEnd })
    single.fill(0)
    stap.fill(0)
    fuEnd.fill(0)
    assert.deepEqual(u1!.data, [h('41 01 02 03')])
    assert.deepEqual(u2!.data, [h('41 01'), h('41 02')])
    assert.deepEqual(u3!.data, [h('61 aa bb cc dd')])
  })

  test('embedded start codes: every NAL unit is searched until two key pictures came without one, then key slices and non-slices only', () => {
    const d = new H264Depacketizer()
    let seq = 0
    const push = (payload: Buffer) => d.push({ marker: true, payloadType: 96, sequenceNumber: ++seq, timestamp: seq, ssrc: 1, payload })[0]!
    // From the start, a non-key slice holding a start code is split (quirk of some cameras)...
    assert.deepEqual(push(h('41 01 00 00 01 41 02')).data, [h('41 01'), h('41 02')])
    // ...which keeps the search on everything for good.
    push(h('65 01'))
    push(h('65 02'))
    assert.deepEqual(push(h('41 03 00 00 01 41 04')).data, [h('41 03'), h('41 04')])

    const clean = new H264Depacketizer()
    let s2 = 0
    const push2 = (payload: Buffer) => clean.push({ marker: true, payloadType: 96, sequenceNumber: ++s2, timestamp: s2, ssrc: 1, payload })[0]!
    push2(h('65 01'))
    push2(h('41 01'))
    push2(h('65 02'))
    // Two clean key pictures: non-key slices are no longer searched; key slices and SEI still are.
    assert.deepEqual(push2(h('41 05 00 00 01 41 06')).data, [h('41 05 00 00 01 41 06')])
    assert.deepEqual(push2(h('06 05 00 00 01 65 07')).data, [h('06 05'), h('65 07')])
  })

  test('released units are reused: a consumer that keeps up allocates no new slab', () => {
    const d = new H264Depacketizer()
    const first = d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: h('41 01 02 03') })[0]!
    const slab = first.data[0]!.buffer
    d.release(first.data)
    for (let i = 2; i < 5000; i++) {
      const au = d.push({ marker: true, payloadType: 96, sequenceNumber: i, timestamp: i, ssrc: 1, payload: h('41 01 02 03 04 05 06 07') })[0]!
      assert.equal(au.data[0]!.buffer, slab)
      d.release(au.data)
    }
    // A unit kept while others come: later ones are carved after it, never over it.
    const kept = d.push({ marker: true, payloadType: 96, sequenceNumber: 6000, timestamp: 6000, ssrc: 1, payload: h('41 0a 0b') })[0]!
    const next = d.push({ marker: true, payloadType: 96, sequenceNumber: 6001, timestamp: 6001, ssrc: 1, payload: h('41 0c 0d') })[0]!
    d.release(next.data)
    d.push({ marker: true, payloadType: 96, sequenceNumber: 6002, timestamp: 6002, ssrc: 1, payload: h('41 0e 0f') })
    assert.deepEqual(kept.data, [h('41 0a 0b')])
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
