import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.js'
import { ReceiverStats, buildReceiverReport, parseRtcpPacket } from '../../../src/rtcp/index.js'

/** Feed sequence numbers as 100-byte packets of SSRC 0xabc at 90 kHz, 40 ms apart. */
function feed(stats: ReceiverStats, seqs: number[]): void {
  for (const [i, seq] of seqs.entries()) stats.onRtp(seq, (i * 3600) >>> 0, i * 40, 100, 0xabc)
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('ReceiverStats', () => {
  it('reports nothing lost for a clean sequence', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, range(100, 199))
    const r = s.report(10_000)
    assert.equal(r.ssrc, 0xabc)
    assert.equal(r.highestSequence, 199)
    assert.equal(r.cumulativeLost, 0)
    assert.equal(r.fractionLost, 0)
    assert.equal(s.packetsReceived, 100)
    assert.equal(s.bytesReceived, 10_000)
    assert.equal(s.packetsExpected, 100)
  })

  it('counts loss, and fraction lost per interval', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, range(0, 99).filter((n) => n % 10 !== 5)) // 10 lost out of 100
    let r = s.report(0)
    assert.equal(r.cumulativeLost, 10)
    assert.equal(r.fractionLost, Math.floor((10 * 256) / 100))
    assert.equal(s.packetsLost, 10)
    feed(s, range(100, 199))
    r = s.report(0)
    assert.equal(r.cumulativeLost, 10, 'cumulative keeps the earlier loss')
    assert.equal(r.fractionLost, 0, 'nothing lost in this interval')
    feed(s, [200, 203]) // 2 lost of 4 expected
    assert.equal(s.report(0).fractionLost, 128)
  })

  it('extends the highest sequence across the 65535 wrap', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [...range(65500, 65535), ...range(0, 99)])
    const r = s.report(0)
    assert.equal(r.highestSequence, 0x10000 + 99)
    assert.equal(s.extendedHighestSequence, 0x10000 + 99)
    assert.equal(r.cumulativeLost, 0)
    assert.equal(s.packetsExpected, 136)
  })

  it('handles loss right across the wrap', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [65533, 65534, 1, 2]) // 65535 and 0 lost
    const r = s.report(0)
    assert.equal(r.highestSequence, 0x10002)
    assert.equal(r.cumulativeLost, 2)
  })

  it('counts duplicates as received (RFC 3550 A.3: lost may go negative) and reorders without loss', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [1, 2, 4, 3, 5])
    assert.equal(s.report(0).cumulativeLost, 0)
    assert.equal(s.extendedHighestSequence, 5)
    feed(s, [5, 5, 6])
    const r = s.report(0)
    assert.equal(r.cumulativeLost, -2)
    assert.equal(r.fractionLost, 0)
    assert.equal(r.highestSequence, 6)
  })

  it('reordering across the wrap does not add a cycle', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [65534, 0, 65535, 1])
    assert.equal(s.extendedHighestSequence, 0x10001)
    assert.equal(s.packetsLost, 0)
  })

  it('ignores a stray big jump, resyncs on two in a row (A.1)', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, range(0, 9))
    assert.equal(s.onRtp(20000, 0, 0), false)
    feed(s, range(10, 19))
    assert.equal(s.packetsLost, 0)
    assert.equal(s.packetsInvalid, 1)
    assert.equal(s.onRtp(40000, 0, 0), false)
    assert.equal(s.onRtp(40001, 0, 0), true)
    assert.equal(s.resyncs, 1)
    assert.equal(s.extendedHighestSequence, 40001)
    assert.equal(s.packetsExpected, 1)
    assert.equal(s.packetsLost, 0)
  })

  it('restarts on a new SSRC', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [10, 12])
    s.onRtp(5000, 0, 0, 0, 0xdef)
    assert.equal(s.ssrc, 0xdef)
    assert.equal(s.resyncs, 1)
    assert.equal(s.packetsLost, 0)
    assert.equal(s.extendedHighestSequence, 5000)
  })

  it('keeps new sources on probation when asked (MIN_SEQUENTIAL)', () => {
    const s = new ReceiverStats({ clockRate: 8000, probation: 2 })
    assert.equal(s.onRtp(7, 0, 0), false)
    assert.equal(s.onRtp(9, 0, 0), false) // not sequential: probation restarts
    assert.equal(s.onRtp(10, 0, 0), true)
    assert.equal(s.onRtp(11, 0, 0), true)
    assert.equal(s.packetsExpected, 2)
    assert.equal(s.packetsLost, 0)
  })

  it('jitter is 0 for constant spacing, also across the timestamp wrap', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    let ts = 0xffff0000
    for (let i = 0; i < 200; i++) {
      s.onRtp(i, ts, 1000 + i * 40)
      ts = (ts + 3600) >>> 0
    }
    assert.equal(s.jitter, 0)
    assert.equal(s.report(9000).jitter, 0)
  })

  it('jitter is 0 when the packets of each frame share a timestamp and arrive together', () => {
    // Three packets per frame share a timestamp and arrive together: D = 0.
    const s = new ReceiverStats({ clockRate: 90000 })
    let seq = 0
    for (let f = 0; f < 50; f++) for (let k = 0; k < 3; k++) s.onRtp(seq++, f * 3000, f * (1000 / 30))
    assert.ok(s.jitter < 1e-6)
  })

  it('jitter converges to |D| for alternating early/late arrival (A.8)', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    for (let i = 0; i < 400; i++) s.onRtp(i, i * 3600, i * 40 + (i % 2 === 0 ? 0 : 10))
    // |D| is 10 ms = 900 units every packet; J → 900.
    assert.ok(Math.abs(s.jitter - 900) < 1, `jitter ${s.jitter}`)
    assert.ok(Math.abs(s.jitterMs - 10) < 0.02)
    assert.equal(s.report(0).jitter, Math.floor(s.jitter))
  })

  it('LSR / DLSR from the last SR', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    feed(s, [1, 2])
    let r = s.report(500)
    assert.equal(r.lastSr, 0)
    assert.equal(r.delaySinceLastSr, 0)
    s.onSenderReport(0x2b3c8000, 1000)
    r = s.report(3000)
    assert.equal(r.lastSr, 0x2b3c8000)
    assert.equal(r.delaySinceLastSr, 2 * 65536)
    assert.equal(s.report(1250).delaySinceLastSr, 16384)
  })

  it('a report block survives buildReceiverReport → parseRtcpPacket', () => {
    const s = new ReceiverStats({ clockRate: 90000 })
    for (let i = 0; i < 100; i++) if (i % 7 !== 3) s.onRtp((65500 + i) & 0xffff, i * 3600, i * 40 + (i % 3), 1200, 0x11223344)
    s.onSenderReport(0x01020304, 100)
    const block = s.report(4100)
    const parsed = parseRtcpPacket(buildReceiverReport({ ssrc: 1, reports: [block], cname: 'c' }))
    assert.deepEqual(parsed?.[0], { type: 'rr', ssrc: 1, reports: [block] })
    assert.equal(block.ssrc, 0x11223344)
    assert.equal(block.cumulativeLost, 14)
  })

  it('clock rate 0 disables jitter; negative is refused', () => {
    const s = new ReceiverStats({ clockRate: 0 })
    s.onRtp(1, 0, 0)
    s.onRtp(2, 99999, 3)
    assert.equal(s.jitter, 0)
    assert.equal(s.jitterMs, 0)
    assert.throws(() => new ReceiverStats({ clockRate: -1 }), InvalidArgumentError)
    assert.throws(() => new ReceiverStats({ clockRate: Number.NaN }), InvalidArgumentError)
  })
})
