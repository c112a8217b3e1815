/**
 * Server fan-out cost (issue #5): the CPU an RTSP server spends per reader of one ~2 Mbit/s
 * H.264 stream, rtspkit's embedded server beside gst-rtsp-server serving the same file.
 *
 *   rtspkit:   rtspkit serve --quiet --port 0 bench=FILE   (the file looped in real time)
 *   gstreamer: bench/gst-serve.py FILE (a SHARED media factory: one pipeline for all readers,
 *              filesrc ! qtdemux ! h264parse ! rtph264pay config-interval=-1)
 *
 * For each reader count N (BENCH_READERS, default 1,10,100) and each run (BENCH_RUNS, default
 * 3, contenders alternating): start the server, attach N RTSP/TCP interleaved readers from
 * another process (bench/serve-readers.ts; their CPU is not counted), wait until every
 * reader has media, warm up 2 s, then read the server process's user+system CPU from
 * /proc/PID/stat (all threads) over BENCH_SECONDS (default 10) and the bytes each reader
 * received over the same window. Medians over the runs; JSON in bench/out/. The `schedstat`
 * columns take the same window's CPU from the scheduler's per-thread run times (ns) instead
 * of clock ticks, which at 2–3 % of a core are only 20–30 per window.
 *
 *   BENCH_SECONDS=10 BENCH_RUNS=3 BENCH_READERS=1,10,100 node --import tsx bench/serve.ts
 *
 * BENCH_TRANSPORT=udp: the readers take RTP over UDP (a port pair each) instead of TCP.
 * BENCH_TRANSPORT=mse: the viewers are browser MSE players' WebSockets (/bench/ws on
 * `rtspkit serve --http 0`: an init segment, then a moof/mdat per frame); rtspkit only, as
 * gst-rtsp-server has no HTTP side.
 * BENCH_BASELINE_CLI=path/to/cli/main.js adds another build of rtspkit (say the commit before
 * a change) as a third contender, `rtspkit-baseline`, measured in the same run.
 * BENCH_CLI=path/to/cli/main.js measures that build as `rtspkit` instead of dist/ (a build of
 * one's own changes while dist/ holds someone else's).
 * BENCH_FLOOR=1 adds `node-floor` (bench/serve-floor.ts): a Node server that does nothing but
 * one socket write per reader per frame from one timer, the least any Node server spends here;
 * on loopback most of that is the kernel's TCP work per write (the reader's receive side runs
 * in the writer's system call), which gst-rtsp-server pays as well.
 * BENCH_FLOOR_BATCH=2,4 adds `node-floor-x2`, `node-floor-x4`: the floor writing 2 (4) frames
 * per write every 80 (160) ms, the same bytes in fewer system calls and that much more latency.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import {
  CLI_PATH,
  OUT_DIR,
  REPO_ROOT,
  cliUnavailable,
  envNumber,
  fixed,
  lastLine,
  machineInfo,
  markdownTable,
  median,
  pickContenders,
  processCpu,
  runOrder,
  sleep,
  writeResult,
  clip720p2M,
  startProc as start,
  type NamedContender,
  type Proc,
} from './lib.js'

const READERS = path.join(REPO_ROOT, 'bench/serve-readers.ts')
const FLOOR = path.join(REPO_ROOT, 'bench/serve-floor.ts')
const GST_SCRIPT = path.join(REPO_ROOT, 'bench/gst-serve.py')
const WARMUP_MS = 2000
/** A reader has media once it has this much (a key frame at least, past any join gate). */
const FIRST_MEDIA_BYTES = 64 * 1024

interface Contender extends NamedContender {
  command: string
  args(file: string, fileMbps: number): string[]
  /** The URL of the stream, from a line the server prints on stdout once it listens. */
  urlFrom(line: string): string | undefined
}

const BASELINE_CLI = process.env['BENCH_BASELINE_CLI']
const CLI = process.env['BENCH_CLI'] !== undefined ? path.resolve(process.env['BENCH_CLI']) : undefined

const TRANSPORT = process.env.BENCH_TRANSPORT ?? 'tcp'
const MSE = TRANSPORT === 'mse'

function rtspkit(name: string, cli: string, unavailable: () => string | undefined): Contender {
  return {
    name,
    command: process.execPath,
    args: (file) => [cli, 'serve', '--quiet', '--port', '0', ...(MSE ? ['--http', '0'] : []), `bench=${file}`],
    urlFrom: MSE
      ? (line) => /watch in a browser at http(:\/\/\S+?)\/?$/.exec(line)?.[1]?.replace(/^/, 'ws').concat('/bench/ws')
      : (line) => /listening on (rtsp:\/\/\S+)/.exec(line)?.[1]?.concat('/bench'),
    unavailable,
  }
}

