/**
 * Many sessions in one process (issue #14): N pulls of one 720p25 ~2 Mbit/s H.264 stream
 * over RTSP/TCP in ONE Node process, each iterating its frames, as a recorder or analytics
 * service watching N cameras would.
 *
 *   source:   rtspkit serve --quiet --port 0 bench=FILE, in its own process (not counted)
 *   rtspkit:  bench/scale-client.ts URL N   (RtspClient.pull × N, `for await` over frames())
 *   gstreamer (peer, N ≤ BENCH_GST_MAX, default 100): one gst-launch-1.0 process with N
 *             branches `rtspsrc location=URL protocols=tcp ! rtph264depay ! fakesink`
 *
 * For each N (BENCH_SESSIONS, default 100,500,1000) and run (BENCH_RUNS, default 3): start a
 * fresh source server, start the contender, wait until every session plays, warm up 3 s,
 * then measure over BENCH_SECONDS (default 20): the contender's user+system CPU (% of one
 * core, /proc/PID/stat), its RSS growth ÷ N (RSS at the end of the window minus RSS before
 * the first session opened; for GStreamer minus a 0-session pipeline's RSS), frames per
 * second per session, packets lost (RTP sequence numbers, RFC 3550 A.3, from
 * session.stats()) and sessions that ended early (media read timeout, error).
 *
 *   BENCH_SECONDS=20 BENCH_RUNS=3 BENCH_SESSIONS=100,500,1000 node --import tsx bench/scale.ts
 *
 * BENCH_LIB=path/to/dist/index.js measures another build of the library (the source server
 * stays dist/cli/main.js); BENCH_CONTENDERS=rtspkit leaves GStreamer out.
 *
 * The client's event-loop delay (p99, max) over the window is printed too. When sessions do
 * not start, or frames/s per session falls under the stream's 25, a delay of seconds says
 * the client process is short of CPU: it reads the media backlog of every socket in turns
 * of the loop that long (libuv reads a readable socket up to 32 times per turn), and a new
 * session's handshake, read in the next turn, times out. The source server is not the cause
 * then (its CPU is printed; sessions are opened 20 at a time, far below the listen backlog).
 * BENCH_TIMEOUT_MS raises the client's request timeout (default 10 s) so that such a run
 * still starts and its steady state can be read.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import {
  CLI_PATH,
  REPO_ROOT,
  clip720p2M,
  cliUnavailable,
  envNumber,
  fixed,
  lastLine,
  machineInfo,
  markdownTable,
  median,
  processCpu,
  processRss,
  sleep,
  startProc,
  writeResult,
  type Proc,
} from './lib.js'

const CLIENT = path.join(REPO_ROOT, 'bench/scale-client.ts')
const WARMUP_MS = 3000

interface Sample {
  t: number
  frames: number
  ended: number
  errors: Record<string, number>
  received: number
  lost: number
  dropped: number
  rss: number
  loopDelayP99Ms: number
  loopDelayMaxMs: number
}

interface RunRecord {
  contender: string
  sessions: number
  run: number
  ok: boolean
  note?: string
  cpuPercent?: number
  mbPerSession?: number
  rssMb?: number
  fps?: number
  lost?: number
  lossPercent?: number
  endedEarly?: number
  errors?: Record<string, number>
  serverCpuPercent?: number
  loopDelayP99Ms?: number
  loopDelayMaxMs?: number
}

async function startSource(file: string): Promise<{ server: Proc; url: string }> {
  const server = startProc(process.execPath, [CLI_PATH, 'serve', '--quiet', '--port', '0', `bench=${file}`])
  for (;;) {
    const m = /listening on (rtsp:\/\/\S+)/.exec(await server.out.next(20_000))
    if (m) return { server, url: `${m[1]}/bench` }
  }
}

async function measureRtspkit(file: string, n: number, seconds: number, run: number): Promise<RunRecord> {
  const base = { contender: 'rtspkit', sessions: n, run }
  const { server, url } = await startSource(file)
  // The client inherits this process's environment: BENCH_TIMEOUT_MS reaches it as SCALE_TIMEOUT_MS.
  if (process.env.BENCH_TIMEOUT_MS) process.env.SCALE_TIMEOUT_MS = process.env.BENCH_TIMEOUT_MS
  const client = startProc(process.execPath, ['--import', 'tsx', CLIENT, url, String(n), ...(process.env.BENCH_LIB ? [process.env.BENCH_LIB] : [])])
  try {
    const ready = JSON.parse(await client.out.next(60_000 + 200 * n)) as { ready: number; failed: number; firstFailures: string[]; rssBefore: number; loopDelayMaxMs: number }
    if (ready.failed > 0) {
      return { ...base, ok: false, note: `${ready.failed} session(s) failed to start (client event loop delayed up to ${fixed(ready.loopDelayMaxMs / 1000, 1)} s meanwhile): ${ready.firstFailures[0]}` }
    }
    await sleep(WARMUP_MS)
    const sample = async (): Promise<Sample> => {
      client.child.stdin!.write('sample\n')
      // A client short of CPU answers late (its loop turns last seconds): wait, the delay is reported.
      return JSON.parse(await client.out.next(60_000)) as Sample
    }
    const pid = client.child.pid!
    const c0 = processCpu(pid)
    const sc0 = processCpu(server.child.pid!)
    const t0 = performance.now()
    const s0 = await sample()
    await sleep(seconds * 1000)
    const c1 = processCpu(pid)
    const sc1 = processCpu(server.child.pid!)
    const t1 = performance.now()
    const s1 = await sample()
    if (!c0 || !c1) return { ...base, ok: false, note: `the client exited: ${lastLine(client.stderr())}` }
    const wall = (t1 - t0) / 1000
    const lost = s1.lost - s0.lost
    const received = s1.received - s0.received
    return {
      ...base,
      ok: true,
      cpuPercent: ((c1.total - c0.total) / wall) * 100,
      serverCpuPercent: sc0 && sc1 ? ((sc1.total - sc0.total) / wall) * 100 : Number.NaN,
      mbPerSession: (s1.rss - ready.rssBefore) / n / 1e6,
      rssMb: s1.rss / 1e6,
      fps: (s1.frames - s0.frames) / ((s1.t - s0.t) / 1000) / n,
      lost,
      lossPercent: (lost / Math.max(1, lost + received)) * 100,
      endedEarly: s1.ended,
      errors: s1.errors,
      loopDelayP99Ms: s1.loopDelayP99Ms,
      loopDelayMaxMs: s1.loopDelayMaxMs,
    }
  } catch (e) {
    return { ...base, ok: false, note: `${(e as Error).message}: ${lastLine(client.stderr() + server.stderr())}` }
  } finally {
    await client.stop()
    await server.stop()
  }
}

/** RSS of a gst-launch-1.0 process with `branches` rtspsrc branches, after `settleMs`. */
async function measureGstreamer(file: string, n: number, seconds: number, run: number): Promise<RunRecord> {
  const base = { contender: 'gstreamer', sessions: n, run }
  const { server, url } = await startSource(file)
  // The process's own baseline: one idle fakesink pipeline.
  const idle = startProc('gst-launch-1.0', ['-q', 'fakesrc', 'num-buffers=-1', 'sizemax=1', '!', 'fakesink'])
  const branches = Array.from({ length: n }, () => ['rtspsrc', `location=${url}`, 'protocols=tcp', 'latency=200', '!', 'rtph264depay', '!', 'fakesink', 'sync=false']).flat()
  const gst = startProc('gst-launch-1.0', ['-q', ...branches])
  try {
    await sleep(2000)
    const idleRss = processRss(idle.child.pid!)?.rss ?? Number.NaN
    await idle.stop()
    // gst-launch prints nothing when every branch plays: wait for the CPU to show media flowing.
    await sleep(Math.max(5000, 20 * n) + WARMUP_MS)
    const pid = gst.child.pid!
    const c0 = processCpu(pid)
    const sc0 = processCpu(server.child.pid!)
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const c1 = processCpu(pid)
    const sc1 = processCpu(server.child.pid!)
    const rss = processRss(pid)
    const wall = (performance.now() - t0) / 1000
    if (!c0 || !c1 || !rss) return { ...base, ok: false, note: `gst-launch-1.0 exited: ${lastLine(gst.stderr())}` }
    return {
      ...base,
      ok: true,
      cpuPercent: ((c1.total - c0.total) / wall) * 100,
      serverCpuPercent: sc0 && sc1 ? ((sc1.total - sc0.total) / wall) * 100 : Number.NaN,
      mbPerSession: (rss.rss - idleRss) / n / 1e6,
      rssMb: rss.rss / 1e6,
    }
  } catch (e) {
    return { ...base, ok: false, note: `${(e as Error).message}: ${lastLine(gst.stderr())}` }
  } finally {
    await idle.stop()
    await gst.stop()
    await server.stop()
  }
}

