import { parseArgs } from 'node:util'
import { RtspClient } from '../client/client.js'
import type { Frame, Track } from '../client/track.js'
import type { PullSession } from '../client/pull-session.js'
import { createRecorder, formatFromPath } from '../output/index.js'
import type { OutputFormat, Recorder, RecorderTrack } from '../output/index.js'
import { UsageError, checkRtspUrl, formatBitrate, formatBytes, parsePositiveNumber, parseTransport, proxyOption, stoppedBySignal, tlsOptions, withSignals, CONNECT_OPTIONS } from './common.js'

const FORMATS: readonly OutputFormat[] = ['mp4', 'mov', 'ts', 'h264', 'h265', 'mjpeg', 'aac']

function parseFormat(v: string | undefined, output: string): OutputFormat {
  if (v !== undefined) {
    if ((FORMATS as readonly string[]).includes(v)) return v as OutputFormat
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${v}"`)
  }
  if (output === '-') throw new UsageError('writing to stdout (-o -) needs --format mp4|mov|ts|h264|h265|mjpeg|aac')
  const f = formatFromPath(output)
  if (f === undefined) throw new UsageError(`cannot tell the format from "${output}"; use a .mp4, .mov, .ts, .h264, .h265, .mjpeg or .aac name or give --format`)
  return f
}

const IN_BAND_CONFIG_WAIT_MS = 3000

/** A track whose codec configuration is still to come in-band (MP4A-LATM with cpresent=1 and no config= in the SDP). */
function awaitsInBandConfig(tracks: readonly Track[]): boolean {
  return tracks.some((t) => t.codec === 'MP4A-LATM' && t.details.audioSpecificConfig === undefined)
}

function write(recorder: Recorder, f: Frame, session?: Pick<PullSession, 'release'>): Promise<void> {
  // The recorder says when it is done with the frame's buffers: the session reuses them.
  const release = session === undefined ? undefined : () => session.release(f)
  return recorder.write({ trackIndex: f.track.index, pts: f.pts, keyFrame: f.keyFrame, data: f.data, release })
}

export function recorderTrack(t: Track): RecorderTrack {
  return { type: t.type === 'video' ? 'video' : 'audio', codec: t.codec, clockRate: t.clockRate, details: t.details }
}

/** Close the session (TEARDOWN), then finalize the recording; the first failure wins and is returned. */
export async function closeAndFinalize(session: { close(): Promise<void> }, recorder: Recorder | undefined, failure: unknown): Promise<unknown> {
  await session.close()
  if (recorder !== undefined) {
    try {
      await recorder.finalize()
    } catch (err) {
      return failure ?? err
    }
  }
  return failure
}

