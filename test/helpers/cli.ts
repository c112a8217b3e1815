/**
 * Run child processes from tests: the rtspkit CLI (`node dist/cli/main.js`, built by
 * `npm run build`) and external tools (ffmpeg, ffprobe). Every child is killed when its
 * time is up, so a hung peer fails one test instead of the whole run.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Readable } from 'node:stream'

/** The repository root (test/helpers/../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The built CLI entry. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface RunOptions {
  /** Kill the child (SIGKILL) after this long; default 30 s. */
  timeoutMs?: number
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string | undefined>
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  stdin?: string | Buffer
  cwd?: string
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** stdout as bytes (for `-o -` media output). */
  stdoutBytes: Buffer
  /** True when the child was killed because timeoutMs passed. */
  timedOut: boolean
}

/** The parent's environment minus what node:test sets for its own children. */
function childEnv(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_TEST_CONTEXT
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k]
  return env
}

/** Run a command to completion, collecting its output. Never rejects for a non-zero exit. */
export function runProcess(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv(opts.env),
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    child.stdout!.on('data', (b: Buffer) => out.push(b))
    child.stderr!.on('data', (b: Buffer) => err.push(b))
    if (opts.stdin !== undefined) {
      child.stdin!.on('error', () => {}) // EPIPE when the child exits without reading
      child.stdin!.end(opts.stdin)
    }
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stdoutBytes = Buffer.concat(out)
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
        timedOut,
      })
    })
  })
}

/** Run `node dist/cli/main.js ...args` from the repository root. */
export function runCli(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], opts)
}

/**
 * Start `node dist/cli/main.js ...args` and hand back the child (stdio piped), for tests
 * that send signals or read output as it comes. The caller must end it: pair with
 * `t.after(() => killChild(child))`.
 */
export function spawnCli(
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; stdio?: SpawnOptions['stdio'] } = {},
): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
  })
}

/** Resolve with the exit status once the child has exited; reject after timeoutMs (child left running). */
export function waitForExit(
  child: ChildProcess,
  timeoutMs = 10_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode })
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit)
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`))
    }, timeoutMs)
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer)
      resolve({ code, signal })
    }
    child.once('exit', onExit)
  })
}

/** SIGKILL the child unless it has already exited, and wait for it. Safe to call twice. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGKILL')
  await waitForExit(child, 5_000).catch(() => {})
}

/**
 * Read a stream (as text) until `pattern` matches what was read so far; resolve with the
 * match. Rejects on timeout or when the stream ends first, quoting what was read.
 */
export function readUntil(stream: Readable, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = ''
    const done = (): void => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
    }
    const onData = (b: Buffer | string): void => {
      text += b.toString()
      const m = text.match(pattern)
      if (m) {
        done()
        resolve(m)
      }
    }
    const onEnd = (): void => {
      done()
      reject(new Error(`stream ended before ${pattern} matched; read:\n${text.slice(-4000)}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`${pattern} did not match within ${timeoutMs} ms; read:\n${text.slice(-4000)}`))
    }, timeoutMs)
    stream.on('data', onData)
    stream.on('end', onEnd)
  })
}
