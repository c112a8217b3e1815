// @bench-lib (a helper, not a benchmark: scripts/bench.sh skips it)
/**
 * A benchmark stream: 1080p H.264 encoded once by ffmpeg (cached), split into access units
 * and packetized into RTP (single NAL unit / FU-A, RFC 6184) ready to be sent as TCP
 * interleaved frames. Independent of src/ on purpose: the benchmark must not share the
 * packetizer it is measuring against.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, rename, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { groupAccessUnits } from '../test/helpers/h264-access-units.js'

const execFileAsync = promisify(execFile)

export const CACHE_DIR = fileURLToPath(new URL('./out/cache/', import.meta.url))
export const CLOCK_RATE = 90_000

export interface EncodeOptions {
  /** Target bitrate in Mbit/s (default 80). */
  mbps?: number
  width?: number
  height?: number
  fps?: number
  /** Clip length in seconds (default 4; it is looped). */
  seconds?: number
}

/**
 * Encode (once; then cached) a testsrc2 clip with x264 ultrafast, GOP 60, Annex B.
 * testsrc2 alone compresses to about 38 Mbit/s at 1080p even with -b:v 80M, so temporal
 * noise is added to reach the target bitrate.
 */
export async function encodeTestClip(opts: EncodeOptions = {}): Promise<string> {
  const { mbps = 80, width = 1920, height = 1080, fps = 30, seconds = 4 } = opts
  const file = path.join(CACHE_DIR, `testsrc2-${width}x${height}-${fps}fps-${mbps}M-${seconds}s.h264`)
  try {
    if ((await stat(file)).size > 0) return file
  } catch {
    // not cached yet
  }
  await mkdir(CACHE_DIR, { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  await execFileAsync(
    'ffmpeg',
    [
      '-nostdin', '-v', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`,
      '-vf', 'noise=alls=12:allf=t',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', `${mbps}M`, '-maxrate', `${Math.round(mbps * 1.1)}M`,
      '-bufsize', `${mbps / 2}M`, '-g', String(fps * 2), '-bf', '0', '-pix_fmt', 'yuv420p',
      '-t', String(seconds), '-f', 'h264', tmp,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  )
  await rename(tmp, file)
  return file
}

/** NAL units of an Annex B byte stream (start codes and trailing zero bytes removed). */
export function splitAnnexB(data: Buffer): Buffer[] {
  const starts: number[] = []
  for (let i = 0; i + 2 < data.length; i++) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      starts.push(i + 3)
      i += 2
    }
  }
  const nals: Buffer[] = []
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]!
    let end = k + 1 < starts.length ? starts[k + 1]! - 3 : data.length
    while (end > begin && data[end - 1] === 0) end-- // the zero_byte of a 4-byte start code
    if (end > begin) nals.push(data.subarray(begin, end))
  }
  return nals
}

/** One access unit as ready-to-send TCP interleaved RTP frames. */
export interface PacketizedUnit {
  /** '$' ch len16 | RTP header | payload, for every packet of the unit, back to back. */
  frames: Buffer
  /** Offset in `frames` of each frame's '$'. */
  offsets: Uint32Array
  /** RTP timestamp relative to the start of the clip. */
  timestamp: number
  key: boolean
}

export interface PacketizedStream {
  units: PacketizedUnit[]
  fps: number
  /** Clock ticks one loop of the clip lasts. */
  loopTicks: number
  packetsPerLoop: number
  bytesPerLoop: number
  sps: Buffer
  pps: Buffer
  payloadType: number
}

const FU_A = 28

/**
 * Packetize access units: a NAL unit that fits in `maxPayload` goes alone (single NAL
 * unit packet), a larger one is split into FU-A fragments (RFC 6184 §5.8):
 *
 *   FU indicator  +-+-+-+-+-+-+-+-+   FU header  +-+-+-+-+-+-+-+-+
 *                 |F|NRI|  Type=28 |              |S|E|R|  Type   |
 *                 +-+-+-+-+-+-+-+-+              +-+-+-+-+-+-+-+-+
 *
 * The marker bit is set on the last packet of each access unit. Sequence numbers,
 * SSRC and the channel are left 0: the sender patches them per connection.
 */
export function packetize(
  units: Buffer[][],
  opts: { fps: number; maxPayload?: number; payloadType?: number },
): PacketizedStream {
  const maxPayload = opts.maxPayload ?? 1400
  const payloadType = opts.payloadType ?? 96
  const ticksPerFrame = CLOCK_RATE / opts.fps
  let sps: Buffer | undefined
  let pps: Buffer | undefined
  let packetsPerLoop = 0
  let bytesPerLoop = 0
  const out: PacketizedUnit[] = []
  units.forEach((nals, index) => {
    const payloads: Buffer[][] = []
    let key = false
    for (const nal of nals) {
      const type = nal[0]! & 0x1f
      if (type === 7) sps ??= nal
      if (type === 8) pps ??= nal
      if (type === 5) key = true
      if (nal.length <= maxPayload) {
        payloads.push([nal])
        continue
      }
      const indicator = Buffer.of((nal[0]! & 0xe0) | FU_A)
      const chunk = maxPayload - 2
      for (let at = 1; at < nal.length; at += chunk) {
        const end = Math.min(at + chunk, nal.length)
        const header = Buffer.of((at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type)
        payloads.push([indicator, header, nal.subarray(at, end)])
      }
    }
    const size = payloads.reduce((n, p) => n + 4 + 12 + p.reduce((m, b) => m + b.length, 0), 0)
    const frames = Buffer.alloc(size)
    const offsets = new Uint32Array(payloads.length)
    const timestamp = Math.round(index * ticksPerFrame)
    let at = 0
    payloads.forEach((parts, k) => {
      offsets[k] = at
      const rtpLength = 12 + parts.reduce((m, b) => m + b.length, 0)
      frames[at] = 0x24
      frames.writeUInt16BE(rtpLength, at + 2)
      frames[at + 4] = 0x80 // V=2
      frames[at + 5] = (k === payloads.length - 1 ? 0x80 : 0) | payloadType
      frames.writeUInt32BE(timestamp, at + 8)
      at += 16
      for (const p of parts) {
        p.copy(frames, at)
        at += p.length
      }
    })
    packetsPerLoop += payloads.length
    bytesPerLoop += size
    out.push({ frames, offsets, timestamp, key })
  })
  if (!sps || !pps) throw new Error('the clip has no SPS/PPS: re-encode it (delete bench/out/cache)')
  return {
    units: out,
    fps: opts.fps,
    loopTicks: Math.round(units.length * ticksPerFrame),
    packetsPerLoop,
    bytesPerLoop,
    sps,
    pps,
    payloadType,
  }
}

/** Encode (or reuse) the clip and packetize it. */
export async function loadBenchStream(opts: EncodeOptions & { maxPayload?: number } = {}): Promise<PacketizedStream> {
  const file = await encodeTestClip(opts)
  const units = groupAccessUnits(splitAnnexB(await readFile(file)))
  return packetize(units, { fps: opts.fps ?? 30, maxPayload: opts.maxPayload })
}
