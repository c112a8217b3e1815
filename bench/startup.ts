/**
 * Start-up cost (issue #14): user+system CPU of short CLI runs, each beside its peer in the
 * same run, run after run interleaved.
 *
 *   node:            node -e 0                           (the floor: Node itself)
 *   rtspkit version: rtspkit --version                   target ≤ 1.5 × node -e 0
 *   rtspkit probe:   rtspkit probe URL --transport tcp   target ≤ 2.0 × ffprobe
 *   ffprobe:         ffprobe -v error -rtsp_transport tcp -show_streams URL
 *
 * URL is a 720p25 H.264 stream served by `rtspkit serve` in another process (not counted).
 * Each command runs BENCH_REPEAT times (default 10) per round, CPU from /usr/bin/time
 * (%U + %S, 10 ms ticks, so the sum over a round is what counts); BENCH_RUNS rounds (default
 * 3), medians over rounds of the per-command mean.
 *
 *   BENCH_RUNS=3 BENCH_REPEAT=10 node --import tsx bench/startup.ts
 *
 * BENCH_CLI=path/to/cli/main.js measures another build of rtspkit. BENCH_BASELINE_CLI=path/to/cli/main.js
 * adds that build's --version and probe beside this one's, in the same rounds.
 */
import { spawn } from 'node:child_process'
import {
  CLI_PATH,
  clip720p2M,
  cliUnavailable,
  envNumber,
  fixed,
  machineInfo,
  markdownTable,
  median,
  startProc,
  writeResult,
} from './lib.js'

const CLI = process.env.BENCH_CLI ?? CLI_PATH
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI

interface Command {
  name: string
  argv(url: string): string[]
}

const COMMANDS: Command[] = [
  { name: 'node -e 0', argv: () => [process.execPath, '-e', '0'] },
  { name: 'rtspkit --version', argv: () => [process.execPath, CLI, '--version'] },
  { name: 'rtspkit probe', argv: (url) => [process.execPath, CLI, 'probe', url, '--transport', 'tcp'] },
  ...(BASELINE_CLI === undefined
    ? []
    : [
        { name: 'baseline --version', argv: () => [process.execPath, BASELINE_CLI, '--version'] },
        { name: 'baseline probe', argv: (url: string) => [process.execPath, BASELINE_CLI, 'probe', url, '--transport', 'tcp'] },
      ]),
  { name: 'ffprobe', argv: (url) => ['ffprobe', '-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', url] },
]

/** CPU seconds (user + system) and wall seconds of one run, from GNU time. */
function timed(argv: string[]): Promise<{ cpu: number; wall: number; ok: boolean; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCHCPU %U %S %e', ...argv], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => (err += s))
    child.on('close', (code) => {
      const m = /BENCHCPU ([\d.]+) ([\d.]+) ([\d.]+)/.exec(err)
      resolve({ cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN, wall: m ? Number(m[3]) : Number.NaN, ok: code === 0, err: err.replace(/BENCHCPU.*/, '').trim() })
    })
  })
}

async function main(): Promise<void> {
  const why = cliUnavailable()
  if (why && process.env.BENCH_CLI === undefined) throw new Error(why)
  const runs = Math.round(envNumber('BENCH_RUNS', 3))
  const repeat = Math.round(envNumber('BENCH_REPEAT', 10))
  const server = startProc(process.execPath, [CLI_PATH, 'serve', '--quiet', '--port', '0', `bench=${clip720p2M(60)}`])
  let url = ''
  try {
    for (;;) {
      const m = /listening on (rtsp:\/\/\S+)/.exec(await server.out.next(20_000))
      if (m) {
        url = `${m[1]}/bench`
        break
      }
    }
    console.error(`startup: ${runs} round(s) of ${repeat} runs per command; probe URL ${url}`)
    const cpu = new Map<string, number[]>(COMMANDS.map((c) => [c.name, []]))
    const wall = new Map<string, number[]>(COMMANDS.map((c) => [c.name, []]))
    const failures = new Map<string, string>()
    for (let run = 1; run <= runs; run++) {
      const sums = new Map<string, { cpu: number; wall: number; n: number }>(COMMANDS.map((c) => [c.name, { cpu: 0, wall: 0, n: 0 }]))
      // Interleaved one by one, so a burst of load falls on every command alike.
      for (let i = 0; i < repeat; i++) {
        for (const c of COMMANDS) {
          const r = await timed(c.argv(url))
          if (!r.ok) {
            failures.set(c.name, r.err.split('\n').pop() ?? 'failed')
            continue
          }
          const s = sums.get(c.name)!
          s.cpu += r.cpu
          s.wall += r.wall
          s.n++
        }
      }
      for (const c of COMMANDS) {
        const s = sums.get(c.name)!
        if (s.n === 0) continue
        cpu.get(c.name)!.push(s.cpu / s.n)
        wall.get(c.name)!.push(s.wall / s.n)
      }
      console.error(`  round ${run}: ${COMMANDS.map((c) => `${c.name} ${fixed(cpu.get(c.name)!.at(-1) ?? Number.NaN, 3)} CPU-s`).join(', ')}`)
    }
    const med = (name: string): number => median(cpu.get(name)!)
    const rows: string[][] = COMMANDS.map((c) => {
      const ratio =
        c.name.endsWith(' --version') ? `${fixed(med(c.name) / med('node -e 0'))} × node -e 0`
        : c.name.endsWith(' probe') ? `${fixed(med(c.name) / med('ffprobe'))} × ffprobe, ${fixed(med(c.name) / med('node -e 0'))} × node -e 0`
        : ''
      return [c.name, fixed(med(c.name), 3), fixed(median(wall.get(c.name)!), 3), ratio, failures.get(c.name) ?? '']
    })
    console.log(`### Start-up: CPU of one run (user + system), mean of ${repeat} runs, median of ${runs} rounds\n`)
    console.log(`${machineInfo().cores} cores; probe of a 720p25 H.264 stream from \`rtspkit serve\` over TCP.\n`)
    console.log(markdownTable(['command', 'CPU-s', 'wall s', 'ratio', 'note'], rows))
    const out = await writeResult('startup', {
      benchmark: 'startup',
      date: new Date().toISOString(),
      config: { runs, repeat, cli: CLI, baselineCli: BASELINE_CLI },
      machine: machineInfo(),
      commands: COMMANDS.map((c) => ({ name: c.name, argv: c.argv('URL').join(' ') })),
      cpuPerRound: Object.fromEntries(cpu),
      wallPerRound: Object.fromEntries(wall),
      failures: Object.fromEntries(failures),
    })
    console.log(`\nresults: ${out}`)
  } finally {
    await server.stop()
  }
}

await main()
