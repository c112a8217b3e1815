/**
 * GStreamer's RTSP server as a real peer: spawns test/interop/gst-rtsp-server.py on a
 * free 127.0.0.1 port. Mounts: /h264, /h264aac, /aac (see the script), plus `extra`.
 *
 *   const server = await startGstServer({ user: 'u', password: 'p' })
 *   t.after(() => server.stop())
 *   server.url('/h264')         // rtsp://u:p@127.0.0.1:PORT/h264
 *   server.url('/h264', false)  // rtsp://127.0.0.1:PORT/h264
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('../interop/gst-rtsp-server.py', import.meta.url))
/** Debian's python3 has `gi`; the first python3 on PATH may not. */
const PYTHON = '/usr/bin/python3'
const START_TIMEOUT_MS = 20_000

export interface GstServerOptions {
  /** Listen on this port instead of a free one (to restart a server where it was). */
  port?: number
  user?: string
  password?: string
  protocols?: 'tcp' | 'udp' | 'all'
  /** Session timeout in seconds (Session: ...;timeout=N). Default: the server's 60 s. */
  sessionTimeout?: number
  /** More mounts: path name (no slash) → launch line with payloaders pay0, pay1, ... */
  extra?: Record<string, string>
  /** Mounts left seekable (file media: PLAY with Range seeks them); the others report themselves not seekable. */
  seekable?: Record<string, string>
  /** One pipeline per client instead of one per mount. */
  unshared?: boolean
  /** Serve multicast only, from this pool: `FIRST-LAST:PORTMIN-PORTMAX` (sent on lo). */
  multicast?: string
  /** RECORD mounts (push receivers): path name → launch line with depayloaders depay0, depay1, ... */
  record?: Record<string, string>
  /** Another peer script that prints `PORT <n>` the same way (gst-onvif-server.py), with its own arguments; the options above are not passed to it. */
  script?: { path: string; args: string[] }
}

export interface GstServer {
  port: number
  /**
   * rtsp://127.0.0.1:PORT/path. Credentials (when the server has them) are included
   * unless withCredentials is false.
   */
  url(path: string, withCredentials?: boolean): string
  /** What the server wrote to stderr so far (for failure messages). */
  stderr(): string
  /** What the server wrote to stdout so far (PORT, and what a peer script reports). */
  stdout(): string
  /** SIGTERM (SIGKILL after 5 s) the server's process group and wait for it. Idempotent. */
  stop(): Promise<void>
}

export async function startGstServer(opts: GstServerOptions = {}): Promise<GstServer> {
  if (opts.script !== undefined) return spawnPeer(opts.script.path, opts.script.args, opts)
  const args: string[] = []
  if (opts.user !== undefined || opts.password !== undefined) {
    args.push('--user', opts.user ?? '', '--password', opts.password ?? '')
  }
  if (opts.protocols) args.push('--protocols', opts.protocols)
  if (opts.sessionTimeout !== undefined) args.push('--session-timeout', String(opts.sessionTimeout))
  if (opts.unshared) args.push('--unshared')
  if (opts.multicast !== undefined) args.push('--multicast', opts.multicast)
  if (opts.port !== undefined) args.push('--port', String(opts.port))
  for (const [name, launch] of Object.entries(opts.extra ?? {})) args.push('--extra', `${name}=${launch}`)
  for (const [name, launch] of Object.entries(opts.record ?? {})) args.push('--record', `${name}=${launch}`)
  for (const [name, launch] of Object.entries(opts.seekable ?? {})) args.push('--seekable', `${name}=${launch}`)
  return spawnPeer(SCRIPT, args, opts)
}

async function spawnPeer(script: string, scriptArgs: string[], opts: GstServerOptions): Promise<GstServer> {
  const args = [script, ...scriptArgs]

  // Its own process group, so stop() also reaches anything it forks. stdin stays a pipe:
  // the script exits when it closes, so a crashed test run leaves no server behind.
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  let stderr = ''
  let stdout = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-64 * 1024)
  })
  child.stdin.on('error', () => {})

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  }

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup('SIGTERM')
        const timer = setTimeout(() => killGroup('SIGKILL'), 5_000)
        await exited
        clearTimeout(timer)
      }
      child.stdin.destroy()
      child.stdout.destroy()
      child.stderr.destroy()
    })()
    return stopping
  }

  let port: number
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(
        () => reject(new Error(`${script} printed no PORT within ${START_TIMEOUT_MS} ms; stderr:\n${stderr}`)),
        START_TIMEOUT_MS,
      )
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (s: string) => {
        stdout = (stdout + s).slice(-64 * 1024)
        out += s
        const m = /^PORT (\d+)$/m.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(Number(m[1]))
        }
      })
      child.once('error', (e) => {
        clearTimeout(timer)
        reject(new Error(`cannot start ${PYTHON} ${script}: ${e.message} (run scripts/ensure-peers.sh)`))
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`${script} exited (${code ?? signal}) before listening; stderr:\n${stderr}`))
      })
    })
  } catch (e) {
    await stop()
    throw e
  }

  const credentials =
    opts.user !== undefined ? `${encodeURIComponent(opts.user)}:${encodeURIComponent(opts.password ?? '')}@` : ''
  return {
    port,
    url(path: string, withCredentials = true): string {
      const p = path.startsWith('/') ? path : `/${path}`
      return `rtsp://${withCredentials ? credentials : ''}127.0.0.1:${port}${p}`
    },
    stderr: () => stderr,
    stdout: () => stdout,
    stop,
  }
}
