import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { RtspError } from '../../../src/errors.js'
import { H265Depacketizer } from '../../../src/formats/h265/depacketizer.js'
import type { AccessUnit } from '../../../src/formats/types.js'
import type { RtpPacket } from '../../../src/rtp/packet-types.js'
import { VPS, h265DecodeOnly, h265RoundTrip } from '../../vectors/h265.js'
import { h, hexUnits, toPackets } from '../../vectors/rtp.js'

function run(d: H265Depacketizer, packets: RtpPacket[]): AccessUnit[] {
  const out: AccessUnit[] = []
  for (const p of packets) out.push(...d.push(p))
  return out
}

const pkt = (payload: Buffer, seq: number, ts = 0, marker = true): RtpPacket => ({ marker, payloadType: 96, sequenceNumber: seq, timestamp: ts, ssrc: 1, payload })

describe('H265Depacketizer: round-trip vectors', () => {
  for (const v of h265RoundTrip) {
    test(v.name, () => {
      const d = new H265Depacketizer()
      const units = run(d, toPackets(v.packets, v.au.rtpTimestamp))
      assert.deepEqual(hexUnits(units), hexUnits([v.au]))
      assert.equal(d.dropped, 0)
    })
  }
})

describe('H265Depacketizer: decode-only vectors', () => {
  for (const v of h265DecodeOnly) {
    test(v.name, () => {
      const d = new H265Depacketizer(v.options)
      const units = run(d, toPackets(v.packets, 0))
      assert.deepEqual(hexUnits(units), hexUnits(v.units))
      assert.equal(d.dropped, v.dropped, 'dropped')
      if (v.sps) assert.equal(d.sps?.toString('hex'), v.sps.toString('hex'))
    })
  }
})

describe('H265Depacketizer', () => {
  test('NAL units are copied out of the packet: the payload may be a reused read buffer', () => {
    const d = new H265Depacketizer()
    const single = h('02 01 01 02 03')
    const agg = h('60 01 0003 020101 0003 020102')
    const [u1] = d.push(pkt(single, 1, 0))
    const [u2] = d.push(pkt(agg, 2, 1))
    single.fill(0)
    agg.fill(0)
    assert.deepEqual(u1!.data, [h('02 01 01 02 03')])
    assert.deepEqual(u2!.data, [h('02 01 01'), h('02 01 02')])
  })

  test('returns a shared empty array while a unit is incomplete', () => {
    const d = new H265Depacketizer()
    const a = d.push(pkt(h('02 01 01'), 1, 0, false))
    const b = d.push(pkt(h('02 01 02'), 2, 0, false))
    assert.equal(a, b)
    assert.equal(a.length, 0)
  })

  test('reset drops the partial unit and counts it once', () => {
    const d = new H265Depacketizer()
    d.push(pkt(h('02 01 01'), 1, 0, false))
    d.push(pkt(h('62 01 93 01'), 2, 0, false))
    d.reset()
    assert.equal(d.dropped, 1)
    d.reset()
    assert.equal(d.dropped, 1)
    // The rest of the NAL counted at reset arrives without its start: still one loss.
    assert.deepEqual(d.push(pkt(h('62 01 53 02'), 9)), [])
    assert.equal(d.dropped, 1)
  })

  test('parameterSetsVersion changes only when an in-band set differs; sets are copied', () => {
    const d = new H265Depacketizer()
    const payload = h('60 01 0003 400101 0003 420102 0003 440103 0003 260101')
    d.push(pkt(payload, 1, 0))
    assert.equal(d.parameterSetsVersion, 3)
    d.push(pkt(Buffer.from(payload), 2, 1))
    assert.equal(d.parameterSetsVersion, 3)
    payload.fill(0)
    assert.equal(d.vps!.toString('hex'), '400101')
    d.push(pkt(h('60 01 0003 420109 0003 260101'), 3, 2))
    assert.equal(d.parameterSetsVersion, 4)
    assert.equal(d.sps?.toString('hex'), '420109')
  })

  test('SDP parameter sets are reported until in-band ones arrive', () => {
    const d = new H265Depacketizer({ vps: VPS })
    assert.equal(d.vps, VPS)
    assert.equal(d.sps, undefined)
  })

  test('rejects invalid options with typed errors', () => {
    assert.throws(() => new H265Depacketizer({ maxNalUnits: 0 }), RtspError)
    assert.throws(() => new H265Depacketizer({ maxAccessUnitSize: 1.5 }), RtspError)
  })
})
