import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { PushSession } from '../client/push-session.js'
import type { TransportProtocol } from '../client/pull-session.js'
import { openFileSource, pumpFrames } from '../input/file-source.js'
import { parseRtspUrl } from '../util/url.js'
import { UsageError, checkRtspUrl, closePush, formatBitrate, parsePositiveNumber, stoppedBySignal, tlsOptions, withSignals } from './common.js'

export function parsePushTransport(v: string | undefined): TransportProtocol {
  if (v === undefined) return 'tcp'
  if (v === 'tcp' || v === 'udp') return v
  throw new UsageError(`--transport must be tcp or udp for push, not "${v}"`)
}

/** The live status line: `\r` + erase, only on a terminal. */
export function statusLine(session: PushSession, started: number, extra: string): string {
  const s = (performance.now() - started) / 1000
  let bytes = 0
  let frames = 0
  let dropped = 0
  for (const t of session.stats()) {
    bytes += t.bytesSent
    frames += t.framesSent
    dropped += t.framesDropped
  }
  return `\r\x1b[Kpushing ${s.toFixed(1)} s, ${frames} frames${dropped > 0 ? ` (${dropped} dropped)` : ''}, ${formatBitrate((bytes * 8) / Math.max(s, 0.001))}${extra}`
}

/**
 * V8 hands a function to TurboFan once it has run about 132 KB of bytecode (its interrupt
 * budget). A push's per-frame code gets there within its first second, and TurboFan then
 * compiled some 35 functions, many run only a few thousand times in a whole push (Node's
 * stream internals, the pacer, the pass replay): ~20 % of a 60 s unpaced push's CPU in perf
 * samples, more than the optimized code saved. With a budget four times larger only the code
 * that runs per packet gets there; once it has, a push of any length runs the same optimized
 * code. Set when the command starts (the CLI process is the push's own), before its first
 * frame; it only moves when V8 optimizes (issue 14).
 */
export const PUSH_INTERRUPT_BUDGET = 512 * 1024

export async function push(argv: string[]): Promise<number> {
  // V8 12 (Node 22) dropped --interrupt-budget for --invocation-count-for-turbofan, and an
  // unknown flag is reported on stderr by V8 itself: set it only where V8 knows it (Node 20).
  if (Number.parseInt(process.versions.v8, 10) <= 11) setFlagsFromString(`--interrupt-budget=${PUSH_INTERRUPT_BUDGET}`)
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      transport: { type: 'string' },
      timeout: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      loop: { type: 'boolean', default: false },
      duration: { type: 'string', short: 't' },
      'no-realtime': { type: 'boolean', default: false },
      quiet: { type: 'boolean', short: 'q', default: false },
    },
  })
  const [input, url] = positionals
  if (input === undefined || url === undefined || positionals.length > 2) {
    throw new UsageError('usage: rtspkit push <input> <url> [--transport tcp|udp] [--loop] [--duration <s>] [--no-realtime]')
  }
  checkRtspUrl('the url', url)
  const transport = parsePushTransport(values.transport)
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)
  const durationS = values.duration === undefined ? undefined : parsePositiveNumber('--duration', values.duration, 0)
  const live = !values.quiet && process.stderr.isTTY === true

  // A plain MP4/MOV is indexed without mediabunny (input/mp4-index.ts): a push starts sooner (issue 14).
  const source = await openFileSource(input, { mp4Index: true })
  try {
    return await withSignals(async (signal) => {
      // The session RtspClient.push would make with these options (checked above: the url,
      // the numbers), made here: client.ts would bring the pull side (pull-session.ts,
      // supervisor.ts and their depacketizers) into the push's bundle, ~0.1 MB more to compile
      // at every start (scripts/bundle-cli.sh, issue 14).
      const tls = tlsOptions(values)
      const session = new PushSession(parseRtspUrl(url), source.tracks, { timeoutMs, readTimeoutMs: timeoutMs, ...(tls !== undefined ? { tls } : {}), transport, signal })
      await session.start(signal)
      const ac = new AbortController()
      const stop = () => ac.abort()
      signal.addEventListener('abort', stop, { once: true })
      // A server that goes away ends the loop below at once.
      void session.closed.then(stop)
      const started = performance.now()
      const statusTimer = live ? setInterval(() => process.stderr.write(statusLine(session, started, '')), 500) : undefined
      let failure: unknown
      let first: number | undefined
      try {
        // Each write's promise holds the next frame back until the socket drains below the
        // session's highWaterMark; --duration stops the pump before the first frame past it.
        await pumpFrames(source, { loop: values.loop, realtime: !values['no-realtime'], signal: ac.signal }, (f) => {
          first ??= f.dts
          if (durationS !== undefined && f.dts - first >= durationS) {
            ac.abort()
            return undefined
          }
          return session.write(f.trackIndex, f)
        })
      } catch (err) {
        failure = err
      } finally {
        clearInterval(statusTimer)
        signal.removeEventListener('abort', stop)
      }
      // Ctrl-C / SIGTERM aborts the session (the signal covers it): a normal stop here.
      await closePush(session, signal, live)
      if (failure !== undefined && !stoppedBySignal(failure, signal)) throw failure
      if (!values.quiet) {
        const s = session.stats()
        const frames = s.reduce((n, t) => n + t.framesSent, 0)
        process.stderr.write(`rtspkit: pushed ${frames} frames in ${((performance.now() - started) / 1000).toFixed(1)} s to ${session.url}\n`)
      }
      return 0
    })
  } finally {
    await source.close()
  }
}
