/**
 * `rtspkit pull <url> -o 'rec/cam1/%Y-%m-%d_%H-%M-%S.mp4' --segment 10m [--keep 7d]
 * [--max-size 50GB] [--reconnect]`: record like an NVR (src/record). One log line per
 * segment, gap, deletion and write error on stderr unless --quiet.
 */
import { RtspClient } from '../client/client.js'
import type { TransportChoice } from '../client/client.js'
import type { TlsOptions } from '../client/connection.js'
import { createSegmentedRecorder } from '../record/segmented-recorder.js'
import { parseDuration, parseSize } from '../record/units.js'
import { checkSegmentPath } from '../record/strftime.js'
import { InvalidArgumentError } from '../errors.js'
import { UsageError, formatBytes } from './common.js'

export interface SegmentedPullOptions {
  url: string
  output: string
  segment: string
  keep: string | undefined
  maxSize: string | undefined
  reconnect: boolean
  quiet: boolean
  durationS: number | undefined
  transport: TransportChoice
  timeoutMs: number
  tls: TlsOptions | undefined
  /** --proxy: an HTTP proxy for the tunnel. */
  proxy?: string
  signal: AbortSignal
}

/** Check --segment/--keep/--max-size and the pattern before connecting (usage errors: exit 2). */
export function checkSegmentOptions(o: { output: string; segment: string; keep?: string | undefined; maxSize?: string | undefined }): void {
  try {
    parseDuration('--segment', o.segment)
    if (o.keep !== undefined) parseDuration('--keep', o.keep)
    if (o.maxSize !== undefined) parseSize('--max-size', o.maxSize)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new UsageError(err.message)
    throw err
  }
  if (o.output === '-') throw new UsageError('--segment writes files: give -o a file name pattern such as rec/cam1/%Y-%m-%d_%H-%M-%S.mp4')
  try {
    checkSegmentPath(o.output)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new UsageError(`-o: ${err.message}`)
    throw err
  }
}

export async function pullSegmented(o: SegmentedPullOptions): Promise<number> {
  const log = o.quiet ? () => {} : (line: string) => process.stderr.write(`rtspkit: ${line}\n`)
  const client = new RtspClient({ transport: o.transport, timeoutMs: o.timeoutMs, readTimeoutMs: o.timeoutMs, tls: o.tls, ...(o.proxy !== undefined ? { proxy: o.proxy } : {}) })
  const session = o.reconnect ? await client.supervise(o.url, { signal: o.signal }) : await client.pull(o.url, { signal: o.signal })
  let recorder
  try {
    recorder = await createSegmentedRecorder(session, {
      path: o.output,
      segment: o.segment,
      ...(o.keep !== undefined ? { keep: o.keep } : {}),
      ...(o.maxSize !== undefined ? { maxSize: o.maxSize } : {}),
      // --duration counts media time from the first frame, as pull without --segment does.
      ...(o.durationS !== undefined ? { duration: o.durationS } : {}),
    })
  } catch (err) {
    await session.close()
    if (err instanceof InvalidArgumentError) throw new UsageError(err.message)
    throw err
  }
  recorder.on('repaired', (e) => log(`repaired ${e.file} left by an interrupted run (${formatBytes(e.before)} → ${formatBytes(e.after)})`))
  recorder.on('segment', (s) => log(`segment ${s.file}: ${(s.endPts - s.startPts).toFixed(2)} s, ${s.frames} frames, ${formatBytes(s.bytes)} (${s.reason})`))
  recorder.on('gap', (g) => log(`gap ${new Date(g.start).toISOString()} → ${new Date(g.end).toISOString()}: ${g.cause}`))
  recorder.on('deleted', (d) => log(`deleted ${d.file} (${d.reason})`))
  // Always shown: the recording is not being written.
  recorder.on('write-error', (e) => process.stderr.write(`rtspkit: ${e.message}\n`))
  const stop = (): void => void recorder.stop()
  o.signal.addEventListener('abort', stop, { once: true })
  // ... and wall time from the first frame, whichever ends first: a stream that ends or
  // thins out stops on time (the same rule as pull without --segment).
  let timer: NodeJS.Timeout | undefined
  if (o.durationS !== undefined) {
    const durationMs = o.durationS * 1000
    recorder.once('segment-start', () => (timer = setTimeout(stop, durationMs)))
  }
  let failure: unknown
  recorder.once('close', (err) => (failure = err))
  await recorder.done
  clearTimeout(timer)
  o.signal.removeEventListener('abort', stop)
  if (failure !== undefined) throw failure
  log(`recorded ${recorder.framesWritten} frames (${formatBytes(recorder.bytesWritten)}) into segments; index: ${recorder.indexPath}`)
  return 0
}
