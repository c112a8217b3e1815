/**
 * GStreamer's ONVIF RTSP server (test/interop/gst-onvif-server.py) as a real peer: mounts
 * /backchannel (H.264 + an ONVIF back-channel decoded to raw S16LE 8 kHz in `backchannelOut`)
 * and /replay (ONVIF replay, every packet stamped by rtponviftimestamp).
 *
 *   const server = await startGstOnvifServer({ backchannelOut: file })
 *   t.after(() => server.stop())
 *   await server.waitForLine(/^UNPREPARED$/)   // the back-channel media was torn down
 */
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'
import { startGstServer, type GstServer } from './gst-server.js'

const SCRIPT = fileURLToPath(new URL('../interop/gst-onvif-server.py', import.meta.url))

export interface GstOnvifServer extends GstServer {
  /** Resolves with the first stdout line matching `re` (UNPREPARED, PLAY require=...); rejects after `timeoutMs`. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>
}

export async function startGstOnvifServer(opts: { backchannelOut?: string; codec?: 'PCMU' | 'PCMA' | 'AAC' } = {}): Promise<GstOnvifServer> {
  const args: string[] = []
  if (opts.backchannelOut !== undefined) args.push('--backchannel-out', opts.backchannelOut)
  if (opts.codec !== undefined) args.push('--codec', opts.codec)
  const server = await startGstServer({ script: { path: SCRIPT, args } })
  return {
    ...server,
    async waitForLine(re: RegExp, timeoutMs = 20_000): Promise<string> {
      const until = performance.now() + timeoutMs
      for (;;) {
        const line = server.stdout().split('\n').find((l) => re.test(l))
        if (line !== undefined) return line
        if (performance.now() > until) throw new Error(`gst-onvif-server.py printed no line matching ${re} in ${timeoutMs} ms; stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`)
        await delay(50)
      }
    },
  }
}
