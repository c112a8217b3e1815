import { AbortError, RtspError, InvalidArgumentError } from '../errors.js'
import type { PushSession } from '../client/push-session.js'
import { readFileSync } from 'node:fs'
import type { TransportChoice } from '../client/client.js'
import type { TlsOptions } from '../client/connection.js'
import { parseRtspUrl } from '../util/url.js'

const CONNECT_HELP = `Connection options:
  --transport auto|tcp|udp|http|multicast
                             auto (default) tries UDP, then falls back to TCP; http tunnels
                             RTSP over HTTP (the QuickTime tunnel) for cameras behind firewalls;
                             multicast joins the group the server sends to (auto never does)
  --timeout <ms>             handshake, reply and media timeout (default 10000)
  --ca <file>                rtsps://: trust this CA certificate (PEM)
  --insecure                 rtsps://: do not verify the server certificate
  --proxy <url>              tunnel through this HTTP proxy, http://[user:pass@]host:port
                             (implies --transport http; CONNECT for rtsps://)
`

const GLOBAL_HELP = `Options for every command:
  -v, --verbose              RTSP requests and replies with their headers, transport
                             choices, session states, reconnects and losses on stderr
  -vv                        also SDP bodies and per-second RTP counters per track
  --json                     errors as one JSON object {code, message} on stderr
  -h, --help                 this command's usage
`

/** `rtspkit <command> --help`: each command's usage, options and examples. */
export const COMMAND_USAGE: Readonly<Record<string, string>> = {
  probe: `Usage: rtspkit probe <url> [--transport auto|tcp|udp] [--timeout <ms>] [--json]

Connect, play until the first key frame, tear down, and print the server and its tracks
with their codec details. --json prints them as one JSON object on stdout.

${CONNECT_HELP}`,
  pull: `Usage: rtspkit pull <url> -o <file|-> [--format mp4|mov|ts|h264|h265|mjpeg|aac] [--start <pos>]
                   [--duration <s>] [--transport auto|tcp|udp|http|multicast] [--timeout <ms>] [--reconnect] [--quiet]

Record a stream for --duration (-t) seconds, or until Ctrl-C / SIGTERM, then finalize the file.
  -o, --output <file|->      the file to write; - writes to stdout (then --format is needed)
  -f, --format <format>      mp4, mov, ts, h264, h265, mjpeg or aac (default: from the extension)
  --start <pos>              start at this position: [hh:]mm:ss or seconds (Range: npt=), or an ISO
                             UTC time for recorders (Range: clock=)
  --clock <time>             ONVIF replay from a recorder, starting at this ISO UTC time
                             (2026-12-01T10:00:00Z): Require: onvif-replay, Range: clock=,
                             Rate-Control: no (as fast as it sends), Immediate: yes
  -t, --duration <s>         stop this many seconds after the first frame (media time, like
                             ffmpeg's -t, or wall time when the stream thins out)
  --reconnect                reconnect with backoff when the stream drops; one continuous file
                             (with --segment: an outage ends a segment, logged as a gap)
  --segment <duration>       record segments of this length (10s, 10m, 1h), cut at key frames;
                             -o is a strftime pattern (%Y %m %d %H %M %S %f), .mp4/.mov/.ts;
                             index.jsonl beside them lists segments and gaps
  --keep <duration>          delete segments older than this (e.g. 7d)
  --max-size <size>          delete the oldest segments above this total (e.g. 50GB)
  -q, --quiet                no status line

${CONNECT_HELP}`,
  push: `Usage: rtspkit push <file.mp4|.mov|.ts> <url> [--transport tcp|udp] [--loop] [--duration <s>]
                   [--no-realtime] [--timeout <ms>] [--ca <file>] [--insecure] [--quiet]

Publish a file to a server (ANNOUNCE, SETUP mode=record, RECORD), paced in real time.
  --transport tcp|udp        default tcp
  --loop                     start again at the end, timestamps continuous
  -t, --duration <s>         stop after this many seconds
  --no-realtime              as fast as the server takes it
  -q, --quiet                no status line
`,
  talk: `Usage: rtspkit talk <url> <audio file|-> [--format auto|wav|s16le|pcmu|pcma|adts]
                   [--transport auto|tcp|udp|http] [--timeout <ms>] [--quiet]

Talk through a camera's speaker (ONVIF back-channel, two-way audio): open the stream with
Require: www.onvif.org/ver20/backchannel, send the audio in real time as G.711 (the law the
camera takes; or AAC as it is, to a camera that takes AAC) while its streams keep arriving,
then tear down.
  -f, --format <format>      wav (16-bit PCM, A-law or µ-law, mono, at the camera's rate), s16le
                             (raw 16-bit PCM), pcmu or pcma (raw G.711), adts (AAC); default: from
                             the file name, else a WAV or ADTS header. - reads stdin, e.g.
                             ffmpeg -i in.mp3 -ar 8000 -ac 1 -f s16le - | rtspkit talk URL - -f s16le
  -q, --quiet                no messages

${CONNECT_HELP}`,
  relay: `Usage: rtspkit relay <src-url> <dst-url> [--transport tcp|udp] [--src-transport auto|tcp|udp]
                    [--duration <s>] [--timeout <ms>] [--reconnect] [--quiet]

Pull one server's stream and push it to another, without re-encoding.
  --transport tcp|udp        to the destination (default tcp)
  --src-transport auto|tcp|udp   from the source (default auto)
  --reconnect                keep the destination session when the source drops, resume at a key frame
  -t, --duration <s>         stop after this many seconds
  -q, --quiet                no status line
`,
  serve: `Usage: rtspkit serve [--host 127.0.0.1] [--port 8554] [--user U --password P]
                    [--session-timeout <s>] [--pull-transport auto|tcp|udp] [--quiet]
                    [--on-demand [--close-after <s>]] [--multicast <range> [--multicast-port <port>]]
                    [--http-tunnel-port <port>] [<path>=<file|rtsp-url> ...]

Serve files (looped live) and other servers' streams (pulled once) on paths; publishers
may push to any other path. The password may come from RTSPKIT_PASSWORD instead.
  -c, --config <file>        paths, sources, recordings and users from a YAML or JSON file
                             (see README "Recording cameras"); kill -HUP reloads it
  -p, --port <port>          default 8554; 0 picks a free one
  -q, --quiet                no session log lines
  --on-demand                pull rtsp:// sources only while someone watches (RTSP or browser)
  --close-after <s>          with --on-demand: close a source this long after its last viewer
                             (default 10)
  --http <port>              also serve the browser live view (player pages, MSE, WebRTC,
                             live .mp4, snapshots) on this HTTP port; 0 picks a free one
  --http-host <address>      HTTP address (default 127.0.0.1: this machine only)
  --allow-origin <origin>    another site that may embed the player (repeatable)
  --webrtc-address <ip>      address to advertise in WebRTC candidates (repeatable)
  --multicast <range>        serve readers that ask for multicast (Transport RTP/AVP;multicast):
                             one copy of each stream to a group of this range, e.g. 239.0.0.0/24
  --multicast-port <port>    first RTP port of the groups (default 40000)
  --http-tunnel-port <port>  also take RTSP tunnelled in HTTP on this port (0 picks a free one);
                             tunnels on the RTSP port are taken as well
`,
  demo: `Usage: rtspkit demo [-o demo.mp4] [--duration <s>] | rtspkit demo --web [--open]

Serve the bundled clip, pull it over TCP and UDP, record the TCP pull, and say what arrived.
  -o, --output <file>        default demo.mp4
  -t, --duration <s>         default 4
  --web                      instead, show the clip in the browser until Ctrl-C (prints the URL)
  --open                     with --web: open the page in the default browser
  --http <port>              with --web: HTTP port (default 0: a free one)
`,
  view: `Usage: rtspkit view <rtsp-url> [--http <port>] [--http-host 127.0.0.1] [--open] [--path cam]
                   [--linger <s>] [--transport auto|tcp|udp] [--user U --password P]

Watch a camera in the browser (MSE or WebRTC, no transcoding): prints the player page's URL.
The camera is pulled while someone watches, and closed --linger seconds (default 10) after.
  --http <port>              HTTP port (default 8080; 0 picks a free one)
  --http-host <address>      HTTP address (default 127.0.0.1: this machine only)
  --open                     open the page in the default browser (xdg-open / open)
  --path <name>              the path on this server (default cam)
  --user U --password P      ask browsers for this user (Basic; or RTSPKIT_PASSWORD)
`,
}

