import { constants, createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { RtspClient } from '../client/client.js'
import { TALK_FORMATS, talkFormatFromPath, type TalkFormat } from '../client/talk-audio.js'
import { UsageError, CONNECT_OPTIONS, checkRtspUrl, parsePositiveNumber, parseTransport, stoppedBySignal, tlsOptions, withSignals } from './common.js'

function parseTalkFormat(v: string | undefined, input: string): TalkFormat {
  if (v !== undefined) {
    if ((TALK_FORMATS as readonly string[]).includes(v)) return v as TalkFormat
    throw new UsageError(`--format must be one of ${TALK_FORMATS.join(', ')}, not "${v}"`)
  }
  return input === '-' ? 'auto' : (talkFormatFromPath(input) ?? 'auto')
}

/**
 * `rtspkit talk <url> <audio file|->`: open the camera with its ONVIF back-channel, send the
 * audio paced in real time while receiving its streams, then tear down.
 */
export async function talk(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'f' },
      ...CONNECT_OPTIONS,
      quiet: { type: 'boolean', short: 'q', default: false },
    },
  })
  const [url, input] = positionals
  if (url === undefined || input === undefined || positionals.length > 2) {
    throw new UsageError('usage: rtspkit talk <url> <audio file|-> [--format auto|wav|s16le|pcmu|pcma|adts] [--transport auto|tcp|udp|http] [--timeout <ms>]')
  }
  checkRtspUrl('the url', url)
  const format = parseTalkFormat(values.format, input)
  // Before connecting: a missing file is the user's to fix, not a session to open and tear down.
  if (input !== '-') {
    try {
      await access(input, constants.R_OK)
    } catch (err) {
      throw new UsageError(`cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
    }
  }
  const transport = parseTransport(values.transport)
  const timeoutMs = parsePositiveNumber('--timeout', values.timeout, 10_000)

  return withSignals(async (signal) => {
    const client = new RtspClient({ transport, timeoutMs, readTimeoutMs: timeoutMs, tls: tlsOptions(values) })
    const session = await client.pull(url, { signal, backchannel: true })
    const bc = session.backchannel
    if (bc === undefined) {
      // talk() says why: no back-channel offered, or one in a codec rtspkit cannot send.
      const why: unknown = await session.talk(new Uint8Array(0)).catch((e: unknown) => e)
      await session.close()
      throw why
    }
    if (!values.quiet) {
      process.stderr.write(`rtspkit: talking to ${session.url} (${bc.codec} ${bc.clockRate} Hz over ${bc.transport.protocol}); the camera sends ${session.tracks.map((t) => `${t.type} ${t.codec}`).join(', ') || 'nothing'}\n`)
    }
    // The camera's streams keep flowing while we talk; count them (the session ends when talk does).
    let frames = 0
    const receiving = (async () => {
      for await (const _frame of session.frames()) frames++
    })()
    receiving.catch(() => {})
    const source = input === '-' ? process.stdin : createReadStream(input)
    let failure: unknown
    let result: Awaited<ReturnType<typeof session.talk>> | undefined
    try {
      result = await session.talk(source, { format, signal })
    } catch (err) {
      failure = err
    } finally {
      if (source !== process.stdin) source.destroy()
      await session.close()
      await receiving.catch(() => {})
    }
    // Ctrl-C / SIGTERM: a normal stop.
    if (stoppedBySignal(failure, signal)) failure = undefined
    if (failure !== undefined) throw failure
    if (!values.quiet) {
      process.stderr.write(`rtspkit: sent ${(result?.durationS ?? 0).toFixed(2)} s of audio in ${result?.packetsSent ?? 0} packets; received ${frames} frames meanwhile\n`)
    }
    return 0
  })
}
