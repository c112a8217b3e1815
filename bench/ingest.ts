/**
 * Ingest cost: CPU seconds per GB received over TCP interleaved RTP, rtspkit against
 * ffmpeg and GStreamer, in the same run and against the same server.
 *
 * The replay server (bench/replay-server.ts, in this process) loops a 1080p H.264 clip at
 * about BENCH_MBPS Mbit/s. Each contender pulls it to nowhere for BENCH_SECONDS; then the
 * server stops sending, the contender's socket drains, and its user+system CPU is read
 * from /proc/PID/stat before it is killed. Bytes are what the server sent on the
 * contender's connection(s). Contenders are interleaved run by run; the table shows
 * medians over BENCH_RUNS runs. Target: rtspkit ≤ ffmpeg.
 *
 *   BENCH_SECONDS=15 BENCH_RUNS=3 BENCH_MBPS=80 BENCH_CONTENDERS=rtspkit,ffmpeg,gstreamer
 *
 * Each run also records the contender's peak RSS (VmHWM, /proc/PID/status). BENCH_UNPACED=1
 * makes the server send as fast as each contender reads (Gbit/s on loopback) instead of in
 * real time: the test of memory that must stay flat when the reader is the bottleneck.
 * BENCH_CLI=path/to/cli/main.js measures another build of rtspkit. BENCH_BASELINE_CLI=path/to/cli/main.js
 * adds a contender 'rtspkit-baseline' running that build beside this one, in the same runs.
 *
 * Each run also gives a steady figure, start-up left out (Node, modules, V8's first
 * compiles, ffmpeg's probing): the contender's CPU (/proc/PID/stat, all threads) and the
 * bytes sent are read BENCH_WARMUP seconds (default 5) after the server sent the
 * contender its first bytes, and the steady CPU-s/GB is the CPU from that mark to the end
 * over the bytes from that mark to the end. BENCH_SECONDS must exceed BENCH_WARMUP.
 * BENCH_NO_EXTRA_CA=1: contenders run without NODE_EXTRA_CA_CERTS (bench/lib.ts, contenderEnv).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { loadBenchStream } from './h264-stream.js'
import { startReplayServer } from './replay-server.js'
import type { ReplayServer } from './replay-server.js'
import {
  CLI_PATH,
  REPO_ROOT,
  cliUnavailable,
  contenderEnv,
  envNumber,
  extraCaNote,
  fixed,
  lastLine,
  machineInfo,
  markdownTable,
  median,
  pickContenders,
  processCpu,
  processRss,
  runOrder,
  sleep,
  writeResult,
  type NamedContender,
} from './lib.js'

/**
 * pull's --duration counts media time: unpaced, a run receives tens of seconds of media per
 * second, so the limit must stay out of reach there too.
 */
function pullDuration(seconds: number): string {
  return String(process.env.BENCH_UNPACED === '1' ? 1_000_000 : seconds + 60)
}

interface Contender extends NamedContender {
  command: string
  args(url: string, seconds: number): string[]
}

const CONTENDERS: Contender[] = [
  {
    name: 'rtspkit',
    command: process.execPath,
    // --duration is generous: the harness ends every contender the same way (see top).
    args: (url, s) => [process.env.BENCH_CLI ?? CLI_PATH, 'pull', url, '-o', '/dev/null', '--format', 'h264', '--transport', 'tcp', '--duration', pullDuration(s)],
    unavailable: cliUnavailable,
  },
  ...(process.env.BENCH_BASELINE_CLI !== undefined
    ? [
        {
          name: 'rtspkit-baseline',
          command: process.execPath,
          args: (url: string, s: number) => [process.env.BENCH_BASELINE_CLI!, 'pull', url, '-o', '/dev/null', '--format', 'h264', '--transport', 'tcp', '--duration', pullDuration(s)],
          unavailable: () => (existsSync(process.env.BENCH_BASELINE_CLI!) ? undefined : `${process.env.BENCH_BASELINE_CLI} not found`),
        },
      ]
    : []),
  {
    name: 'ffmpeg',
    command: 'ffmpeg',
    args: (url) => ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-c', 'copy', '-f', 'null', '-'],
  },
  {
    name: 'gstreamer',
    command: 'gst-launch-1.0',
    args: (url) => ['-q', 'rtspsrc', `location=${url}`, 'protocols=tcp', '!', 'rtph264depay', '!', 'fakesink'],
  },
]

interface RunRecord {
  contender: string
  run: number
  ok: boolean
  note?: string
  cpuSeconds?: number
  userSeconds?: number
  systemSeconds?: number
  bytes?: number
  mbitPerSecond?: number
  cpuSecondsPerGB?: number
  /** CPU and bytes from the warm-up mark to the end (absent when the run ended before the mark). */
  steadyCpuSeconds?: number
  steadyBytes?: number
  steadyCpuSecondsPerGB?: number
  maxLagMs?: number
  /** Peak resident set size in bytes (VmHWM). */
  peakRss?: number
  connections?: number
  wallSeconds: number
}

