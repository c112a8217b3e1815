/**
 * Issue 11: PullSupervisor reports stats() (state, attempts, last error, time connected,
 * frames), an `outage` event for every outage with its duration, and disposes with
 * `await using`. The scripted camera stops its media after 10 frames on the first
 * connection only: the supervisor sees a read timeout (1 s), reconnects and goes on.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startFakeCamera } from '../helpers/fake-camera.js'
import { AbortError, RtspClient, TimeoutError } from '../../src/index.js'
import type { OutageEvent } from '../../src/index.js'

describe('PullSupervisor: stats, outages, disposal', () => {
  test('one outage: an outage event with its duration, stats that add up', async (t) => {
    let plays = 0
    const camera = await startFakeCamera({
      intercept: (req) => {
        if (req.method === 'PLAY') plays++
        return false
      },
      mediaFilter: (n) => plays > 1 || n < 10,
    })
    t.after(() => camera.stop())
    const sup = await new RtspClient({ transport: 'tcp', readTimeoutMs: 1000 }).supervise(camera.url(), { reconnect: { initialDelayMs: 50, maxDelayMs: 100 } })
    const outages: OutageEvent[] = []
    sup.on('outage', (o) => outages.push(o))
    assert.equal(sup.stats().state, 'playing')
    assert.equal(sup.stats().attempts, 1)
    let frames = 0
    for await (const _ of sup.frames()) {
      if (++frames >= 40) break
    }
    // Leaving the loop closed the supervisor.
    const s = sup.stats()
    assert.equal(s.state, 'closed')
    assert.equal(outages.length, 1)
    const o = outages[0]!
    assert.ok(o.error instanceof TimeoutError, String(o.error))
    assert.equal(o.recovered, true)
    assert.equal(o.durationMs, o.end - o.start)
    assert.ok(o.durationMs >= 0 && o.durationMs < 5000, `outage ${o.durationMs} ms`)
    assert.equal(s.reconnects, 1)
    assert.ok(s.attempts >= 2, `attempts ${s.attempts}`)
    assert.equal(s.outages, 1)
    assert.ok(s.lastError instanceof TimeoutError)
    assert.equal(s.frames, frames)
    assert.equal(s.connectedSince, undefined)
    assert.ok(s.connectedMs > 1000 && s.connectedMs < 15_000, `connected ${s.connectedMs} ms`)
  })

  test('await using: disposal closes the supervisor and its session (TEARDOWN)', async (t) => {
    const camera = await startFakeCamera({})
    t.after(() => camera.stop())
    let supState = ''
    {
      await using sup = await new RtspClient({ transport: 'tcp' }).supervise(camera.url())
      supState = sup.state
      t.after(() => assert.equal(sup.state, 'closed'))
    }
    assert.equal(supState, 'playing')
    assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
  })

  test('the signal: frames() ends with AbortError(cause: reason)', async (t) => {
    const camera = await startFakeCamera({})
    t.after(() => camera.stop())
    const ac = new AbortController()
    const sup = await new RtspClient({ transport: 'tcp' }).supervise(camera.url(), { signal: ac.signal })
    let n = 0
    await assert.rejects(async () => {
      for await (const _ of sup.frames()) if (++n === 3) ac.abort('enough')
    }, (e: unknown) => e instanceof AbortError && e.cause === 'enough')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(sup.state, 'closed')
    assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
  })
})