const CONTENDERS: Contender[] = [
  CLI !== undefined
    ? rtspkit('rtspkit', CLI, () => (existsSync(CLI) ? undefined : `${CLI} not found`))
    : rtspkit('rtspkit', CLI_PATH, cliUnavailable),
  ...(BASELINE_CLI !== undefined
    ? [rtspkit('rtspkit-baseline', path.resolve(BASELINE_CLI), () => (existsSync(path.resolve(BASELINE_CLI)) ? undefined : `${BASELINE_CLI} not found`))]
    : []),
  ...(process.env['BENCH_FLOOR'] === '1'
    ? [
        {
          name: 'node-floor',
          command: process.execPath,
          args: (_file: string, fileMbps: number) => ['--import', 'tsx', FLOOR, String(fileMbps)],
          urlFrom: (line: string) => /listening on (rtsp:\/\/\S+)/.exec(line)?.[1]?.concat('/bench'),
          ...(MSE ? { unavailable: () => 'the floor server speaks RTSP only' } : {}),
        },
      ]
    : []),
  ...(process.env['BENCH_FLOOR_BATCH'] ?? '')
    .split(',')
    .filter((k) => k.trim() !== '')
    .map((k) => {
      const frames = Number(k)
      if (!Number.isInteger(frames) || frames < 2) throw new Error(`BENCH_FLOOR_BATCH=${process.env['BENCH_FLOOR_BATCH']}: want frame counts ≥ 2, e.g. 2,4`)
      return {
        name: `node-floor-x${frames}`,
        command: process.execPath,
        args: (_file: string, fileMbps: number) => ['--import', 'tsx', FLOOR, String(fileMbps), String(frames)],
        urlFrom: (line: string) => /listening on (rtsp:\/\/\S+)/.exec(line)?.[1]?.concat('/bench'),
        ...(MSE ? { unavailable: () => 'the floor server speaks RTSP only' } : {}),
      }
    }),
  {
    name: 'gstreamer',
    // Debian's python3 has `gi`; the first python3 on PATH may not.
    command: '/usr/bin/python3',
    args: (file) => [GST_SCRIPT, file],
    urlFrom: (line) => {
      const port = /^PORT (\d+)/.exec(line)?.[1]
      return port === undefined ? undefined : `rtsp://127.0.0.1:${port}/bench`
    },
    ...(MSE ? { unavailable: () => 'gst-rtsp-server has no MSE over WebSocket' } : {}),
  },
]

/**
 * The process's CPU time (s) from the scheduler's own accounting, summed over its threads
 * (/proc/PID/task/TID/schedstat, first field: ns on a CPU). At 2–3 % of a core a 10 s window
 * is only 20–30 clock ticks of /proc/PID/stat, one tick 3–5 % of the figure; this is exact.
 * A thread that ends within the window takes its time with it (the servers here keep theirs).
 */
function schedCpu(pid: number): number | undefined {
  try {
    let ns = 0
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      } catch {
        // the thread ended meanwhile
      }
    }
    return ns / 1e9
  } catch {
    return undefined
  }
}

interface Sample {
  t: number
  bytes: number[]
  closed: number
}

async function sample(readers: Proc): Promise<Sample> {
  readers.child.stdin!.write('sample\n')
  return JSON.parse(await readers.out.next(5000)) as Sample
}

interface RunRecord {
  contender: string
  readers: number
  run: number
  ok: boolean
  note?: string
  /** Server user+system CPU over the window, in % of one core. */
  cpuPercent?: number
  /** The same from the scheduler's per-thread run times (schedCpu), exact to the ns. */
  cpuPercentSched?: number
  userPercent?: number
  systemPercent?: number
  /** Server CPU milliseconds per second per reader. */
  cpuMsPerSecondPerReader?: number
  /** Received Mbit/s per reader over the window: median, lowest, highest. */
  mbpsMedian?: number
  mbpsMin?: number
  mbpsMax?: number
  /** The readers' process, for information (not part of the server's cost). */
  readersCpuPercent?: number
  windowSeconds?: number
}