async function waitIdle(server: ReplayServer, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (server.openConnections() > 0 && performance.now() < deadline) await sleep(20)
}

async function measure(c: Contender, server: ReplayServer, seconds: number, warmup: number, run: number): Promise<RunRecord> {
  await waitIdle(server, 3000)
  server.reset()
  const started = performance.now()
  const child = spawn(c.command, c.args(server.url(), seconds), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: contenderEnv(),
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-8192)
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
    child.once('error', (error) => resolve({ code: null, signal: null, error }))
  })
  // The warm-up mark: `warmup` seconds after the first bytes went out to this contender.
  let firstAt: number | undefined
  let mark: { cpu: number; bytes: number } | undefined
  const poll = setInterval(() => {
    if (mark !== undefined || child.pid === undefined) return
    const now = performance.now()
    if (firstAt === undefined) {
      if (server.stats().bytes > 0) firstAt = now
    } else if (now - firstAt >= warmup * 1000) {
      const bytes = server.stats().bytes
      const cpu = processCpu(child.pid)
      if (cpu) mark = { cpu: cpu.total, bytes }
    }
  }, 20)
  const early = await Promise.race([exit, sleep(seconds * 1000).then(() => undefined)])
  clearInterval(poll)
  server.pause()
  const wallSeconds = (performance.now() - started) / 1000
  if (early) {
    const why = early.error ? early.error.message : `exited with ${early.code ?? early.signal}`
    return { contender: c.name, run, ok: false, note: `${why} after ${fixed(wallSeconds, 1)} s: ${lastLine(stderr)}`, wallSeconds }
  }
  // Let what was sent reach the contender before reading its CPU time.
  await server.drained(2000)
  await sleep(300)
  const cpu = child.pid === undefined ? undefined : processCpu(child.pid)
  const rss = child.pid === undefined ? undefined : processRss(child.pid)
  const stats = server.stats()
  child.kill('SIGKILL')
  await exit
  if (!cpu) return { contender: c.name, run, ok: false, note: `exited while draining: ${lastLine(stderr)}`, wallSeconds }
  if (stats.bytes < 1_000_000) {
    return { contender: c.name, run, ok: false, note: `received only ${stats.bytes} bytes: ${lastLine(stderr)}`, wallSeconds }
  }
  return {
    contender: c.name,
    run,
    ok: true,
    cpuSeconds: cpu.total,
    userSeconds: cpu.user,
    systemSeconds: cpu.system,
    bytes: stats.bytes,
    mbitPerSecond: (stats.bytes * 8) / seconds / 1e6,
    cpuSecondsPerGB: cpu.total / (stats.bytes / 1e9),
    ...(mark !== undefined && stats.bytes > mark.bytes
      ? {
          steadyCpuSeconds: cpu.total - mark.cpu,
          steadyBytes: stats.bytes - mark.bytes,
          steadyCpuSecondsPerGB: (cpu.total - mark.cpu) / ((stats.bytes - mark.bytes) / 1e9),
        }
      : {}),
    maxLagMs: stats.maxLagMs,
    peakRss: rss?.peak ?? Number.NaN,
    connections: stats.connections,
    wallSeconds,
  }
}

