import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError } from '../../../src/errors.js'
import {
  buildEmptyReceiverReport,
  buildReceiverReport,
  buildSenderReport,
  isRtcp,
  ntpFromDate,
  ntpMiddle32,
  ntpToUnixMs,
  parseRtcpPacket,
} from '../../../src/rtcp/index.js'
import type { ReportBlock, SenderReport } from '../../../src/rtcp/index.js'

/** Hex with whitespace and `# comments` to the end of a line. */
const hex = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, ''), 'hex')

// A camera's compound SR + SDES, as sent every ~5 s while playing (no report blocks).
const SR_SDES = hex(`
  80c8 0006  5a3b1c2d                          # SR, RC 0, length 6, SSRC
  e98a2b3c 80000000                            # NTP 2024-02-28T21:59:24.5Z
  00015f90                                     # RTP timestamp 90000
  0000012c 000493e0                            # 300 packets, 300000 octets
  81ca 0005  5a3b1c2d                          # SDES, 1 chunk
  01 0c 63616d40 31302e30 2e302e35  00 00      # CNAME "cam@10.0.0.5", end, pad
`)

describe('parseRtcpPacket', () => {
  it('parses a compound SR + SDES', () => {
    const packets = parseRtcpPacket(SR_SDES)
    assert.ok(packets)
    assert.equal(packets.length, 2)
    const sr = packets[0] as SenderReport
    assert.equal(sr.type, 'sr')
    assert.equal(sr.ssrc, 0x5a3b1c2d)
    assert.deepEqual(sr.ntp, { msw: 0xe98a2b3c, lsw: 0x80000000 })
    assert.equal(sr.ntpSeconds, 0xe98a2b3c + 0.5)
    assert.equal(sr.unixMs, Date.UTC(2024, 1, 28, 21, 59, 24, 500))
    assert.equal(sr.rtpTimestamp, 90000)
    assert.equal(sr.packetCount, 300)
    assert.equal(sr.octetCount, 300000)
    assert.deepEqual(sr.reports, [])
    assert.deepEqual(packets[1], {
      type: 'sdes',
      chunks: [{ ssrc: 0x5a3b1c2d, cname: 'cam@10.0.0.5', items: [{ type: 1, value: 'cam@10.0.0.5' }] }],
    })
  })

  it('parses an RR with a report block (what a server sends back during RECORD)', () => {
    const rr = hex(`
      81c9 0007 00000001
      12345678  19 fffffe  0001ffff  00000123  e98a2b3c  00018000
    `)
    assert.deepEqual(parseRtcpPacket(rr), [
      {
        type: 'rr',
        ssrc: 1,
        reports: [
          {
            ssrc: 0x12345678,
            fractionLost: 0x19,
            cumulativeLost: -2,
            highestSequence: 0x1ffff,
            jitter: 0x123,
            lastSr: 0xe98a2b3c,
            delaySinceLastSr: 0x18000,
          },
        ],
      },
    ])
  })

  it('parses BYE with and without a reason', () => {
    assert.deepEqual(parseRtcpPacket(hex('81cb 0003 5a3b1c2d 04 646f6e65 000000')), [
      { type: 'bye', ssrcs: [0x5a3b1c2d], reason: 'done' },
    ])
    assert.deepEqual(parseRtcpPacket(hex('82cb 0002 00000001 00000002')), [{ type: 'bye', ssrcs: [1, 2] }])
  })

  it('reads SDES with several items and chunks', () => {
    const sdes = hex(`
      82ca 0008
      00000001  01 01 61  06 03 67 73 74  00 00 00 00    # CNAME "a", TOOL "gst", end, pad
      00000002  02 02 6e 6e  01 02 62 62  00 00 00 00     # NAME "nn", CNAME "bb", end, pad
    `)
    assert.deepEqual(parseRtcpPacket(sdes), [
      {
        type: 'sdes',
        chunks: [
          { ssrc: 1, cname: 'a', items: [{ type: 1, value: 'a' }, { type: 6, value: 'gst' }] },
          { ssrc: 2, cname: 'bb', items: [{ type: 2, value: 'nn' }, { type: 1, value: 'bb' }] },
        ],
      },
    ])
  })

  it('skips APP, feedback (RTPFB/PSFB) and XR packets', () => {
    const compound = Buffer.concat([
      hex('80c9 0001 00000001'), // RR, no blocks
      hex('80cc 0002 00000001 6e616d65'), // APP "name"
      hex('81ce 0002 00000001 00000002'), // PSFB PLI
      hex('80cf 0001 00000001'), // XR, empty
      hex('81ca 0002 00000001 00000000'), // SDES, empty item list
    ])
    assert.deepEqual(parseRtcpPacket(compound), [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'sdes', chunks: [{ ssrc: 1, items: [] }] },
    ])
  })

  it('honours padding on the last packet', () => {
    const padded = Buffer.concat([hex('80c9 0001 00000001'), hex('a1cb 0002 00000009 00000004')])
    assert.deepEqual(parseRtcpPacket(padded), [
      { type: 'rr', ssrc: 1, reports: [] },
      { type: 'bye', ssrcs: [9] },
    ])
  })

  it('returns undefined when the first header is not RTCP', () => {
    assert.equal(parseRtcpPacket(Buffer.alloc(0)), undefined)
    assert.equal(parseRtcpPacket(hex('80c9')), undefined)
    assert.equal(parseRtcpPacket(hex('40c9 0001 00000001')), undefined) // version 1
    assert.equal(parseRtcpPacket(hex('80c9 0002 00000001')), undefined) // length overruns
    assert.equal(parseRtcpPacket(hex('a0c9 0001 00000009')), undefined) // padding overruns
  })

  it('keeps what parsed before a broken packet', () => {
    const broken = Buffer.concat([hex('80c9 0001 00000001'), hex('81ca 0009 00000001')])
    assert.deepEqual(parseRtcpPacket(broken), [{ type: 'rr', ssrc: 1, reports: [] }])
  })

  it('skips a packet whose counts contradict its length', () => {
    const compound = Buffer.concat([
      hex('82c8 0006 00000001 00000000 00000000 00000000 00000000 00000000'), // SR claims 2 blocks
      hex('81ca 0002 00000001 01ff0000'), // SDES item length overruns
      hex('81cb 0001 00000007'),
    ])
    assert.deepEqual(parseRtcpPacket(compound), [{ type: 'bye', ssrcs: [7] }])
  })

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), fc.boolean(), (bytes, forceV2) => {
        const buf = Buffer.from(bytes)
        if (forceV2 && buf.length >= 4) {
          buf[0] = (buf[0]! & 0x3f) | 0x80
          buf[1] = 200 + (buf[1]! % 5)
          buf.writeUInt16BE(Math.max(0, (buf.length >> 2) - 1), 2)
        }
        parseRtcpPacket(buf)
      }),
      { numRuns: 5000 },
    )
  })

  it('isRtcp tells RTCP from RTP by payload type', () => {
    assert.equal(isRtcp(SR_SDES), true)
    assert.equal(isRtcp(hex('80e0 0001 00000000 00000000')), false)
    assert.equal(isRtcp(hex('8060 0001 00000000 00000000')), false)
  })
})

