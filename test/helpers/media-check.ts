/**
 * Check media with ffprobe/ffmpeg (the independent reader): what a recording holds, whether
 * every frame decodes, what a live URL offers.
 */
import { runProcess } from './cli.js'

export interface ProbeStream {
  index: number
  codec_type: string
  codec_name: string
  profile?: string
  width?: number
  height?: number
  pix_fmt?: string
  sample_rate?: string
  channels?: number
  r_frame_rate?: string
  time_base?: string
  duration?: string
  /** With -count_packets (ffprobeFile). */
  nb_read_packets?: string
  /** Only with countFrames (decodes everything: slower). */
  nb_read_frames?: string
  [key: string]: unknown
}

export interface ProbeFormat {
  filename: string
  format_name: string
  nb_streams: number
  duration?: string
  size?: string
  bit_rate?: string
  [key: string]: unknown
}

export interface ProbeResult {
  streams: ProbeStream[]
  format: ProbeFormat
}

/** ffprobe failed (exit status, timeout); `stderr` says why. */
export class ProbeError extends Error {
  readonly code: number | null
  readonly stderr: string
  readonly timedOut: boolean
  constructor(target: string, code: number | null, stderr: string, timedOut: boolean) {
    super(`ffprobe ${target} ${timedOut ? 'timed out' : `exited with ${code}`}: ${stderr.trim().slice(-2000)}`)
    this.name = 'ProbeError'
    this.code = code
    this.stderr = stderr
    this.timedOut = timedOut
  }
}

async function probe(args: string[], target: string, timeoutMs: number): Promise<ProbeResult> {
  const r = await runProcess('ffprobe', ['-v', 'error', ...args, '-show_streams', '-show_format', '-of', 'json', target], {
    timeoutMs,
  })
  if (r.code !== 0) throw new ProbeError(target, r.code, r.stderr, r.timedOut)
  const parsed = JSON.parse(r.stdout) as Partial<ProbeResult>
  return { streams: parsed.streams ?? [], format: parsed.format ?? ({} as ProbeFormat) }
}

/**
 * Streams and container of a file, with packet counts per stream (`nb_read_packets`).
 * `countFrames` also decodes and fills `nb_read_frames`.
 */
export function ffprobeFile(
  path: string,
  opts: { countFrames?: boolean; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const args = ['-count_packets']
  if (opts.countFrames) args.push('-count_frames')
  return probe(args, path, opts.timeoutMs ?? 60_000)
}

/** What a live RTSP URL offers, as ffprobe sees it over the given transport. */
export function ffprobeUrl(
  url: string,
  transport: 'tcp' | 'udp' = 'tcp',
  opts: { timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000
  // -timeout: socket I/O timeout in µs, so a silent server fails instead of hanging.
  const ioTimeoutUs = String(Math.max(1, timeoutMs - 1000) * 1000)
  return probe(['-rtsp_transport', transport, '-timeout', ioTimeoutUs], url, timeoutMs)
}

/**
 * Decode everything; resolve with ffmpeg's error output ('' when every frame decodes).
 * Rejects only when ffmpeg itself cannot run or times out.
 */
export async function decodeErrors(path: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 'null', '-'], {
    timeoutMs: opts.timeoutMs ?? 60_000,
  })
  if (r.timedOut) throw new Error(`ffmpeg decode of ${path} timed out`)
  const stderr = r.stderr.trim()
  if (r.code !== 0 && stderr === '') return `ffmpeg exited with ${r.code}`
  return stderr
}

/** Streams of the given type (`'video'`, `'audio'`). */
export function streamsOf(result: ProbeResult, codecType: string): ProbeStream[] {
  return result.streams.filter((s) => s.codec_type === codecType)
}
