import { parseArgs } from 'node:util'
import { RtspClient } from '../client/client.js'
import type { PushTrackInit } from '../client/push-session.js'
import { ClosedError } from '../errors.js'
import { redactUrl } from '../util/url.js'
import { UsageError, checkRtspUrl, closePush, parsePositiveNumber, parseTransport, stoppedBySignal, tlsOptions, withSignals } from './common.js'
import { parsePushTransport, statusLine } from './push.js'

export async function relay(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      transport: { type: 'string' },
      'src-transport': { type: 'string' },
      timeout: { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      duration: { type: 'string', short: 't' },
      quiet: { type: 'boolean', short: 'q', default: false },
      reconnect: { type: 'boolean', default: false },
    },
  })
  const [src, dst] = positionals
  if (src === undefined || dst === undefined || positionals.length > 2) {
    throw new UsageError('usage: rtspkit relay <src-url> <dst-url> [--transport tcp|udp] [--src-transport auto|tcp|udp] [--duration <s>] [--reconnect]')
  }
  // Both ends are checked before the source is connected: a bad destination fails at once.
  checkRtspUrl('the source url', src)
  checkRtspUrl('the destination url', dst)
  const transport = parsePushTransport(values.transport)
  const srcTransport = parseTransport(values['src-transport'])
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)
  const durationS = values.duration === undefined ? undefined : parsePositiveNumber('--duration', values.duration, 0)
  const live = !values.quiet && process.stderr.isTTY === true

  return withSignals(async (signal) => {
    const client = new RtspClient({ timeoutMs, readTimeoutMs: timeoutMs, tls: tlsOptions(values) })
    // --reconnect: the source side survives drops; the destination session is kept meanwhile.
    const supervisor = values.reconnect ? await client.supervise(src, { signal, transport: srcTransport }) : undefined
    const source = supervisor ?? (await client.pull(src, { signal, transport: srcTransport }))
    if (supervisor !== undefined && !values.quiet) {
      supervisor.on('reconnecting', (e) => {
        process.stderr.write(`${live ? '\r\x1b[K' : ''}rtspkit: relay source dropped (${e.error.message}); reconnecting in ${e.delayMs} ms (attempt ${e.attempt})\n`)
      })
    }
    let failure: unknown
    try {
      // Same codec parameters downstream: no re-encoding, only repacketizing.
      const tracks: PushTrackInit[] = source.tracks.map((t) => ({ type: t.type === 'video' ? 'video' : 'audio', codec: t.codec, details: t.details }))
      const sink = await client.push(dst, tracks, { transport, signal })
      const stop = () => void source.close()
      signal.addEventListener('abort', stop, { once: true })
      void sink.closed.then((err) => {
        if (err !== undefined) stop()
      })
      const durationTimer = durationS !== undefined ? setTimeout(stop, durationS * 1000) : undefined
      const started = performance.now()
      const statusTimer = live ? setInterval(() => process.stderr.write(statusLine(sink, started, '')), 500) : undefined
      // The push may start mid-GOP: send nothing of a video track before its first key frame.
      const waitingKey = source.tracks.map((t) => t.type === 'video')
      try {
        for await (const frame of source.frames()) {
          const i = frame.track.index
          if (waitingKey[i]) {
            if (!frame.keyFrame) continue
            waitingKey[i] = false
          }
          await sink.write(i, frame)
        }
      } catch (err) {
        failure = err
      } finally {
        clearTimeout(durationTimer)
        clearInterval(statusTimer)
        signal.removeEventListener('abort', stop)
      }
      // Ctrl-C / SIGTERM aborts both sessions (the signal covers them): a normal stop here.
      await closePush(sink, signal, live)
      if (stoppedBySignal(failure, signal)) failure = undefined
      if (failure !== undefined) {
        // The source dropped (and was not, or could not be, reconnected): say which side it was.
        const message = failure instanceof Error ? failure.message : String(failure)
        throw new ClosedError(`the relay source ${redactUrl(src)} dropped (${message})`, { cause: failure })
      }
      if (!values.quiet) {
        const frames = sink.stats().reduce((n, t) => n + t.framesSent, 0)
        process.stderr.write(`rtspkit: relayed ${frames} frames in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
      }
      return 0
    } finally {
      await source.close()
    }
  })
}