async function main(): Promise<void> {
  const why = cliUnavailable()
  if (why) throw new Error(why)
  const seconds = envNumber('BENCH_SECONDS', 20)
  const runs = Math.round(envNumber('BENCH_RUNS', 3))
  const gstMax = envNumber('BENCH_GST_MAX', 100)
  const counts = (process.env.BENCH_SESSIONS ?? '100,500,1000').split(',').map((s) => Number(s.trim()))
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_SESSIONS=${process.env.BENCH_SESSIONS}: want e.g. 100,500,1000`)
  const file = clip720p2M(60)
  const fileMbps = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'default=nw=1:nk=1', file], { encoding: 'utf8' }).trim()) / 1e6
  const contenders = (process.env.BENCH_CONTENDERS ?? 'rtspkit,gstreamer').split(',').map((s) => s.trim())
  console.error(`scale: sessions ${counts.join(', ')}; ${runs} run(s) of ${seconds} s; ${path.basename(file)} (${fixed(fileMbps)} Mbit/s); GStreamer up to ${gstMax}`)

  const records: RunRecord[] = []
  for (const n of counts) {
    for (let run = 1; run <= runs; run++) {
      const order = run % 2 === 1 ? contenders : [...contenders].reverse()
      for (const c of order) {
        if (c === 'gstreamer' && n > gstMax) continue
        const r = c === 'gstreamer' ? await measureGstreamer(file, n, seconds, run) : await measureRtspkit(file, n, seconds, run)
        records.push(r)
        console.error(
          r.ok
            ? `  ${n} session(s), run ${run}, ${c}: ${fixed(r.cpuPercent!, 1)}% of a core, ${fixed(r.mbPerSession!, 3)} MB/session ` +
                `(RSS ${fixed(r.rssMb!, 0)} MB)` +
                (r.fps !== undefined ? `, ${fixed(r.fps, 1)} frames/s per session, ${r.lost} lost, ${r.endedEarly} ended ${JSON.stringify(r.errors)}` : '') +
                (r.loopDelayMaxMs !== undefined ? `, event loop delay p99 ${fixed(r.loopDelayP99Ms!, 0)} ms, max ${fixed(r.loopDelayMaxMs, 0)} ms` : '') +
                `; source server ${fixed(r.serverCpuPercent!, 0)}%`
            : `  ${n} session(s), run ${run}, ${c}: FAILED, ${r.note}`,
        )
      }
    }
  }

  const rows = counts.flatMap((n) =>
    contenders.map((c) => {
      const ok = records.filter((r) => r.contender === c && r.sessions === n && r.ok)
      const all = records.filter((r) => r.contender === c && r.sessions === n)
      return {
        sessions: n,
        contender: c,
        runs: `${ok.length}/${all.length}`,
        cpuPercent: median(ok.map((r) => r.cpuPercent!)),
        mbPerSession: median(ok.map((r) => r.mbPerSession!)),
        fps: median(ok.filter((r) => r.fps !== undefined).map((r) => r.fps!)),
        lost: ok.reduce((a, r) => a + (r.lost ?? 0), 0),
        endedEarly: ok.reduce((a, r) => a + (r.endedEarly ?? 0), 0),
        note: all.find((r) => !r.ok)?.note ?? '',
      }
    }),
  ).filter((r) => r.runs !== '0/0')
  const ratio = (n: number, key: 'cpuPercent' | 'mbPerSession'): string => {
    const a = rows.find((r) => r.sessions === n && r.contender === 'rtspkit')
    const b = rows.find((r) => r.sessions === n && r.contender === 'gstreamer')
    return a && b ? fixed(a[key] / b[key]) : ''
  }
  console.log(`### N sessions in one process: ${fixed(fileMbps)} Mbit/s 720p25 H.264 over TCP each\n`)
  console.log(`Median of ${runs} run(s), ${seconds} s window after ${WARMUP_MS / 1000} s warm-up; ${machineInfo().cores} cores.\n`)
  console.log(
    markdownTable(
      ['sessions', 'contender', 'runs', 'CPU % of a core', 'MB/session', 'frames/s per session', 'packets lost', 'ended early', 'CPU / gst', 'MB / gst', 'note'],
      rows.map((r) => [
        String(r.sessions),
        r.contender,
        r.runs,
        fixed(r.cpuPercent, 1),
        fixed(r.mbPerSession, 3),
        r.contender === 'rtspkit' ? fixed(r.fps, 1) : '',
        r.contender === 'rtspkit' ? String(r.lost) : '',
        r.contender === 'rtspkit' ? String(r.endedEarly) : '',
        r.contender === 'rtspkit' ? ratio(r.sessions, 'cpuPercent') : '',
        r.contender === 'rtspkit' ? ratio(r.sessions, 'mbPerSession') : '',
        r.note,
      ]),
    ),
  )
  const out = await writeResult('scale', { benchmark: 'scale', date: new Date().toISOString(), config: { seconds, runs, counts, fileMbps }, machine: machineInfo(), summary: rows, runs: records })
  console.log(`\nresults: ${out}`)
}

await main()