export const USAGE = `rtspkit — RTSP toolkit

Usage:
  rtspkit demo [-o demo.mp4] [--duration <s>]
               serve the bundled clip, pull it over TCP and UDP, record it
  rtspkit probe <url> [--transport auto|tcp|udp] [--timeout <ms>] [--json]
  rtspkit pull <url> -o <file|-> [--format mp4|mov|ts|h264|h265|mjpeg|aac] [--duration <s>]
               [--transport auto|tcp|udp] [--timeout <ms>] [--reconnect] [--quiet]
  rtspkit push <file.mp4|.mov|.ts> <url> [--transport tcp|udp] [--loop] [--duration <s>]
               [--no-realtime] [--timeout <ms>] [--quiet]
  rtspkit relay <src-url> <dst-url> [--transport tcp|udp] [--src-transport auto|tcp|udp]
               [--duration <s>] [--timeout <ms>] [--reconnect] [--quiet]
  rtspkit serve [--host 127.0.0.1] [--port 8554] [--user U --password P]
               [--session-timeout <s>] [--pull-transport auto|tcp|udp] [--quiet]
               [<path>=<file|rtsp-url> ...]
               [--http <port>]
               serve files and cameras as live streams; publishers may push to any other path;
               --http adds the browser live view
  rtspkit view <rtsp-url> [--http <port>] [--open]
               watch a camera in the browser
  rtspkit talk <url> <audio file|-> [--format auto|wav|s16le|pcmu|pcma|adts]
               talk through a camera's speaker (ONVIF back-channel)

  rtspkit <command> --help     that command's options
  rtspkit --version | -V | --help

${CONNECT_HELP}
${GLOBAL_HELP}
Credentials go in the URL: rtsp://user:password@host:554/path
`

