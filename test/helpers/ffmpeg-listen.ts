/** ffmpeg as an RTSP receiver: `-rtsp_flags listen` takes one publisher and records it. */
import { spawn, type ChildProcess } from 'node:child_process'
import { killChild } from './cli.js'
import { freePort, isListening } from './net.js'

export interface FfmpegListenerOptions {
  /**
   * Seconds ffmpeg waits for the publisher (`-listen_timeout`) and, once it records, for the
   * next packet (`-timeout`, which ffmpeg 5.1 takes in microseconds: `-timeout 20` gave up on
   * UDP after the first 100 ms without a packet). Default 20.
   */
  timeoutS?: number
  /** Output options before the file, after the input; default `['-c', 'copy']`. */
  outputArgs?: readonly string[]
}

/**
 * Start ffmpeg listening at rtsp://127.0.0.1:<free port>/live, writing what it receives to
 * `out`; resolves once its socket listens (10 s at most).
 */
export async function startFfmpegListener(out: string, opts: FfmpegListenerOptions = {}): Promise<{ url: string; port: number; child: ChildProcess }> {
  const port = await freePort()
  const url = `rtsp://127.0.0.1:${port}/live`
  const timeoutS = opts.timeoutS ?? 20
  const args = ['-nostdin', '-v', 'error', '-rtsp_flags', 'listen', '-listen_timeout', String(timeoutS), '-timeout', String(timeoutS * 1_000_000), '-i', url, ...(opts.outputArgs ?? ['-c', 'copy']), '-y', out]
  const child = spawn('ffmpeg', args, { stdio: 'ignore' })
  const t0 = Date.now()
  while (!isListening(port)) {
    if (Date.now() - t0 > 10_000 || child.exitCode !== null) {
      await killChild(child)
      throw new Error('ffmpeg listener did not start')
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { url, port, child }
}