async function main(): Promise<void> {
  const seconds = envNumber('BENCH_SECONDS', 15)
  const warmup = envNumber('BENCH_WARMUP', 5)
  const runs = Math.round(envNumber('BENCH_RUNS', 3))
  const mbps = envNumber('BENCH_MBPS', 80)
  const unpaced = process.env.BENCH_UNPACED === '1'
  const { contenders, skipped } = pickContenders(CONTENDERS)

  const stream = await loadBenchStream({ mbps })
  const streamMbps = (stream.bytesPerLoop * 8 * stream.fps) / stream.units.length / 1e6
  const server = await startReplayServer(stream, { unpaced })
  console.error(
    `ingest: ${contenders.map((c) => c.name).join(', ')}; ${runs} run(s) of ${seconds} s; ` +
      `1080p H.264 at ${unpaced ? 'as many Mbit/s as it reads' : `${fixed(streamMbps, 1)} Mbit/s`} (TCP interleaved, ${stream.units.length}-frame loop) from ${server.url()}`,
  )

  const records: RunRecord[] = []
  try {
    for (let run = 1; run <= runs; run++) {
      for (const c of runOrder(contenders, run)) {
        if (skipped.has(c.name)) continue
        const r = await measure(c, server, seconds, warmup, run)
        records.push(r)
        console.error(
          r.ok
            ? `  run ${run} ${c.name}: ${fixed(r.cpuSeconds!)} CPU-s, ${fixed(r.bytes! / 1e6, 1)} MB ` +
                `(${fixed(r.mbitPerSecond!, 1)} Mbit/s), ${fixed(r.cpuSecondsPerGB!)} CPU-s/GB (steady ${fixed(r.steadyCpuSecondsPerGB ?? Number.NaN)}), peak RSS ${fixed(r.peakRss! / 1e6, 0)} MB, server lag ≤ ${fixed(r.maxLagMs!, 0)} ms`
            : `  run ${run} ${c.name}: FAILED, ${r.note}`,
        )
        // A command that does not run at all is not retried.
        if (!r.ok && run === 1 && !records.some((x) => x.contender === c.name && x.ok)) skipped.set(c.name, r.note ?? 'failed')
      }
    }
  } finally {
    await server.stop()
  }

  const summary = contenders.map((c) => {
    const ok = records.filter((r) => r.contender === c.name && r.ok)
    const failed = records.filter((r) => r.contender === c.name && !r.ok)
    return {
      contender: c.name,
      runsOk: ok.length,
      runsFailed: failed.length,
      bytes: median(ok.map((r) => r.bytes!)),
      mbitPerSecond: median(ok.map((r) => r.mbitPerSecond!)),
      cpuSeconds: median(ok.map((r) => r.cpuSeconds!)),
      cpuSecondsPerGB: median(ok.map((r) => r.cpuSecondsPerGB!)),
      steadyCpuSecondsPerGB: median(ok.filter((r) => r.steadyCpuSecondsPerGB !== undefined).map((r) => r.steadyCpuSecondsPerGB!)),
      peakRssMb: median(ok.map((r) => r.peakRss! / 1e6)),
      note: ok.length === 0 ? `skipped: ${skipped.get(c.name) ?? failed[0]?.note ?? 'no run'}` : failed.length > 0 ? `${failed.length} run(s) failed: ${failed[0]!.note}` : '',
    }
  })
  const ffmpeg = summary.find((s) => s.contender === 'ffmpeg')
  const ratio = (x: number): number => (ffmpeg && ffmpeg.runsOk > 0 ? x / ffmpeg.cpuSecondsPerGB : Number.NaN)
  const steadyRatio = (x: number): number => (ffmpeg && ffmpeg.runsOk > 0 ? x / ffmpeg.steadyCpuSecondsPerGB : Number.NaN)
  const rssRatio = (x: number): number => (ffmpeg && ffmpeg.runsOk > 0 ? x / ffmpeg.peakRssMb : Number.NaN)

  console.log(`### Ingest over TCP: CPU seconds per GB received (1 GB = 10^9 bytes)\n`)
  console.log(
    `1080p30 H.264 at ${unpaced ? 'full speed (unpaced)' : `${fixed(streamMbps, 1)} Mbit/s`} from RAM, ${seconds} s per run, median of ${runs} run(s); ` +
      `${machineInfo().cores} cores. Steady: from ${warmup} s after the first bytes to the end.\n`,
  )
  console.log(
    markdownTable(
      ['contender', 'runs', 'MB received', 'Mbit/s', 'CPU s', 'CPU-s/GB', 'vs ffmpeg', 'steady CPU-s/GB', 'steady vs ffmpeg', 'peak RSS MB', 'RSS vs ffmpeg', 'note'],
      summary.map((s) => [
        s.contender,
        `${s.runsOk}/${s.runsOk + s.runsFailed || runs}`,
        fixed(s.bytes / 1e6, 1),
        fixed(s.mbitPerSecond, 1),
        fixed(s.cpuSeconds),
        fixed(s.cpuSecondsPerGB),
        s.runsOk > 0 ? fixed(ratio(s.cpuSecondsPerGB)) : '–',
        fixed(s.steadyCpuSecondsPerGB),
        s.runsOk > 0 ? fixed(steadyRatio(s.steadyCpuSecondsPerGB)) : '–',
        fixed(s.peakRssMb, 0),
        s.runsOk > 0 ? fixed(rssRatio(s.peakRssMb)) : '–',
        s.note,
      ]),
    ),
  )
  const rtspkit = summary.find((s) => s.contender === 'rtspkit')
  if (rtspkit && rtspkit.runsOk > 0 && ffmpeg && ffmpeg.runsOk > 0) {
    const r = ratio(rtspkit.cpuSecondsPerGB)
    console.log(`\nrtspkit / ffmpeg = ${fixed(r)} (target ≤ 1.00: ${r <= 1 ? 'met' : 'NOT met'}); steady ${fixed(steadyRatio(rtspkit.steadyCpuSecondsPerGB))}`)
  }
  const note = extraCaNote()
  if (note !== undefined) console.log(`\n${note}`)
  const file = await writeResult('ingest', {
    benchmark: 'ingest',
    date: new Date().toISOString(),
    config: { nodeExtraCaCerts: contenderEnv().NODE_EXTRA_CA_CERTS ?? null, seconds, warmup, runs, unpaced, targetMbps: mbps, streamMbps, frames: stream.units.length, packetsPerLoop: stream.packetsPerLoop },
    machine: machineInfo(),
    contenders: contenders.map((c) => ({ name: c.name, command: [c.command, ...c.args('URL', seconds)].join(' ') })),
    summary: summary.map((s) => ({ ...s, vsFfmpeg: ratio(s.cpuSecondsPerGB), steadyVsFfmpeg: steadyRatio(s.steadyCpuSecondsPerGB) })),
    runs: records,
  })
  console.log(`\nresults: ${file}`)
}

await main()
