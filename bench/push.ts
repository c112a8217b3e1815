/**
 * Push cost: CPU seconds per GB sent over RTSP/TCP interleaved, rtspkit beside ffmpeg, both
 * unpaced, pushing the same file to the same receiver in the same run.
 *   rtspkit: rtspkit push FILE URL --no-realtime --transport tcp
 *   ffmpeg:  ffmpeg -i FILE -c copy -f rtsp -rtsp_transport tcp URL
 * The receiver (a scripted RTSP server in this process) answers ANNOUNCE/SETUP/RECORD and
 * counts the interleaved bytes. Whole-run CPU comes from `times` of a bash that ran the
 * contender. Steady CPU leaves start-up out (Node, modules, the demuxer, V8's first
 * compiles, ffmpeg's probing): the contender's own user+system time (/proc/PID/stat, all
 * threads) is read when the receiver has counted BENCH_STEADY_SHARE (default 0.2) of the
 * bytes the contender's untimed run sent, and again every 2 MB received until it exits; the
 * steady figure is the CPU between that mark and the last reading, over the bytes counted
 * between.
 *   BENCH_RUNS=3 node --import tsx bench/push.ts
 * BENCH_CLI=path/to/cli/main.js measures another build of rtspkit as 'rtspkit' (one's own
 * build while dist/ holds another's). BENCH_BASELINE_CLI=path/to/cli/main.js adds a third
 * contender, another build of rtspkit (say the commit before a change), measured in the
 * same run. BENCH_NO_EXTRA_CA=1: contenders run without NODE_EXTRA_CA_CERTS (bench/lib.ts,
 * contenderEnv).
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { startFakeServer } from '../test/helpers/fake-rtsp-server.js'
import { OUT_DIR, REPO_ROOT, contenderEnv, envNumber, extraCaNote, fixed, markdownTable, median, processCpu, writeResult } from './lib.js'

const RUNS = envNumber('BENCH_RUNS', 3)
const BASELINE_CLI = process.env['BENCH_BASELINE_CLI']
const CLI = process.env['BENCH_CLI'] ?? path.join(REPO_ROOT, 'dist/cli/main.js')
const STEADY_SHARE = envNumber('BENCH_STEADY_SHARE', 0.2)
if (STEADY_SHARE >= 1) throw new Error(`BENCH_STEADY_SHARE=${STEADY_SHARE}: want a share below 1`)
const cache = path.join(OUT_DIR, 'cache')
mkdirSync(cache, { recursive: true })
const clip = path.join(cache, 'push-1080p-20M.mp4')
if (!existsSync(clip)) {
  process.stderr.write('making the 1080p clip (once)…\n')
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '10', '-vf', 'noise=alls=8:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '20M', '-bf', '0', '-g', '60',
    '-c:a', 'aac', '-b:a', '128k', clip,
  ])
}

let received = 0
/** Set while a run waits for its steady mark. */
let markCheck: (() => void) | undefined
const server = await startFakeServer(
  (req, ctx) => {
    switch (req.method) {
      case 'OPTIONS':
        return ctx.reply(200, { Public: 'OPTIONS, ANNOUNCE, SETUP, RECORD, TEARDOWN' })
      case 'SETUP': {
        const t = req.headers['transport'] ?? ''
        return ctx.reply(200, { Transport: t, Session: '1234;timeout=60' })
      }
      default:
        return ctx.reply(200, { Session: '1234' })
    }
  },
  {
    onInterleaved: (_ch, payload) => {
      received += payload.length + 4
      markCheck?.()
    },
  },
)

interface Contender {
  name: string
  command: string
}
const url = server.url('/live')
// Several passes over the clip so that start-up (Node, module loading) does not dominate.
const rtspkit = (cli: string): string => `${process.execPath} ${cli} push ${clip} ${url} --no-realtime --loop --duration 60 --transport tcp --quiet`
const contenders: Contender[] = [
  { name: 'rtspkit', command: rtspkit(CLI) },
  ...(BASELINE_CLI !== undefined ? [{ name: 'rtspkit (baseline)', command: rtspkit(BASELINE_CLI) }] : []),
  { name: 'ffmpeg', command: `ffmpeg -nostdin -v error -stream_loop 5 -i ${clip} -c copy -f rtsp -rtsp_transport tcp ${url}` },
]

interface RunResult {
  cpu: number
  wall: number
  ok: boolean
  bytes: number
  /** CPU and bytes between the steady mark and the contender's last reading (NaN when no mark was reached). */
  steadyCpu: number
  steadyBytes: number
}

/** Bytes between two readings of the contender's CPU after the steady mark. */
const SAMPLE_BYTES = 2_000_000

/**
 * Run under bash and read the child's user+system time from `times`. The contender runs as
 * bash's background job, so `$!` is its own PID (bash execs a simple command in the forked
 * child): its /proc/PID/stat is read on the interleaved frame that crosses the steady mark
 * (`markBytes` received), then every SAMPLE_BYTES while it lives, so that the last reading
 * falls within SAMPLE_BYTES of its last packet (its TEARDOWN and exit left out).
 */
