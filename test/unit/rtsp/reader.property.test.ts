import { describe, it } from 'node:test'
import { strict as assert } from 'node:assert'
import fc from 'fast-check'
import { RtspError } from '../../../src/errors.js'
import { encodeInterleaved, serializeRequest, serializeResponse } from '../../../src/rtsp/serialize.js'
import { recorder } from './reader-helpers.js'
import type { Event } from './reader-helpers.js'

const RUNS = Number(process.env.FC_RUNS ?? 400)

const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/)
const headerValue = fc.stringMatching(/^[ -~]{0,40}$/)
const headers = fc.array(fc.tuple(token, headerValue), { maxLength: 6 }).map((hs) => hs.filter(([n]) => n.toLowerCase() !== 'content-length'))
const body = fc.oneof(fc.constant(Buffer.alloc(0)), fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)))
const lf = fc.boolean()

/** A byte stream as a server writes it: responses, requests and interleaved frames. */
const frame = fc.oneof(
  fc.record({ status: fc.integer({ min: 100, max: 599 }), reason: fc.constantFrom('OK', '', 'Unauthorized', 'Session Not Found'), headers, body, lf }).map((r) => {
    const buf = serializeResponse({ status: r.status, reason: r.reason, headers: Object.fromEntries(r.headers), body: r.body })
    return r.lf ? toLf(buf) : buf
  }),
  fc.record({ method: fc.constantFrom('OPTIONS', 'GET_PARAMETER', 'ANNOUNCE', 'SET_PARAMETER'), url: fc.constantFrom('*', 'rtsp://127.0.0.1:8554/cam', 'rtsp://[::1]/a?b=$'), headers, body }).map((r) =>
    serializeRequest({ method: r.method, url: r.url, headers: Object.fromEntries(r.headers), body: r.body }),
  ),
  fc.record({ channel: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 3000 }) }).map((f) => encodeInterleaved(f.channel, f.payload)),
  fc.constant(Buffer.from('\r\n')),
)

/** LF-only line ends in the head (the body, after the blank line, is left alone). */
function toLf(buf: Buffer): Buffer {
  const end = buf.indexOf('\r\n\r\n')
  return Buffer.concat([Buffer.from(buf.subarray(0, end + 4).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'), buf.subarray(end + 4)])
}

/** Cut `data` at the given fractions (sorted, deduplicated). */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let from = 0
  for (const p of points) {
    if (p > from) out.push(data.subarray(from, p))
    from = Math.max(from, p)
  }
  out.push(data.subarray(from))
  return out
}

interface Outcome {
  events: Event[]
  garbage: number
  error: string | undefined
}

function run(chunks: Buffer[]): Outcome {
  const r = recorder({ maxBodySize: 4096, maxLineLength: 512, maxHeaderCount: 16, maxGarbage: 2048 })
  let error: string | undefined
  try {
    for (const chunk of chunks) r.reader.push(chunk)
  } catch (err) {
    assert.ok(err instanceof RtspError, `unexpected ${String(err)}`)
    error = `${err.code}: ${err.message}`
  }
  return { events: r.events, garbage: r.state.garbage, error }
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 })

describe(`RtspReader properties (fast-check, ${RUNS} runs each)`, () => {
  it(`emits the same messages however a valid stream is split (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 12 }), cuts, (frames, at) => {
        const data = Buffer.concat(frames)
        const whole = run([data])
        assert.equal(whole.error, undefined)
        assert.equal(whole.garbage, 0)
        assert.equal(whole.events.length, frames.filter((f) => !(f.length === 2 && f[0] === 0x0d)).length)
        const pieces = run(split(data, at))
        assert.deepEqual(pieces, whole)
        const bytewise = at.length === 0 ? run([...data].map((b) => Buffer.from([b]))) : pieces
        assert.deepEqual(bytewise, whole)
      }),
      { numRuns: RUNS },
    )
  })

  it(`splitting never changes the outcome when garbage sits between frames (${RUNS} runs)`, () => {
    const garbage = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 60 }).map((b) => Buffer.from(b)),
      fc.constantFrom('RTSQ', 'AB', 'PLAY x', 'HTTP/1.1 200 OK\r\n', '\x00\x00', 'TEARDOWN rtsp://x RTSP').map((s) => Buffer.from(s, 'latin1')),
    )
    fc.assert(
      fc.property(fc.array(fc.oneof(frame, garbage), { minLength: 1, maxLength: 14 }), cuts, (parts, at) => {
        const data = Buffer.concat(parts)
        const whole = run([data])
        const pieces = run(split(data, at))
        if (whole.error === undefined) {
          assert.deepEqual(pieces, whole)
        } else {
          // Same error, same messages before it (garbage reports may differ: they are flushed per push).
          assert.equal(pieces.error, whole.error)
          assert.deepEqual(pieces.events, whole.events)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it(`random bytes throw nothing but RtspError subclasses (${RUNS * 5} runs)`, () => {
    const noise = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
        fc.constantFrom('RTSP/1.0 ', 'RTSP/', '$', '\r\n', '\n', 'Content-Length: ', '12', '99999999999', 'PLAY rtsp://h/ RTSP/1.0', ' ', ':', 'CSeq: 1').map((s) => Buffer.from(s)),
      ),
      { maxLength: 30 },
    )
    fc.assert(
      fc.property(noise, cuts, (parts, at) => {
        const data = Buffer.concat(parts)
        run(split(data, at)) // run() asserts every error is an RtspError
      }),
      { numRuns: RUNS * 5 },
    )
  })
})