async function measure(c: Contender, file: string, fileMbps: number, n: number, seconds: number, run: number): Promise<RunRecord> {
  const base = { contender: c.name, readers: n, run }
  const server = start(c.command, c.args(file, fileMbps))
  let readers: Proc | undefined
  try {
    let url: string | undefined
    while (url === undefined) url = c.urlFrom(await server.out.next(20_000))
    const pid = server.child.pid!
    readers = start(process.execPath, ['--import', 'tsx', READERS, url, String(n), MSE ? 'ws' : TRANSPORT])
    const ready = JSON.parse(await readers.out.next(60_000 + 500 * n)) as { ready: number; failed: string[] }
    if (ready.failed.length > 0) return { ...base, ok: false, note: `${ready.failed.length} reader(s) failed: ${ready.failed[0]}` }
    // Every reader past its first key frame (rtspkit gates joins on key frames), then warm up.
    const deadline = performance.now() + 15_000
    for (;;) {
      const s = await sample(readers)
      if (Math.min(...s.bytes) >= FIRST_MEDIA_BYTES) break
      if (performance.now() > deadline) {
        return { ...base, ok: false, note: `${s.bytes.filter((b) => b < FIRST_MEDIA_BYTES).length} reader(s) without media after 15 s` }
      }
      await sleep(250)
    }
    await sleep(WARMUP_MS)
    const cpu0 = processCpu(pid)
    const sched0 = schedCpu(pid)
    const rcpu0 = processCpu(readers.child.pid!)
    const t0 = performance.now()
    const s0 = await sample(readers)
    await sleep(seconds * 1000)
    const cpu1 = processCpu(pid)
    const sched1 = schedCpu(pid)
    const rcpu1 = processCpu(readers.child.pid!)
    const t1 = performance.now()
    const s1 = await sample(readers)
    if (!cpu0 || !cpu1) return { ...base, ok: false, note: `the server exited: ${lastLine(server.stderr())}` }
    if (s1.closed > 0) return { ...base, ok: false, note: `${s1.closed} reader connection(s) closed` }
    const wall = (t1 - t0) / 1000
    const sampleWall = (s1.t - s0.t) / 1000
    const mbps = s1.bytes.map((b, i) => ((b - s0.bytes[i]!) * 8) / sampleWall / 1e6)
    const cpuPercent = ((cpu1.total - cpu0.total) / wall) * 100
    return {
      ...base,
      ok: true,
      cpuPercent,
      cpuPercentSched: sched0 !== undefined && sched1 !== undefined ? ((sched1 - sched0) / wall) * 100 : Number.NaN,
      userPercent: ((cpu1.user - cpu0.user) / wall) * 100,
      systemPercent: ((cpu1.system - cpu0.system) / wall) * 100,
      cpuMsPerSecondPerReader: (cpuPercent * 10) / n,
      mbpsMedian: median(mbps),
      mbpsMin: Math.min(...mbps),
      mbpsMax: Math.max(...mbps),
      readersCpuPercent: rcpu0 && rcpu1 ? ((rcpu1.total - rcpu0.total) / wall) * 100 : Number.NaN,
      windowSeconds: wall,
    }
  } catch (e) {
    return { ...base, ok: false, note: `${(e as Error).message}: ${lastLine(server.stderr() + (readers?.stderr() ?? ''))}` }
  } finally {
    await readers?.stop()
    await server.stop()
  }
}

