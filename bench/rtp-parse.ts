/**
 * Micro-benchmark: packets/s of parseRtpPacket (and the allocation-free
 * parseRtpPacketInto) over a packet mix like a camera's: H.264 FU-A at MTU size, some with
 * an ONVIF header extension, AAC and G.711 audio, a few padded packets.
 *
 *   node --import tsx bench/rtp-parse.ts [--runs 9] [--json]
 */
import { parseArgs } from 'node:util'
import { buildRtpPacket, createRtpPacket, parseRtpPacket, parseRtpPacketInto } from '../src/rtp/packet.js'

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '9' }, json: { type: 'boolean', default: false } },
})
const RUNS = Math.max(1, Number(values.runs))
const PACKETS = 10_000
const TARGET_MS = 200

function makePackets(): Buffer[] {
  const out: Buffer[] = []
  let videoSeq = 0
  let audioSeq = 0
  let videoTs = 0
  for (let i = 0; out.length < PACKETS; i++) {
    const kind = i % 20
    if (kind < 16) {
      // Video: 1400-byte payloads, marker on every 8th (end of a frame).
      const marker = videoSeq % 8 === 7
      const extension = i % 40 === 0 ? { profile: 0xabac, data: Buffer.alloc(12, 0x5a) } : undefined
      const paddingLength = i % 97 === 0 ? 4 : 0
      out.push(
        Buffer.from(
          buildRtpPacket(
            { marker, payloadType: 96, sequenceNumber: videoSeq++, timestamp: videoTs, ssrc: 0x11223344, extension, paddingLength },
            Buffer.alloc(1400, i & 0xff),
          ),
        ),
      )
      if (marker) videoTs += 3600
    } else if (kind < 19) {
      out.push(buildRtpPacket({ marker: true, payloadType: 97, sequenceNumber: audioSeq, timestamp: audioSeq * 1024, ssrc: 0x55667788 }, Buffer.alloc(220, 1)))
      audioSeq++
    } else {
      out.push(buildRtpPacket({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0x99aabbcc }, Buffer.alloc(160, 0xff)))
    }
  }
  return out
}

type Loop = (packets: Buffer[], reps: number) => number

const viaParse: Loop = (packets, reps) => {
  let sink = 0
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < packets.length; i++) {
      const p = parseRtpPacket(packets[i]!)
      if (p) sink += p.payload.length + p.sequenceNumber
    }
  }
  return sink
}

const target = createRtpPacket()
const viaInto: Loop = (packets, reps) => {
  let sink = 0
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < packets.length; i++) {
      if (parseRtpPacketInto(packets[i]!, target)) sink += target.payload.length + target.sequenceNumber
    }
  }
  return sink
}

function measure(name: string, loop: Loop, packets: Buffer[]): { name: string; packetsPerSecond: number; nsPerPacket: number } {
  // Warm up, then size the repetitions so one run takes about TARGET_MS.
  let reps = 1
  for (;;) {
    const t0 = process.hrtime.bigint()
    loop(packets, reps)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (ms > TARGET_MS / 4) {
      reps = Math.max(1, Math.round((reps * TARGET_MS) / ms))
      break
    }
    reps *= 2
  }
  const rates: number[] = []
  let sink = 0
  for (let run = 0; run < RUNS; run++) {
    const t0 = process.hrtime.bigint()
    sink += loop(packets, reps)
    const ns = Number(process.hrtime.bigint() - t0)
    rates.push((packets.length * reps * 1e9) / ns)
  }
  if (sink === 0) throw new RangeError('benchmark sink is empty: nothing was parsed')
  rates.sort((a, b) => a - b)
  const median = rates[rates.length >> 1]!
  return { name, packetsPerSecond: Math.round(median), nsPerPacket: 1e9 / median }
}

const packets = makePackets()
const results = [measure('parseRtpPacket', viaParse, packets), measure('parseRtpPacketInto', viaInto, packets)]
if (values.json) {
  console.log(JSON.stringify({ bench: 'rtp-parse', node: process.version, packets: packets.length, runs: RUNS, results }))
} else {
  console.log(`rtp-parse: ${packets.length} packets (H.264 + ext, AAC, G.711, padding), median of ${RUNS} runs, node ${process.version}`)
  for (const r of results) {
    console.log(`  ${r.name.padEnd(20)} ${(r.packetsPerSecond / 1e6).toFixed(2).padStart(7)} M packets/s  ${r.nsPerPacket.toFixed(1).padStart(7)} ns/packet`)
  }
}
