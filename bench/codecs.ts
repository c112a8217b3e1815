/**
 * Depacketize and packetize throughput per codec folder, on one core, beside the bare cost
 * of a zero-copy RTP header parse of the same packets (the floor any depacketizer stands on).
 *   node --import tsx bench/codecs.ts        (BENCH_RUNS=5 by default; median reported)
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseSdp } from '../src/sdp/parse.js'
import { resolveFormat } from '../src/formats/index.js'
import { H264Packetizer } from '../src/formats/h264/packetizer.js'
import { H265Packetizer } from '../src/formats/h265/packetizer.js'
import { AacPacketizer } from '../src/formats/aac/packetizer.js'
import { LatmPacketizer } from '../src/formats/latm/packetizer.js'
import { OpusPacketizer } from '../src/formats/opus/packetizer.js'
import { G711Packetizer } from '../src/formats/g711/packetizer.js'
import { MjpegPacketizer } from '../src/formats/mjpeg/packetizer.js'
import { createRtpPacket, parseRtpPacketInto } from '../src/rtp/packet.js'

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5)

interface Unit {
  data: Buffer[]
  rtpTimestamp: number
}
interface Packetizer {
  packetize(u: Unit): Buffer[]
}
interface Case {
  name: string
  rtpmap: string
  fmtp: string
  packetizer: () => Packetizer
  units: Unit[]
}

function bytes(n: number, head: number[]): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7919 + n) & 0xff
  // No 00 00 0x runs inside a NAL unit, as emulation prevention guarantees.
  for (let i = 0; i < n; i++) if (b[i] === 0) b[i] = 1
  head.forEach((v, i) => (b[i] = v))
  return b
}

function videoUnits(idr: number[], p: number[], sets: Buffer[]): Unit[] {
  // 1080p-ish at ~8 Mbit/s: a 120 KB key frame every 30, 30 KB pictures between.
  return Array.from({ length: 300 }, (_, i) => ({
    rtpTimestamp: i * 3000,
    data: i % 30 === 0 ? [...sets, bytes(120_000, idr)] : [bytes(30_000, p)],
  }))
}

const audio = (size: number, step: number): Unit[] => Array.from({ length: 20_000 }, (_, i) => ({ rtpTimestamp: i * step, data: [bytes(size, [])] }))

function jpegFrames(): Unit[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'rtspkit-bench-'))
  try {
    const file = path.join(dir, 'f.jpg')
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720', '-frames:v', '1', '-pix_fmt', 'yuvj420p', '-q:v', '5', '-huffman', 'default', file])
    const jpeg = readFileSync(file)
    return Array.from({ length: 100 }, (_, i) => ({ rtpTimestamp: i * 3000, data: [jpeg] }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const w = { payloadType: 96, ssrc: 0x11223344 }
const cases: Case[] = [
  { name: 'H.264', rtpmap: 'H264/90000', fmtp: 'packetization-mode=1', packetizer: () => new H264Packetizer(w), units: videoUnits([0x65], [0x41], [Buffer.from('6742c01e', 'hex'), Buffer.from('68ce3c80', 'hex')]) },
  { name: 'H.265', rtpmap: 'H265/90000', fmtp: '', packetizer: () => new H265Packetizer(w), units: videoUnits([0x26, 0x01], [0x02, 0x01], [Buffer.from('40010c01', 'hex'), Buffer.from('42010101', 'hex'), Buffer.from('4401c172', 'hex')]) },
  { name: 'AAC (hbr)', rtpmap: 'mpeg4-generic/48000/2', fmtp: 'streamtype=5;mode=AAC-hbr;config=1190;sizelength=13;indexlength=3;indexdeltalength=3', packetizer: () => new AacPacketizer({ ...w, maxFramesPerPacket: 1 }), units: audio(400, 1024) },
  { name: 'MP4A-LATM', rtpmap: 'MP4A-LATM/48000/2', fmtp: 'cpresent=0;config=400023103fc0', packetizer: () => new LatmPacketizer(w), units: audio(400, 1024) },
  { name: 'Opus', rtpmap: 'opus/48000/2', fmtp: 'sprop-stereo=1', packetizer: () => new OpusPacketizer(w), units: audio(160, 960) },
  { name: 'G.711 (PCMA)', rtpmap: 'PCMA/8000', fmtp: '', packetizer: () => new G711Packetizer(w) as unknown as Packetizer, units: audio(160, 160) },
  { name: 'MJPEG 720p', rtpmap: 'JPEG/90000', fmtp: '', packetizer: () => new MjpegPacketizer(w), units: jpegFrames() },
]

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function timeIt(fn: () => void): number {
  fn() // warm up
  const ms: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now()
    fn()
    ms.push(performance.now() - t0)
  }
  return median(ms)
}

let rows: string[] = []
// Two passes; only the second counts, so the first codec does not pay for the JIT warm-up.
for (let pass = 0; pass < 2; pass++) {
rows = []
for (const c of cases) {
  const media = parseSdp(`v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 ${c.rtpmap}\r\n${c.fmtp ? `a=fmtp:96 ${c.fmtp}\r\n` : ''}`).media[0]!
  const handler = resolveFormat(media, 96)
  if (handler === undefined) {
    rows.push(`| ${c.name} | (not supported) | | | |`)
    continue
  }
  const packets: Buffer[] = []
  const pk = c.packetizer()
  for (const u of c.units) packets.push(...pk.packetize(u))
  const mb = packets.reduce((a, p) => a + p.length, 0) / 1e6
  const n = packets.length
  const pkt = createRtpPacket()
  const tParse = timeIt(() => {
    for (const p of packets) parseRtpPacketInto(p, pkt)
  })
  const tDepack = timeIt(() => {
    const d = handler.createDepacketizer()
    for (const p of packets) {
      parseRtpPacketInto(p, pkt)
      d.push(pkt)
    }
  })
  const tPack = timeIt(() => {
    const fresh = c.packetizer()
    for (const u of c.units) fresh.packetize(u)
  })
  const rate = (ms: number) => `${((n / ms) * 1000 / 1e6).toFixed(2)} M pkt/s, ${((mb / ms) * 1000).toFixed(0)} MB/s`
  rows.push(`| ${c.name} | ${n} | ${rate(tParse)} | ${rate(tDepack)} | ${rate(tPack)} |`)
  process.stderr.write(`${c.name}: done\n`)
}
}

console.log(`### Depacketize / packetize throughput, one core, median of ${RUNS} runs\n`)
console.log('| codec | packets | RTP parse only | parse + depacketize | packetize |')
console.log('|---|---|---|---|---|')
for (const r of rows) console.log(r)