async function main(): Promise<void> {
  const seconds = envNumber('BENCH_SECONDS', 10)
  const runs = Math.round(envNumber('BENCH_RUNS', 3))
  const counts = (process.env.BENCH_READERS ?? '1,10,100').split(',').map((s) => Number(s.trim()))
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_READERS=${process.env.BENCH_READERS}: want e.g. 1,10,100`)
  if (TRANSPORT !== 'tcp' && TRANSPORT !== 'udp' && !MSE) throw new Error(`BENCH_TRANSPORT=${TRANSPORT}: want tcp, udp or mse`)
  const { contenders, skipped } = pickContenders(CONTENDERS)
  // GStreamer plays the file once (no loop): it must outlast connect + warm-up + window.
  const fileSeconds = Math.max(60, Math.ceil(seconds) + 40)
  const file = clip720p2M(fileSeconds)
  const fileMbps = Number(
    execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'default=nw=1:nk=1', file], { encoding: 'utf8' }).trim(),
  ) / 1e6

  console.error(
    `serve: ${contenders.map((c) => c.name).join(', ')}; readers ${counts.join(', ')}; ${runs} run(s) of ${seconds} s; ` +
      `${path.basename(file)} (${fixed(fileMbps)} Mbit/s); readers over ${TRANSPORT.toUpperCase()}`,
  )
  const records: RunRecord[] = []
  for (const n of counts) {
    for (let run = 1; run <= runs; run++) {
      for (const c of runOrder(contenders, run)) {
        if (skipped.has(c.name)) continue
        const r = await measure(c, file, fileMbps, n, seconds, run)
        records.push(r)
        console.error(
          r.ok
            ? `  ${n} reader(s), run ${run}, ${c.name}: server ${fixed(r.cpuPercent!, 1)}% of a core (schedstat ${fixed(r.cpuPercentSched!, 2)}%) ` +
                `(${fixed(r.cpuMsPerSecondPerReader!)} ms/s per reader), Mbit/s per reader ${fixed(r.mbpsMin!)}–${fixed(r.mbpsMax!)}, ` +
                `readers' process ${fixed(r.readersCpuPercent!, 0)}%`
            : `  ${n} reader(s), run ${run}, ${c.name}: FAILED, ${r.note}`,
        )
      }
    }
  }

  const summary = counts.flatMap((n) =>
    contenders.map((c) => {
      const ok = records.filter((r) => r.contender === c.name && r.readers === n && r.ok)
      const failed = records.filter((r) => r.contender === c.name && r.readers === n && !r.ok)
      return {
        readers: n,
        contender: c.name,
        runsOk: ok.length,
        runsFailed: failed.length,
        cpuPercent: median(ok.map((r) => r.cpuPercent!)),
        cpuPercentSched: median(ok.map((r) => r.cpuPercentSched!)),
        cpuMsPerSecondPerReader: median(ok.map((r) => r.cpuMsPerSecondPerReader!)),
        mbpsPerReader: median(ok.map((r) => r.mbpsMedian!)),
        mbpsPerReaderMin: ok.length ? Math.min(...ok.map((r) => r.mbpsMin!)) : Number.NaN,
        note: skipped.get(c.name) ?? (failed.length > 0 ? `${failed.length} run(s) failed: ${failed[0]!.note}` : ''),
      }
    }),
  )
  /**
   * What one more reader costs: (CPU with N readers − CPU with the fewest readers measured)
   * / (N − fewest), in ms per second. Unlike the per-reader average, it leaves out the
   * fixed cost of reading and packetizing the file once.
   */
  const fewest = Math.min(...counts)
  const marginal = (n: number, contender: string): number => {
    const a = summary.find((s) => s.readers === n && s.contender === contender)
    const b = summary.find((s) => s.readers === fewest && s.contender === contender)
    return n > fewest && a && b && a.runsOk > 0 && b.runsOk > 0 ? ((a.cpuPercent - b.cpuPercent) * 10) / (n - fewest) : Number.NaN
  }
  const ratio = (n: number, contender = 'rtspkit', key: 'cpuPercent' | 'cpuPercentSched' = 'cpuPercent'): number => {
    const a = summary.find((s) => s.readers === n && s.contender === contender)
    const b = summary.find((s) => s.readers === n && s.contender === 'gstreamer')
    return a && b && a.runsOk > 0 && b.runsOk > 0 ? a[key] / b[key] : Number.NaN
  }

  console.log(`### Server fan-out over ${TRANSPORT.toUpperCase()}: server CPU with N readers of one stream\n`)
  console.log(
    `720p25 H.264 at ${fixed(fileMbps)} Mbit/s from an MP4, ${seconds} s window after a ${WARMUP_MS / 1000} s warm-up, ` +
      `median of ${runs} run(s); ${machineInfo().cores} cores. CPU is the server process's user+system time in % of one core.\n`,
  )
  console.log(
    markdownTable(
      ['readers', 'contender', 'runs', 'server CPU %', 'CPU ms/s per reader', `ms/s per reader added past ${fewest}`, 'Mbit/s per reader (median, lowest)', 'CPU / gstreamer', 'schedstat CPU %', 'schedstat / gstreamer', 'note'],
      summary.map((s) => [
        String(s.readers),
        s.contender,
        `${s.runsOk}/${s.runsOk + s.runsFailed || runs}`,
        fixed(s.cpuPercent, 1),
        fixed(s.cpuMsPerSecondPerReader, 3),
        s.readers > fewest ? fixed(marginal(s.readers, s.contender), 3) : '',
        s.runsOk > 0 ? `${fixed(s.mbpsPerReader)}, ${fixed(s.mbpsPerReaderMin)}` : '–',
        s.contender !== 'gstreamer' ? fixed(ratio(s.readers, s.contender)) : '',
        fixed(s.cpuPercentSched, 2),
        s.contender !== 'gstreamer' ? fixed(ratio(s.readers, s.contender, 'cpuPercentSched')) : '',
        s.note,
      ]),
    ),
  )
  const out = await writeResult('serve', {
    benchmark: 'serve',
    date: new Date().toISOString(),
    config: { seconds, runs, readers: counts, transport: TRANSPORT, warmupMs: WARMUP_MS, file: path.basename(file), fileMbps },
    machine: machineInfo(),
    contenders: contenders.map((c) => ({ name: c.name, command: [c.command, ...c.args('FILE', fileMbps)].join(' ') })),
    summary: summary.map((s) => ({
      ...s,
      marginalMsPerSecondPerReader: marginal(s.readers, s.contender),
      ratioVsGstreamer: s.contender !== 'gstreamer' ? ratio(s.readers, s.contender) : undefined,
      ratioVsGstreamerSched: s.contender !== 'gstreamer' ? ratio(s.readers, s.contender, 'cpuPercentSched') : undefined,
    })),
    runs: records,
  })
  console.log(`\nresults: ${out}`)
}

await main()