/** The usage of one command, for `rtspkit <command> --help` (the summary for one without its own). */
export function usageOf(command: string): string {
  const own = COMMAND_USAGE[command]
  return own === undefined ? USAGE : `${own}
${GLOBAL_HELP}
Credentials go in the URL: rtsp://user:password@host:554/path
`
}

/** Thrown for bad command-line input: exit status 2. */
export class UsageError extends InvalidArgumentError {}

export function parseTransport(v: string | undefined): TransportChoice {
  if (v === undefined) return 'auto'
  if (v === 'tcp' || v === 'udp' || v === 'auto' || v === 'http' || v === 'multicast') return v
  throw new UsageError(`--transport must be auto, tcp, udp, http or multicast, not "${v}"`)
}

/** Options every command that connects shares. */
export const CONNECT_OPTIONS = {
  transport: { type: 'string' },
  timeout: { type: 'string' },
  ca: { type: 'string' },
  insecure: { type: 'boolean', default: false },
  proxy: { type: 'string' },
} as const

/** --proxy URL, as client options (checked, never quoted back, by the client's option rules). */
export function proxyOption(values: { proxy?: string }): { proxy?: string } {
  return values.proxy === undefined ? {} : { proxy: values.proxy }
}

/** --ca FILE / --insecure for rtsps:// servers. */
export function tlsOptions(values: { ca?: string; insecure?: boolean }): TlsOptions | undefined {
  if (values.ca === undefined && !values.insecure) return undefined
  let ca: Buffer | undefined
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca)
    } catch (err) {
      throw new UsageError(`cannot read --ca ${values.ca}: ${(err as Error).message}`)
    }
  }
  return { ca, rejectUnauthorized: !values.insecure }
}

/** A URL argument: rtsp:// or rtsps:// (checked before anything connects or opens). */
export function checkRtspUrl(which: string, url: string): void {
  try {
    parseRtspUrl(url)
  } catch (err) {
    throw new UsageError(`${which} must be rtsp:// or rtsps:// (${(err as Error).message})`)
  }
}

export function parsePositiveNumber(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, not "${v}"`)
  return n
}

/** One line, `rtspkit:` first, never a password (errors carry redacted URLs only). */
export function formatError(err: unknown): string {
  return `rtspkit: ${errorMessage(err)}`
}

/** `--json`: the error as one JSON object, {code, message}; same message as formatError. */
export function formatErrorJson(err: unknown): string {
  return JSON.stringify({ code: errorCode(err), message: errorMessage(err) })
}

function isParseArgsError(err: unknown): err is Error {
  return err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
}

function errorCode(err: unknown): string {
  if (err instanceof RtspError) return err.code
  // parseArgs rejects an option or argument: the same code as any other bad input.
  if (isParseArgsError(err)) return 'RTSP_ERR_INVALID_ARGUMENT'
  return 'RTSP_ERR_INTERNAL'
}

function errorMessage(err: unknown): string {
  if (err instanceof RtspError) return err.message
  if (isParseArgsError(err)) return `${err.message.split('\n')[0]}; see rtspkit --help`
  if (err instanceof Error) return `internal error: ${err.message.split('\n')[0]}`
  return `internal error: ${String(err)}`
}

/** Exit status for an error: 2 bad usage, 130 interrupted, 1 anything else. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || isParseArgsError(err)) return 2
  if (err instanceof RtspError && err.code === 'RTSP_ERR_ABORTED') return 130
  return 1
}

/** `err` is the abort that Ctrl-C / SIGTERM caused through `signal`: a normal stop, not a failure. */
export function stoppedBySignal(err: unknown, signal: AbortSignal): boolean {
  return err instanceof AbortError && signal.aborted
}

/**
 * Close a push session at the end of a command (push, relay), ending the status line; the
 * session's own error is thrown, unless it is the abort of Ctrl-C / SIGTERM.
 */
export async function closePush(session: PushSession, signal: AbortSignal, live: boolean): Promise<void> {
  const ended = session.state === 'closed' ? await session.closed : undefined
  await session.close()
  if (live) process.stderr.write('\n')
  if (ended !== undefined && !stoppedBySignal(ended, signal)) throw ended
}

/** Run `fn` with an AbortSignal that fires on SIGINT/SIGTERM; the handlers are removed afterwards. */
export async function withSignals<T>(fn: (signal: AbortSignal, stopped: () => boolean) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      // Second Ctrl-C: give up on a clean stop.
      process.exit(sig === 'SIGINT' ? 130 : 143)
    }
    ac.abort(sig)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    return await fn(ac.signal, () => ac.signal.aborted)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`
}

export function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond < 1e3) return `${bitsPerSecond.toFixed(0)} bit/s`
  if (bitsPerSecond < 1e6) return `${(bitsPerSecond / 1e3).toFixed(0)} kbit/s`
  return `${(bitsPerSecond / 1e6).toFixed(2)} Mbit/s`
}