function run(command: string, markBytes: number): Promise<RunResult> {
  return new Promise((resolve) => {
    received = 0
    const t0 = performance.now()
    const child = spawn('bash', ['-c', `${command} >/dev/null 2>&1 & echo "pid=$!"; wait $!; echo "rc=$?"; times`], { stdio: ['ignore', 'pipe', 'ignore'], env: contenderEnv() })
    let out = ''
    let pid: number | undefined
    let mark: { cpu: number; bytes: number } | undefined
    let last: { cpu: number; bytes: number } | undefined
    let next = markBytes
    markCheck = () => {
      if (received < next || pid === undefined) return
      const bytes = received
      const cpu = processCpu(pid)
      if (cpu === undefined) return
      if (mark === undefined) mark = { cpu: cpu.total, bytes }
      else last = { cpu: cpu.total, bytes }
      next = bytes + SAMPLE_BYTES
    }
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /^pid=(\d+)$/m.exec(out)
      if (m) pid = Number(m[1])
    })
    child.on('close', () => {
      markCheck = undefined
      const lines = out.trim().split('\n').filter((l) => !l.startsWith('pid='))
      const ok = lines[0] === 'rc=0'
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines[2] ?? '')
      const cpu = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : Number.NaN
      const steady = mark !== undefined && last !== undefined && last.bytes > mark.bytes
      const wall = (performance.now() - t0) / 1000
      // Let the receiver count what is still in flight.
      setTimeout(() => {
        resolve({
          cpu,
          wall,
          ok,
          bytes: received,
          steadyCpu: steady ? last!.cpu - mark!.cpu : Number.NaN,
          steadyBytes: steady ? last!.bytes - mark!.bytes : Number.NaN,
        })
      }, 200)
    })
  })
}

// One untimed run each first: the clip in the page cache, and rtspkit's code cache
// (util/code-cache.ts) written, as on any machine after the first push. Its byte count
// places the steady mark of the timed runs.
const markAt = new Map<string, number>()
for (const c of contenders) {
  const res = await run(c.command, Number.POSITIVE_INFINITY)
  markAt.set(c.name, res.bytes * STEADY_SHARE)
}
interface RunRecord {
  cpu: number
  bytes: number
  wall: number
  steadyCpu: number
  steadyBytes: number
}
const results: Record<string, RunRecord[]> = {}
for (let r = 1; r <= RUNS; r++) {
  for (const c of r % 2 ? contenders : [...contenders].reverse()) {
    const res = await run(c.command, markAt.get(c.name) ?? Number.POSITIVE_INFINITY)
    const bytes = res.bytes
    if (!res.ok || bytes === 0) {
      process.stderr.write(`  run ${r} ${c.name}: FAILED\n`)
      continue
    }
    ;(results[c.name] ??= []).push({ cpu: res.cpu, bytes, wall: res.wall, steadyCpu: res.steadyCpu, steadyBytes: res.steadyBytes })
    process.stderr.write(
      `  run ${r} ${c.name}: ${fixed(res.cpu)} CPU-s, ${fixed(bytes / 1e6, 1)} MB in ${fixed(res.wall)} s (${fixed((bytes * 8) / res.wall / 1e6, 0)} Mbit/s), ${fixed(res.cpu / (bytes / 1e9))} CPU-s/GB; ` +
        `steady ${fixed(res.steadyCpu, 3)} CPU-s for ${fixed(res.steadyBytes / 1e6, 1)} MB, ${fixed(res.steadyCpu / (res.steadyBytes / 1e9))} CPU-s/GB\n`,
    )
  }
}
await server.stop()

const summary = contenders.map((c) => {
  const runs = results[c.name] ?? []
  return {
    contender: c.name,
    runs: runs.length,
    cpuPerGB: runs.length ? median(runs.map((x) => x.cpu / (x.bytes / 1e9))) : Number.NaN,
    mbps: runs.length ? median(runs.map((x) => (x.bytes * 8) / x.wall / 1e6)) : Number.NaN,
    steadyCpuPerGB: median(runs.filter((x) => x.steadyBytes > 0).map((x) => x.steadyCpu / (x.steadyBytes / 1e9))),
  }
})
const ff = summary.find((s) => s.contender === 'ffmpeg')!
const withRatios = summary.map((s) => ({ ...s, vsFfmpeg: s.cpuPerGB / ff.cpuPerGB, steadyVsFfmpeg: s.steadyCpuPerGB / ff.steadyCpuPerGB }))
console.log(`### Push over TCP, unpaced: a 10 s 1080p H.264 (20 Mbit/s) + AAC clip looped 6 times (rtspkit --loop --duration 60, ffmpeg -stream_loop 5), median of ${RUNS} runs. CPU-s/GB: the whole run; steady: from ${fixed(STEADY_SHARE * 100, 0)} % of the bytes to the end\n`)
console.log(
  markdownTable(
    ['contender', 'runs', 'Mbit/s (wall)', 'CPU-s/GB', 'vs ffmpeg', 'steady CPU-s/GB', 'steady vs ffmpeg'],
    withRatios.map((s) => [
      s.contender,
      String(s.runs),
      fixed(s.mbps, 0),
      fixed(s.cpuPerGB),
      fixed(s.vsFfmpeg),
      fixed(s.steadyCpuPerGB),
      fixed(s.steadyVsFfmpeg),
    ]),
  ),
)
const note = extraCaNote()
if (note !== undefined) console.log(`\n${note}`)
console.log(`\nresults: ${await writeResult('push', { config: { runs: RUNS, steadyShare: STEADY_SHARE, cli: CLI, baselineCli: BASELINE_CLI, nodeExtraCaCerts: contenderEnv().NODE_EXTRA_CA_CERTS ?? null }, summary: withRatios, results })}`)