export async function pull(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      format: { type: 'string', short: 'f' },
      duration: { type: 'string', short: 't' },
      start: { type: 'string', short: 's' },
      clock: { type: 'string' },
      ...CONNECT_OPTIONS,
      quiet: { type: 'boolean', short: 'q', default: false },
      reconnect: { type: 'boolean', default: false },
      // Segmented recording (src/record): -o is then a strftime pattern.
      segment: { type: 'string' },
      keep: { type: 'string' },
      'max-size': { type: 'string' },
    },
  })
  const url = positionals[0]
  if (url === undefined || positionals.length > 1 || values.output === undefined) {
    throw new UsageError('usage: rtspkit pull <url> -o <file|-> [--format mp4|mov|ts|h264|h265|mjpeg|aac] [--start <[hh:]mm:ss|s|ISO time>] [--duration <s>] [--transport auto|tcp|udp] [--timeout <ms>] [--reconnect]')
  }
  checkRtspUrl('the url', url)
  const output = values.output
  if (values.segment === undefined && (values.keep !== undefined || values['max-size'] !== undefined)) {
    throw new UsageError('--keep and --max-size apply to segmented recordings: add --segment <duration>')
  }
  if (values.segment !== undefined) {
    const { checkSegmentOptions, pullSegmented } = await import('./pull-segmented.js')
    const seg = { output, segment: values.segment, keep: values.keep, maxSize: values['max-size'] }
    checkSegmentOptions(seg)
    const common = {
      url,
      ...seg,
      reconnect: values.reconnect,
      quiet: values.quiet,
      durationS: values.duration === undefined ? undefined : parsePositiveNumber('--duration', values.duration, 0),
      transport: parseTransport(values.transport),
      timeoutMs: parsePositiveNumber('--timeout', values.timeout, 10_000),
      tls: tlsOptions(values),
      ...proxyOption(values),
    }
    return withSignals((signal) => pullSegmented({ ...common, signal }))
  }
  const format = parseFormat(values.format, output)
  const transport = parseTransport(values.transport)
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)
  const durationS = values.duration === undefined ? undefined : parsePositiveNumber('--duration', values.duration, 0)
  const toStdout = output === '-'
  if (values.clock !== undefined && values.start !== undefined) throw new UsageError('--clock and --start both say where to start: give one')
  const range = values.clock !== undefined ? { start: parseClock(values.clock) } : values.start === undefined ? undefined : { start: parseStart(values.start) }
  // --clock: ONVIF replay of a recorder (Streaming §6), as fast as it sends (Rate-Control: no).
  const replay = values.clock !== undefined ? { onvifReplay: { rateControl: false, immediate: true } } : {}

  const live = !toStdout && !values.quiet && process.stderr.isTTY === true
  return withSignals(async (signal) => {
    const client = new RtspClient({ transport, timeoutMs, readTimeoutMs: timeoutMs, tls: tlsOptions(values), ...proxyOption(values) })
    // --reconnect: a supervisor keeps the recording going across drops, in the same file.
    const supervisor = values.reconnect ? await client.supervise(url, { signal, ...(range !== undefined ? { range } : {}), ...replay }) : undefined
    const session = supervisor ?? (await client.pull(url, { signal, ...(range !== undefined ? { range } : {}), ...replay }))
    if (supervisor !== undefined && !values.quiet) {
      supervisor.on('reconnecting', (e) => {
        process.stderr.write(`${live ? '\r\x1b[K' : ''}rtspkit: stream dropped (${e.error.message}); reconnecting in ${e.delayMs} ms (attempt ${e.attempt})\n`)
      })
    }
    const stop = () => void session.close()
    signal.addEventListener('abort', stop, { once: true })
    // --duration counts from the first frame, in media time (as ffmpeg's -t) and in wall time,
    // whichever ends first: a machine that falls behind and catches up in a burst gets no
    // more than durationS of media, a camera slow to send its first frame is not cut short,
    // and a stream that ends or thins out stops on time.
    let durationTimer: NodeJS.Timeout | undefined
    let firstPts: number | undefined

    let recorder: Awaited<ReturnType<typeof createRecorder>> | undefined
    const started = performance.now()
    let mediaBytes = 0
    let statusTimer: NodeJS.Timeout | undefined
    let failure: unknown
    // A reader at the other end of a pipe that went away (ffplay closed) is a normal stop.
    const onStdoutError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') stop()
    }
    if (toStdout) process.stdout.on('error', onStdoutError)
    const openRecorder = async () => {
      const r = await createRecorder({ format, tracks: session.tracks.map(recorderTrack), sink: toStdout ? process.stdout : output })
      // A track the container cannot hold (G.711 in MP4: "use .mov") is left out, with a warning.
      if (!values.quiet) for (const s of r.skippedTracks) process.stderr.write(`rtspkit: warning: track ${s.trackIndex} is not recorded: ${s.reason}\n`)
      return r
    }
    try {
      // LATM with cpresent=1 carries its AudioSpecificConfig in-band: hold the first frames
      // (a few seconds at most) until it has arrived, so the container gets a real config.
      const pending: Frame[] = []
      const holdUntil = performance.now() + IN_BAND_CONFIG_WAIT_MS
      if (!awaitsInBandConfig(session.tracks)) recorder = await openRecorder()
      if (live) {
        statusTimer = setInterval(() => {
          const s = (performance.now() - started) / 1000
          process.stderr.write(
            `\r\x1b[Krecording ${s.toFixed(1)} s, ${recorder?.framesWritten ?? 0} frames, ${formatBytes(recorder?.bytesWritten ?? 0)}, ${formatBitrate((mediaBytes * 8) / Math.max(s, 0.001))}`,
          )
        }, 500)
      }
      for await (const frame of session.frames()) {
        if (durationS !== undefined) {
          if (firstPts === undefined) {
            firstPts = frame.pts
            durationTimer = setTimeout(stop, durationS * 1000)
          }
          if (frame.pts - firstPts >= durationS) break
        }
        for (const d of frame.data) mediaBytes += d.length
        if (recorder === undefined) {
          if (awaitsInBandConfig(session.tracks) && performance.now() < holdUntil && pending.length < 4096) {
            pending.push(frame)
            continue
          }
          recorder = await openRecorder()
          for (const f of pending.splice(0)) await write(recorder, f)
        }
        await write(recorder, frame, session)
      }
      recorder ??= await openRecorder()
      for (const f of pending.splice(0)) await write(recorder, f)
    } catch (err) {
      failure = err
    } finally {
      clearTimeout(durationTimer)
      clearInterval(statusTimer)
      signal.removeEventListener('abort', stop)
      failure = await closeAndFinalize(session, recorder, failure)
      if (toStdout) process.stdout.off('error', onStdoutError)
    }
    if (live) process.stderr.write('\n')
    // Ctrl-C / SIGTERM aborts the session (the signal covers it): a normal stop here.
    if (stoppedBySignal(failure, signal)) failure = undefined
    if (failure !== undefined) throw failure
    if (!toStdout && !values.quiet) {
      const s = (performance.now() - started) / 1000
      // What the file holds (frames before the first key frame or of a skipped track are not in it).
      process.stderr.write(
        `rtspkit: recorded ${recorder?.framesWritten ?? 0} frames in ${s.toFixed(1)} s to ${output} (${formatBytes(recorder?.bytesWritten ?? 0)})\n`,
      )
    }
    return 0
  })
}

/** --clock: an ISO 8601 UTC time (`2026-12-01T10:00:00Z`), sent as `Range: clock=` (RFC 2326 §3.7). */
function parseClock(v: string): Date {
  const d = /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(v) ? new Date(v) : undefined
  if (d === undefined || !Number.isFinite(d.getTime())) throw new UsageError(`--clock must be an ISO 8601 time with its zone (2026-12-01T10:00:00Z), not ${JSON.stringify(v)}`)
  return d
}

/**
 * --start: a position in the presentation (RFC 2326 §3.6 NPT: `90`, `1:30`, `00:01:30.5`), or
 * an absolute UTC time for recorders (`2026-12-01T10:00:00Z`, sent as `clock=`, §3.7).
 */
function parseStart(v: string): number | Date {
  if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    const d = new Date(v)
    if (Number.isFinite(d.getTime())) return d
  } else {
    const m = /^(?:(?:(\d+):)?([0-5]?\d):)?(\d+(?:\.\d+)?)$/.exec(v)
    if (m !== null && (m[1] === undefined && m[2] === undefined ? true : Number(m[3]) < 60)) {
      return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3])
    }
  }
  throw new UsageError(`--start must be seconds, [hh:]mm:ss or an ISO 8601 UTC time (2026-12-01T10:00:00Z), not ${JSON.stringify(v)}`)
}
