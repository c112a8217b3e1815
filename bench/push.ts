/**
 * Push cost: CPU seconds per GB sent over RTSP/TCP interleaved, rtspkit beside ffmpeg, both
 * unpaced, pushing the same file to the same receiver in the same run.
 *   rtspkit: rtspkit push FILE URL --no-realtime --transport tcp
 *   ffmpeg:  ffmpeg -i FILE -c copy -f rtsp -rtsp_transport tcp URL
 * The receiver (a scripted RTSP server in this process) answers ANNOUNCE/SETUP/RECORD and
 * counts the interleaved bytes. CPU comes from `times` of a bash that ran the contender.
 *   BENCH_RUNS=3 node --import tsx bench/push.ts
 * BENCH_BASELINE_CLI=path/to/cli/main.js adds a third contender, another build of rtspkit (say
 * the commit before a change, `git worktree add` + `npm run build`), measured in the same run.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { startFakeServer } from '../test/helpers/fake-rtsp-server.js'
import { OUT_DIR, REPO_ROOT, envNumber, fixed, markdownTable, median, writeResult } from './lib.js'

const RUNS = envNumber('BENCH_RUNS', 3)
const BASELINE_CLI = process.env['BENCH_BASELINE_CLI']
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
  { onInterleaved: (_ch, payload) => (received += payload.length + 4) },
)

interface Contender {
  name: string
  command: string
}
const url = server.url('/live')
// Several passes over the clip so that start-up (Node, module loading) does not dominate.
const rtspkit = (cli: string): string => `${process.execPath} ${cli} push ${clip} ${url} --no-realtime --loop --duration 60 --transport tcp --quiet`
const contenders: Contender[] = [
  { name: 'rtspkit', command: rtspkit(path.join(REPO_ROOT, 'dist/cli/main.js')) },
  ...(BASELINE_CLI !== undefined ? [{ name: 'rtspkit (baseline)', command: rtspkit(BASELINE_CLI) }] : []),
  { name: 'ffmpeg', command: `ffmpeg -nostdin -v error -stream_loop 5 -i ${clip} -c copy -f rtsp -rtsp_transport tcp ${url}` },
]

/** Run under bash and read the children's user+system time from `times`. */
function run(command: string): Promise<{ cpu: number; wall: number; ok: boolean }> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const child = spawn('bash', ['-c', `${command} >/dev/null 2>&1; echo "rc=$?"; times`], { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.on('close', () => {
      const lines = out.trim().split('\n')
      const ok = lines[0] === 'rc=0'
      const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(lines[2] ?? '')
      const cpu = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : Number.NaN
      resolve({ cpu, wall: (performance.now() - t0) / 1000, ok })
    })
  })
}

// One untimed run each first: the clip in the page cache, and rtspkit's code cache
// (util/code-cache.ts) written, as on any machine after the first push.
for (const c of contenders) await run(c.command)
const results: Record<string, Array<{ cpu: number; bytes: number; wall: number }>> = {}
for (let r = 1; r <= RUNS; r++) {
  for (const c of r % 2 ? contenders : [...contenders].reverse()) {
    received = 0
    const res = await run(c.command)
    await new Promise((ok) => setTimeout(ok, 200))
    const bytes = received
    if (!res.ok || bytes === 0) {
      process.stderr.write(`  run ${r} ${c.name}: FAILED\n`)
      continue
    }
    ;(results[c.name] ??= []).push({ cpu: res.cpu, bytes, wall: res.wall })
    process.stderr.write(`  run ${r} ${c.name}: ${fixed(res.cpu)} CPU-s, ${fixed(bytes / 1e6, 1)} MB in ${fixed(res.wall)} s (${fixed((bytes * 8) / res.wall / 1e6, 0)} Mbit/s), ${fixed(res.cpu / (bytes / 1e9))} CPU-s/GB\n`)
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
  }
})
const ff = summary.find((s) => s.contender === 'ffmpeg')!
console.log(`### Push over TCP, unpaced: a 10 s 1080p H.264 (20 Mbit/s) + AAC clip looped 6 times (rtspkit --loop --duration 60, ffmpeg -stream_loop 5), median of ${RUNS} runs\n`)
console.log(
  markdownTable(
    ['contender', 'runs', 'Mbit/s (wall)', 'CPU-s/GB', 'vs ffmpeg'],
    summary.map((s) => [s.contender, String(s.runs), fixed(s.mbps, 0), fixed(s.cpuPerGB), fixed(s.cpuPerGB / ff.cpuPerGB)]),
  ),
)
console.log(`\nresults: ${await writeResult('push', { summary, results })}`)
