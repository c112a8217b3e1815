/**
 * Issue 11, API contract: the `signal` covers the whole session, and leaving a `for await`
 * over frames closes it. Against the scripted camera: TEARDOWN is sent, every socket and
 * timer is released, and iteration ends (an AbortError whose cause is signal.reason).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import { startFakeCamera } from '../helpers/fake-camera.js'
import type { CameraScenario, FakeCamera } from '../helpers/fake-camera.js'
import { AbortError, RtspClient } from '../../src/index.js'
import type { PullSession } from '../../src/index.js'

/** Sockets and timers of this process (UDP, TCP, timers). */
const handles = () => process.getActiveResourcesInfo().filter((t) => /UDP|TCP|Timeout/.test(t)).length
const handleList = () => process.getActiveResourcesInfo().filter((t) => /UDP|TCP|Timeout/.test(t)).join(',')

/** The scripted camera, stopped by the test (to count what the client left) or at its end. */
async function startCamera(t: TestContext, scenario: CameraScenario): Promise<{ requests: FakeCamera['requests']; url: FakeCamera['url']; stop(): Promise<void> }> {
  const camera = await startFakeCamera(scenario)
  let stopped: Promise<void> | undefined
  const stop = () => (stopped ??= camera.stop())
  t.after(stop)
  return { requests: camera.requests, url: (p) => camera.url(p), stop }
}

async function settle(before: number): Promise<void> {
  for (let i = 0; i < 50 && handles() > before; i++) await new Promise((r) => setTimeout(r, 20))
}

describe('the signal covers the whole session', () => {
  for (const transport of ['tcp', 'udp'] as const) {
    test(`aborting after PLAY ends for await with AbortError(cause: reason), TEARDOWN, nothing left (${transport})`, async (t) => {
      const before = handles()
      const camera = await startCamera(t, {})
      const ac = new AbortController()
      const session = await new RtspClient({ transport }).pull(camera.url(), { signal: ac.signal })
      const reason = new Error('user went away')
      let n = 0
      const err = await (async () => {
        try {
          for await (const _ of session.frames()) if (++n === 3) ac.abort(reason)
        } catch (e) {
          return e
        }
        return undefined
      })()
      assert.ok(err instanceof AbortError, `ended with ${String(err)}`)
      assert.equal(err.code, 'RTSP_ERR_ABORTED')
      assert.equal(err.cause, reason)
      assert.ok(n >= 3)
      assert.ok((await session.closed) instanceof AbortError)
      assert.equal(session.state, 'closed')
      await waitFor(() => camera.requests.some((r) => r.method === 'TEARDOWN'))
      await camera.stop()
      await settle(before)
      assert.ok(handles() <= before, `${handleList()} now, ${before} before`)
    })
  }

  test('a signal aborted while the consumer waits wakes it at once', async (t) => {
    // 1 fps: the consumer is parked in next() when the abort comes.
    const camera = await startCamera(t, { fps: 1 })
    const ac = new AbortController()
    const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url(), { signal: ac.signal })
    setTimeout(() => ac.abort('stop'), 50)
    const t0 = performance.now()
    await assert.rejects(async () => {
      for await (const _ of session.frames()) {
        // keep waiting
      }
    }, (e: unknown) => e instanceof AbortError && e.cause === 'stop')
    assert.ok(performance.now() - t0 < 900, 'woken before the next frame')
  })
})

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) assert.fail('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe('leaving iteration closes the session', () => {
  const exits: Array<[string, (s: PullSession) => Promise<void>]> = [
    ['break', async (s) => {
      for await (const _ of s.frames()) break
    }],
    ['return', async (s) => {
      await (async () => {
        for await (const _ of s.frames()) return
      })()
    }],
    ['throw', async (s) => {
      await assert.rejects(async () => {
        for await (const _ of s.frames()) throw new Error('consumer failed')
      }, /consumer failed/)
    }],
  ]
  for (const [how, leave] of exits) {
    for (const transport of ['tcp', 'udp'] as const) {
      test(`${how} (${transport}): TEARDOWN sent, sockets and timers released`, async (t) => {
        const before = handles()
        const camera = await startCamera(t, {})
        const session = await new RtspClient({ transport }).pull(camera.url())
        await leave(session)
        // The loop's exit waits for the close: the session is closed when it returns.
        assert.equal(session.state, 'closed')
        assert.equal(await session.closed, undefined)
        assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
        await camera.stop()
        await settle(before)
        assert.ok(handles() <= before, `${handleList()} now, ${before} before`)
      })
    }
  }

  for (const transport of ['tcp', 'udp'] as const) {
    test(`packets() (${transport}): copies in sequence; break closes the session`, async (t) => {
      const before = handles()
      const camera = await startCamera(t, {})
      const session = await new RtspClient({ transport }).pull(camera.url())
      const seqs: number[] = []
      for await (const { track, packet } of session.packets()) {
        assert.equal(track, session.tracks[0])
        assert.ok(packet.payload.length > 0)
        seqs.push(packet.sequenceNumber)
        if (seqs.length === 50) break
      }
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1]! + 1) & 0xffff)
      assert.equal(session.state, 'closed')
      assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
      await camera.stop()
      await settle(before)
      assert.ok(handles() <= before, `${handleList()} now, ${before} before`)
    })
  }

  test('packets(): the signal ends it with AbortError(cause: reason)', async (t) => {
    const camera = await startCamera(t, {})
    const ac = new AbortController()
    const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url(), { signal: ac.signal })
    let n = 0
    await assert.rejects(async () => {
      for await (const _ of session.packets()) if (++n === 5) ac.abort('done')
    }, (e: unknown) => e instanceof AbortError && e.cause === 'done')
    assert.ok((await session.closed) instanceof AbortError)
  })

  test('supervisor frames: break closes the supervisor and its session', async (t) => {
    const before = handles()
    const camera = await startCamera(t, {})
    const sup = await new RtspClient({ transport: 'tcp' }).supervise(camera.url())
    const session = sup.session!
    for await (const _ of sup.frames()) break
    assert.equal(sup.state, 'closed')
    assert.equal(session.state, 'closed')
    assert.ok(camera.requests.some((r) => r.method === 'TEARDOWN'))
    await camera.stop()
    await settle(before)
    assert.ok(handles() <= before, `${handleList()} now, ${before} before`)
  })
})
