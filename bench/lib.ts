// @bench-lib (a helper, not a benchmark: scripts/bench.sh skips it)
/**
 * Measurement helpers for benchmarks: CPU time of a child process from /proc, medians,
 * markdown tables, JSON results in bench/out/.
 */
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Interface } from 'node:readline'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const OUT_DIR = fileURLToPath(new URL('./out/', import.meta.url))
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))
/** The built rtspkit CLI (npm run build). */
export const CLI_PATH = path.join(REPO_ROOT, 'dist/cli/main.js')

/** Why the CLI cannot be benchmarked, or undefined when it is built. */
export function cliUnavailable(): string | undefined {
  return existsSync(CLI_PATH) ? undefined : 'dist/cli/main.js not built (npm run build)'
}

let clockTicks: number | undefined
/** Kernel clock ticks per second (the unit of utime/stime in /proc). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clockTicks = 100
    }
  }
  return clockTicks
}

export interface CpuTimes {
  user: number
  system: number
  /** user + system, in seconds. */
  total: number
}

/**
 * User and system CPU seconds used so far by a live process, all its threads included
 * (/proc/PID/stat fields 14 and 15). Undefined once it has exited (or become a zombie).
 */
export function processCpu(pid: number): CpuTimes | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // comm (field 2) may hold spaces and parentheses: fields after the last ')' are safe.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined
  const hz = clockTicksPerSecond()
  const user = Number(fields[11]) / hz
  const system = Number(fields[12]) / hz
  return { user, system, total: user + system }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A markdown table; numbers are printed as given (format them first). */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–'
}

/** The machine a result was measured on. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus()
  const version = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim()
    } catch {
      return 'unavailable'
    }
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    ffmpeg: version('ffmpeg', ['-version']),
    gstreamer: version('gst-launch-1.0', ['--version']),
  }
}

/** Write `data` as bench/out/<name>-<timestamp>.json; returns the path. */
export async function writeResult(name: string, data: unknown): Promise<string> {
  await mkdir(OUT_DIR, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const file = path.join(OUT_DIR, `${name}-${stamp}.json`)
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}

/**
 * The environment contenders run in. NODE_EXTRA_CA_CERTS (set on some machines for a proxy's
 * CA) makes every Node process parse that bundle before any JavaScript runs, ~0.07 CPU-s with
 * Debian's full bundle, paid by rtspkit and not by ffmpeg or GStreamer even on rtsp:// URLs;
 * BENCH_NO_EXTRA_CA=1 leaves it out, so a figure can be compared with a machine without it.
 */
export function contenderEnv(): NodeJS.ProcessEnv {
  if (process.env.BENCH_NO_EXTRA_CA !== '1') return process.env
  const env = { ...process.env }
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

/** A line for a benchmark's output when NODE_EXTRA_CA_CERTS reaches the contenders (see contenderEnv). */
export function extraCaNote(): string | undefined {
  if (process.env.NODE_EXTRA_CA_CERTS === undefined || process.env.BENCH_NO_EXTRA_CA === '1') return undefined
  return `note: NODE_EXTRA_CA_CERTS is set (${process.env.NODE_EXTRA_CA_CERTS}): every Node process, rtspkit's included, loads it at start-up; BENCH_NO_EXTRA_CA=1 runs the contenders without it`
}

/** Integer environment setting with a default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: want a positive number`)
  return n
}

/** A program a benchmark measures beside others. */
export interface NamedContender {
  name: string
  /** Why it cannot run at all, if it cannot. */
  unavailable?(): string | undefined
}

/** The contenders BENCH_CONTENDERS names (all of them when unset), and why those that cannot run are skipped. */
export function pickContenders<C extends NamedContender>(all: readonly C[]): { contenders: C[]; skipped: Map<string, string> } {
  const wanted = (process.env.BENCH_CONTENDERS ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const contenders = wanted.length > 0 ? all.filter((c) => wanted.includes(c.name)) : [...all]
  const skipped = new Map<string, string>()
  for (const c of contenders) {
    const why = c.unavailable?.()
    if (why) skipped.set(c.name, why)
  }
  return { contenders, skipped }
}

/** The contenders in run `run`'s order (1-based): rotated each run so no contender always goes first. */
export function runOrder<T>(contenders: readonly T[], run: number): T[] {
  return contenders.map((_, i) => contenders[(i + run - 1) % contenders.length]!)
}

/** The telling line of a failure's stderr: the first error line, else the last line. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  return (lines.find((l) => /error/i.test(l)) ?? lines.pop() ?? '').slice(0, 200)
}

/**
 * A 720p25 H.264 MP4 at a fixed ~2 Mbit/s, made once by ffmpeg and kept in bench/out/cache
 * (testsrc2 with temporal noise so the encoder spends the bitrate; maxrate = bitrate, a key
 * frame every 2 s, no B-frames). Shared by the fan-out and scale benchmarks.
 */
export function clip720p2M(seconds: number): string {
  const dir = path.join(OUT_DIR, 'cache')
  mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `serve-720p25-2M-${seconds}s.mp4`)
  if (existsSync(file)) return file
  process.stderr.write(`making the ${seconds} s 720p 2 Mbit/s clip (once)…\n`)
  execFileSync('nice', [
    'ffmpeg', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25', '-t', String(seconds),
    '-vf', 'noise=alls=6:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '2M', '-maxrate', '2M',
    '-bufsize', '2M', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0', '-bf', '0', '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart', `${file}.part.mp4`,
  ])
  execFileSync('mv', [`${file}.part.mp4`, file])
  return file
}

/** Resident set size of a live process in bytes (VmRSS), and its peak (VmHWM); undefined once it has exited. */
export function processRss(pid: number): { rss: number; peak: number } | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024
  return { rss: kb('VmRSS'), peak: kb('VmHWM') }
}

/** Lines from a child's stdout, one at a time. */
export class LineQueue {
  private readonly lines: string[] = []
  private wake: (() => void) | undefined
  private ended = false
  constructor(rl: Interface) {
    rl.on('line', (l) => {
      this.lines.push(l)
      this.wake?.()
    })
    rl.on('close', () => {
      this.ended = true
      this.wake?.()
    })
  }
  async next(timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs
    while (this.lines.length === 0) {
      if (this.ended) throw new Error('the process closed its output')
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`no output after ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.wake = undefined
    }
    return this.lines.shift()!
  }
}

export interface Proc {
  child: ChildProcess
  out: LineQueue
  stderr(): string
  stop(): Promise<void>
}

export function startProc(command: string, args: string[]): Proc {
  // stdin stays a pipe: both the gst script and the readers exit when it closes.
  const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (s: string) => {
    err = (err + s).slice(-8192)
  })
  child.stdin!.on('error', () => {})
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  return {
    child,
    out: new LineQueue(createInterface({ input: child.stdout! })),
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end()
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
    },
  }
}

