import { RtspReader } from '../../../src/rtsp/reader.js'
import type { ReaderLimits } from '../../../src/rtsp/reader.js'

export type Event =
  | { type: 'response'; version: string; status: number; reason: string; headers: Array<[string, string]>; body: string }
  | { type: 'request'; method: string; url: string; version: string; headers: Array<[string, string]>; body: string }
  | { type: 'interleaved'; channel: number; payload: string }

/** A reader that records what it emits; garbage counts are summed, since where they are reported depends on chunking. */
export function recorder(limits?: Partial<ReaderLimits>) {
  const events: Event[] = []
  const payloads: Buffer[] = []
  const state = { garbage: 0, garbageCalls: 0 }
  const reader = new RtspReader(
    {
      onResponse: (r) => events.push({ type: 'response', version: r.version, status: r.status, reason: r.reason, headers: [...r.headers], body: r.body.toString('hex') }),
      onRequest: (r) => events.push({ type: 'request', method: r.method, url: r.url, version: r.version, headers: [...r.headers], body: r.body.toString('hex') }),
      onInterleaved: (channel, payload) => {
        payloads.push(payload)
        events.push({ type: 'interleaved', channel, payload: payload.toString('hex') })
      },
      onGarbage: (n) => {
        state.garbage += n
        state.garbageCalls++
      },
    },
    limits,
  )
  return { reader, events, payloads, state }
}
