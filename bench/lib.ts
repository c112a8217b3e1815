// @bench-lib (a helper, not a benchmark: scripts/bench.sh skips it)
/**
 * Measurement helpers for benchmarks: CPU time of a child process from /proc, medians,
 * markdown tables, JSON results in bench/out/.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
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
