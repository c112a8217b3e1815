import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { RtspClient } from '../client/client.js'
import type { Track } from '../client/track.js'
import { createRecorder } from '../output/index.js'
import type { Recorder } from '../output/index.js'
import { RtspServer } from '../server/server.js'
import { MediaError } from '../errors.js'
import { closeAndFinalize, recorderTrack } from './pull.js'
import { describeTracks, parsePort } from './serve.js'
import { formatBitrate, formatBytes, parsePositiveNumber, withSignals } from './common.js'
import { openBrowser, startWebServer } from './view.js'
import type { WebServer } from './view.js'

/** The clip shipped in the package (scripts/make-sample.sh): dist/cli/ and src/cli/ are both two levels down. */
export const SAMPLE_CLIP = fileURLToPath(new URL('../../assets/sample.mp4', import.meta.url))

interface PullReport {
  transport: 'tcp' | 'udp'
  tracks: Track[]
  frames: number[]
  bytes: number
  seconds: number
  /** Size of the recording, when there is one. */
  fileBytes: number
}

function trackLine(t: Track): string {
  const d = t.details
  if (t.type === 'video') return `${t.codec}${d.width !== undefined ? ` ${d.width}x${d.height}` : ''}${d.codecString !== undefined ? ` (${d.codecString})` : ''}`
  const ch = d.channels ?? t.channels
  return `${t.codec} ${d.sampleRate ?? t.clockRate} Hz${ch !== undefined ? (ch === 1 ? ' mono' : ` ${ch} ch`) : ''}`
}

/**
 * `rtspkit demo`: the whole path on one machine, offline. Serves the bundled clip, pulls it
 * with rtspkit over TCP and over UDP at the same time, records the TCP pull to a file, and
 * says what happened.
 */
export async function demo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      output: { type: 'string', short: 'o', default: 'demo.mp4' },
      duration: { type: 'string', short: 't' },
      port: { type: 'string', short: 'p' },
      web: { type: 'boolean', default: false },
      open: { type: 'boolean', default: false },
      http: { type: 'string' },
    },
  })
  const output = values.output
  const seconds = parsePositiveNumber('--duration', values.duration, 4)
  const port = parsePort(values.port, 0)
  if (!existsSync(SAMPLE_CLIP)) throw new MediaError(`the sample clip ${SAMPLE_CLIP} is missing from this install; reinstall rtspkit or run scripts/make-sample.sh`)
  const say = (line: string) => process.stderr.write(`rtspkit demo: ${line}\n`)
  if (values.web) return demoWeb(port, parsePort(values.http, 0), values.open, say)

  return withSignals(async (signal) => {
    const server = new RtspServer({ port })
    try {
      const pub = await server.addFile('demo', SAMPLE_CLIP)
      await server.listen()
      const url = server.url('demo')
      say(`serving the bundled clip (${describeTracks(pub.tracks)}) at ${url}`)
      say(`pulling it with rtspkit over TCP and over UDP for ${seconds} s; the TCP pull is recorded to ${output}`)
      const client = new RtspClient({ timeoutMs: 10_000 })
      const [tcp, udp] = await Promise.all([
        pullFor(client, url, 'tcp', seconds, signal, output),
        pullFor(client, url, 'udp', seconds, signal, undefined),
      ])
      for (const r of [tcp, udp]) {
        const counts = r.tracks.map((t, i) => `${r.frames[i] ?? 0} ${t.type}`).join(' + ')
        say(`${r.transport.toUpperCase()}: ${r.tracks.map(trackLine).join(' + ')}; ${counts} frames in ${r.seconds.toFixed(1)} s, ${formatBitrate((r.bytes * 8) / Math.max(r.seconds, 0.001))}`)
      }
      const total = (r: PullReport) => r.frames.reduce((a, b) => a + b, 0)
      if (total(tcp) === 0 || total(udp) === 0) {
        throw new MediaError(`no frames arrived over ${total(tcp) === 0 ? 'TCP' : 'UDP'}; a firewall may block loopback UDP (try again, or report it)`)
      }
      say(`recorded ${output} (${formatBytes(tcp.fileBytes)}); play it with: ffplay ${output}`)
      say(`next: rtspkit serve cam=${SAMPLE_CLIP}  then  rtspkit pull rtsp://127.0.0.1:8554/cam -o cam.mp4`)
      return 0
    } finally {
      await server.close()
    }
  })
}

/** `rtspkit demo --web`: the bundled clip in the browser (player page) until Ctrl-C. */
async function demoWeb(port: number, httpPort: number, open: boolean, say: (line: string) => void): Promise<number> {
  return withSignals(async (signal) => {
    const server = new RtspServer({ port })
    let web: WebServer | undefined
    try {
      const pub = await server.addFile('demo', SAMPLE_CLIP)
      await server.listen()
      web = await startWebServer(server, { host: '127.0.0.1', port: httpPort })
      const page = `${web.origin}/demo/`
      say(`serving the bundled clip (${describeTracks(pub.tracks)}) at ${server.url('demo')}`)
      say(`watch it in a browser; Ctrl-C stops`)
      process.stdout.write(`${page}\n`)
      if (open) openBrowser(page, say)
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      return 0
    } finally {
      await web?.close()
      await server.close()
    }
  })
}

async function pullFor(client: RtspClient, url: string, transport: 'tcp' | 'udp', seconds: number, signal: AbortSignal, output: string | undefined): Promise<PullReport> {
  const session = await client.pull(url, { transport, signal })
  const report: PullReport = { transport, tracks: session.tracks, frames: session.tracks.map(() => 0), bytes: 0, seconds: 0, fileBytes: 0 }
  const started = performance.now()
  const stop = () => void session.close()
  const timer = setTimeout(stop, seconds * 1000)
  signal.addEventListener('abort', stop, { once: true })
  let recorder: Recorder | undefined
  let failure: unknown
  try {
    if (output !== undefined) recorder = await createRecorder({ format: 'mp4', tracks: session.tracks.map(recorderTrack), sink: output })
    for await (const frame of session.frames()) {
      report.frames[frame.track.index]!++
      for (const d of frame.data) report.bytes += d.length
      await recorder?.write({ trackIndex: frame.track.index, pts: frame.pts, keyFrame: frame.keyFrame, data: frame.data })
    }
  } catch (err) {
    failure = err
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
    failure = await closeAndFinalize(session, recorder, failure)
  }
  if (failure !== undefined) throw failure
  report.seconds = (performance.now() - started) / 1000
  report.fileBytes = recorder?.bytesWritten ?? 0
  return report
}
