// @bench-lib (a helper, not a benchmark: scripts/bench.sh skips it)
/**
 * The measured side of bench/scale.ts: N pulls of one URL in this one process, each
 * iterating its frames (`for await (const frame of session.frames())`), as an application
 * would. Uses the built library (dist/index.js, or the one named by argv[4]).
 *
 *   node bench/scale-client.ts URL N [LIB]
 *
 * Prints one JSON line when every session plays (or failed to start), then one per `sample`
 * line read on stdin; exits when stdin closes. SCALE_TIMEOUT_MS sets the client's request
 * timeout (default the library's, 10 s). Each line carries the event loop's delay since the
 * previous one: a process short of CPU shows it there first (media read in multi-second
 * turns of the loop, handshakes answered after their timeout), before frames fall behind.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { REPO_ROOT } from './lib.js'

const [url, nArg, libArg] = process.argv.slice(2)
if (url === undefined || nArg === undefined) throw new Error('usage: scale-client.ts URL N [LIB]')
const n = Number(nArg)
const lib = (await import(pathToFileURL(path.resolve(libArg ?? path.join(REPO_ROOT, 'dist/index.js'))).href)) as typeof import('../src/index.js')

const rssBefore = process.memoryUsage.rss()
const timeoutMs = Number(process.env.SCALE_TIMEOUT_MS ?? 0)
const client = new lib.RtspClient({ transport: 'tcp', ...(timeoutMs > 0 ? { timeoutMs } : {}) })
const loopDelay = monitorEventLoopDelay({ resolution: 20 })
loopDelay.enable()
/** The loop's delay (ms) since the last call: p99 and max. */
function takeLoopDelay(): { loopDelayP99Ms: number; loopDelayMaxMs: number } {
  const r = { loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6 }
  loopDelay.reset()
  return r
}
let frames = 0
let ended = 0
const errors = new Map<string, number>()
const sessions: import('../src/index.js').PullSession[] = []

async function consume(s: import('../src/index.js').PullSession): Promise<void> {
  try {
    // Each frame is handed back once counted (PullSession.release), as an application that
    // is done with a frame does; SCALE_NO_RELEASE=1, or a build without release(), keeps them.
    const release = process.env.SCALE_NO_RELEASE === '1' || typeof s.release !== 'function' ? undefined : s.release.bind(s)
    for await (const frame of s.frames()) {
      frames++
      release?.(frame)
    }
  } catch (e) {
    const key = (e as { code?: string }).code ?? (e as Error).message
    errors.set(key, (errors.get(key) ?? 0) + 1)
  }
  ended++
}

let failed = 0
const firstFailures: string[] = []
// Opened 20 at a time: a burst of 1000 handshakes would only measure the server's accept queue.
for (let i = 0; i < n; i += 20) {
  const batch = await Promise.allSettled(Array.from({ length: Math.min(20, n - i) }, () => client.pull(url)))
  for (const r of batch) {
    if (r.status === 'fulfilled') {
      sessions.push(r.value)
      void consume(r.value)
    } else {
      failed++
      if (firstFailures.length < 3) firstFailures.push(String((r.reason as Error).message))
    }
  }
}

function stats(): { received: number; lost: number; dropped: number } {
  let received = 0
  let lost = 0
  let dropped = 0
  for (const s of sessions) {
    for (const t of s.stats()) {
      received += t.packetsReceived
      lost += t.packetsLost
      dropped += t.framesDropped
    }
  }
  return { received, lost, dropped }
}

const write = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`)
write({ ready: sessions.length, failed, firstFailures, rssBefore, ...takeLoopDelay() })

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const cmd = line.trim()
  // `gc` (with --expose-gc): a full collection first, to tell live memory from garbage.
  if (cmd === 'gc') (globalThis as { gc?: () => void }).gc?.()
  else if (cmd !== 'sample') return
  const mem = process.memoryUsage()
  write({
    t: performance.now(),
    frames,
    ended,
    errors: Object.fromEntries(errors),
    ...stats(),
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
    ...takeLoopDelay(),
  })
})
rl.on('close', () => {
  void Promise.allSettled(sessions.map((s) => s.close())).then(() => process.exit(0))
  setTimeout(() => process.exit(0), 5000).unref()
})
