/**
 * Issue 16: Scale and Speed on a PLAY after the first (RFC 2326 §12.34, §12.35) against the
 * scripted camera: the reply's rates are exposed, a refusal (456 Header Field Not Valid for
 * Resource, §11.3.14; 457 Invalid Range) is an UnsupportedError that says which header was
 * refused, and the session plays on. (GStreamer's answers: test/interop/pull-scale.test.ts.)
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startFakeCamera } from '../../helpers/fake-camera.js'
import { RtspClient, UnsupportedError } from '../../../src/index.js'

describe('PullSession.play({ scale, speed }) against a scripted camera', () => {
  test('the reply rates are exposed; 456 and 457 are typed refusals; the session plays on', async (t) => {
    const camera = await startFakeCamera({
      intercept: (req, ctx) => {
        if (req.method !== 'PLAY' || (req.headers['scale'] === undefined && req.headers['speed'] === undefined)) return false
        if (req.headers['scale'] === '-1') ctx.reply(456, { Session: '12345678' })
        else if (req.headers['speed'] === '8') ctx.reply(457, { Session: '12345678' })
        else ctx.reply(200, { Session: '12345678', Scale: req.headers['scale'] ?? '1', Speed: ' 1.5 ' })
        return true
      },
    })
    t.after(() => camera.stop())
    const session = await new RtspClient({ transport: 'tcp' }).pull(camera.url())
    t.after(() => session.close())
    assert.equal(session.scale, undefined)
    await session.play({ scale: 0.5, speed: 1.5 })
    assert.equal(session.scale, 0.5)
    assert.equal(session.speed, 1.5)
    const plays = camera.requests.filter((r) => r.method === 'PLAY')
    assert.equal(plays.at(-1)!.headers['scale'], '0.5')
    assert.equal(plays.at(-1)!.headers['speed'], '1.5')
    await assert.rejects(session.play({ scale: -1 }), (e: unknown) => e instanceof UnsupportedError && /refused Scale: -1 \(456\)/.test(e.message))
    await assert.rejects(session.play({ speed: 8 }), (e: unknown) => e instanceof UnsupportedError && /refused Speed: 8 \(457\)/.test(e.message))
    assert.equal(session.state, 'playing')
    assert.equal(session.scale, 0.5, 'a refusal leaves the rates as they were')
  })
})