const block: ReportBlock = {
  ssrc: 0x12345678,
  fractionLost: 25,
  cumulativeLost: 10,
  highestSequence: 0x10063,
  jitter: 123,
  lastSr: 0x2b3c8000,
  delaySinceLastSr: 131072,
}

describe('building', () => {
  it('buildReceiverReport gives RR + SDES CNAME', () => {
    const out = buildReceiverReport({ ssrc: 0xaabbccdd, reports: [block], cname: 'rtspkit@host' })
    assert.equal(
      out.toString('hex'),
      [
        '81c90007aabbccdd',
        '12345678' + '1900000a' + '00010063' + '0000007b' + '2b3c8000' + '00020000',
        '81ca0005aabbccdd',
        '010c' + Buffer.from('rtspkit@host').toString('hex') + '0000',
      ].join(''),
    )
    assert.deepEqual(parseRtcpPacket(out), [
      { type: 'rr', ssrc: 0xaabbccdd, reports: [block] },
      { type: 'sdes', chunks: [{ ssrc: 0xaabbccdd, cname: 'rtspkit@host', items: [{ type: 1, value: 'rtspkit@host' }] }] },
    ])
  })

  it('pads SDES to 32 bits with at least one zero octet', () => {
    for (let n = 0; n < 8; n++) {
      const out = buildReceiverReport({ ssrc: 1, cname: 'x'.repeat(n) })
      assert.equal(out.length % 4, 0)
      const sdes = parseRtcpPacket(out)![1]
      assert.deepEqual(sdes, { type: 'sdes', chunks: [{ ssrc: 1, cname: 'x'.repeat(n), items: [{ type: 1, value: 'x'.repeat(n) }] }] })
    }
  })

  it('appends a BYE last', () => {
    const out = buildReceiverReport({ ssrc: 5, cname: 'c', bye: { reason: 'teardown' } })
    const packets = parseRtcpPacket(out)!
    assert.deepEqual(packets.map((p) => p.type), ['rr', 'sdes', 'bye'])
    assert.deepEqual(packets[2], { type: 'bye', ssrcs: [5], reason: 'teardown' })
    assert.deepEqual(parseRtcpPacket(buildReceiverReport({ ssrc: 5, cname: 'c', bye: {} }))![2], { type: 'bye', ssrcs: [5] })
  })

  it('buildSenderReport round-trips and matches the captured layout', () => {
    const out = buildSenderReport({
      ssrc: 0x5a3b1c2d,
      ntp: { msw: 0xe98a2b3c, lsw: 0x80000000 },
      rtpTimestamp: 90000,
      packetCount: 300,
      octetCount: 300000,
      cname: 'cam@10.0.0.5',
    })
    assert.deepEqual(out, SR_SDES)
  })

  it('clamps and wraps counters into their fields', () => {
    const out = buildSenderReport({
      ssrc: 1,
      ntp: ntpFromDate(0),
      rtpTimestamp: 2 ** 32 + 7,
      packetCount: 2 ** 32 + 1,
      octetCount: 3,
      reports: [{ ...block, cumulativeLost: -10_000_000, fractionLost: 300 }],
      cname: 'c',
    })
    const sr = parseRtcpPacket(out)![0] as SenderReport
    assert.equal(sr.rtpTimestamp, 7)
    assert.equal(sr.packetCount, 1)
    assert.equal(sr.reports[0]!.cumulativeLost, -0x800000)
    assert.equal(sr.reports[0]!.fractionLost, 255)
    assert.equal(sr.unixMs, 0)
  })

  it('rejects what cannot be encoded', () => {
    assert.throws(() => buildReceiverReport({ ssrc: 1, cname: 'x'.repeat(256) }), InvalidArgumentError)
    assert.throws(() => buildReceiverReport({ ssrc: 1, cname: 'c', reports: new Array<ReportBlock>(32).fill(block) }), InvalidArgumentError)
    assert.throws(() => buildReceiverReport({ ssrc: 1.5, cname: 'c' }), InvalidArgumentError)
  })

  it('buildEmptyReceiverReport is the 8-byte punch packet', () => {
    assert.equal(buildEmptyReceiverReport(0x01020304).toString('hex'), '80c9000101020304')
  })

  it('RR round-trips random report blocks', () => {
    const arbBlock = fc.record({
      ssrc: fc.integer({ min: 0, max: 0xffffffff }),
      fractionLost: fc.integer({ min: 0, max: 255 }),
      cumulativeLost: fc.integer({ min: -0x800000, max: 0x7fffff }),
      highestSequence: fc.integer({ min: 0, max: 0xffffffff }),
      jitter: fc.integer({ min: 0, max: 0xffffffff }),
      lastSr: fc.integer({ min: 0, max: 0xffffffff }),
      delaySinceLastSr: fc.integer({ min: 0, max: 0xffffffff }),
    })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(arbBlock, { maxLength: 31 }), fc.string({ maxLength: 60 }), (ssrc, blocks, cname) => {
        const reports = blocks.map((b) => ({ ...b }))
        const packets = parseRtcpPacket(buildReceiverReport({ ssrc, reports, cname }))
        assert.deepEqual(packets?.[0], { type: 'rr', ssrc, reports })
        assert.equal(packets?.[1]?.type === 'sdes' && packets[1].chunks[0]?.cname, cname)
      }),
      { numRuns: 500 },
    )
  })
})

describe('NTP helpers', () => {
  it('ntpFromDate / ntpToUnixMs round-trip within a microsecond', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 4e12, noNaN: true }), (ms) => {
        assert.ok(Math.abs(ntpToUnixMs(ntpFromDate(ms)) - ms) < 1e-3)
      }),
    )
    assert.deepEqual(ntpFromDate(Date.UTC(2024, 1, 28, 21, 59, 24, 500)), { msw: 0xe98a2b3c, lsw: 0x80000000 })
  })

  it('reads NTP era 1 (after 2036-02-07)', () => {
    const after2036 = Date.UTC(2040, 0, 1)
    const ntp = ntpFromDate(after2036)
    assert.ok(ntp.msw < 0x80000000)
    assert.equal(ntpToUnixMs(ntp), after2036)
  })

  it('ntpMiddle32 takes the low 16 bits of seconds and the high 16 of the fraction', () => {
    assert.equal(ntpMiddle32({ msw: 0xe98a2b3c, lsw: 0x8000ffff }), 0x2b3c8000)
    assert.equal(ntpMiddle32({ msw: 0xffffffff, lsw: 0xffffffff }), 0xffffffff)
  })
})
