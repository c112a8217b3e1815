import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DROPPED, Timeline } from '../../../src/output/timeline.js'

describe('Timeline', () => {
  it('starts at the first key frame of the primary video track and shifts every track by its pts', () => {
    const t = new Timeline(['video', 'audio'], 0)
    assert.equal(t.admit(1, 0.5, true), DROPPED) // audio before the start
    assert.equal(t.admit(0, 0.6, false), DROPPED) // picture before the first key frame
    assert.equal(t.admit(0, 1.0, true), 0)
    assert.equal(t.admit(1, 0.98, true), DROPPED) // audio captured before the key frame, arriving after it
    assert.equal(t.admit(1, 1.02, true), 0.020000000000000018)
    assert.equal(t.admit(0, 1.04, false), 0.040000000000000036)
    assert.deepEqual(t.dropped, { beforeStart: 3, backwards: 0, ignored: 0 })
    assert.equal(t.origin, 1.0)
  })

  it('without video starts at the first frame', () => {
    const t = new Timeline(['audio'], -1)
    assert.equal(t.admit(0, 7, true), 0)
    assert.equal(t.admit(0, 7.5, true), 0.5)
  })

  it('drops audio that does not move forward', () => {
    const t = new Timeline(['audio'], -1)
    t.admit(0, 0, true)
    t.admit(0, 1, true)
    assert.equal(t.admit(0, 1, true), DROPPED)
    assert.equal(t.admit(0, 0.9, true), DROPPED)
    assert.equal(t.admit(0, 1.1, true), 1.1)
    assert.equal(t.dropped.backwards, 2)
  })

  it('lets B-frames reorder inside a GOP but drops a key frame that steps back, with its GOP', () => {
    const t = new Timeline(['video'], 0)
    assert.equal(t.admit(0, 0, true), 0)
    assert.equal(t.admit(0, 0.3, false), 0.3) // P
    assert.equal(t.admit(0, 0.1, false), 0.1) // B before it in presentation order
    assert.equal(t.admit(0, 0.2, false), 0.2)
    assert.equal(t.admit(0, 0.25, true), DROPPED) // key frame before the last P: clock stepped back
    assert.equal(t.admit(0, 0.35, false), DROPPED) // references the dropped key frame
    assert.equal(t.admit(0, 0.4, true), 0.4)
    assert.equal(t.admit(0, 0.3, false), DROPPED) // before the previous GOP's end
    assert.equal(t.admit(0, 0.5, false), 0.5)
    assert.equal(t.dropped.backwards, 3)
  })

  it('a second video track waits for its own key frame', () => {
    const t = new Timeline(['video', 'video'], 0)
    assert.equal(t.admit(0, 0, true), 0)
    assert.equal(t.admit(1, 0.1, false), DROPPED)
    assert.equal(t.admit(1, 0.2, true), 0.2)
    assert.equal(t.dropped.beforeStart, 1)
  })

  it('ignores disabled tracks', () => {
    const t = new Timeline(['video', 'off'], 0)
    assert.equal(t.admit(1, 0, true), DROPPED)
    t.admit(0, 0, true)
    t.disable(0)
    assert.equal(t.admit(0, 1, true), DROPPED)
    assert.equal(t.dropped.ignored, 2)
  })

  it('property: output pts are >= 0, start at a primary key frame and never go backwards per track', () => {
    const event = fc.record({
      track: fc.integer({ min: 0, max: 1 }),
      pts: fc.integer({ min: 0, max: 400 }).map((n) => n / 40),
      key: fc.boolean(),
    })
    fc.assert(
      fc.property(fc.array(event, { maxLength: 200 }), (events) => {
        const t = new Timeline(['video', 'audio'], 0)
        let first = true
        let audioLast = -Infinity
        let videoMax = -Infinity
        let videoMaxBeforeKey = -Infinity
        let dropped = 0
        for (const e of events) {
          const out = t.admit(e.track, e.pts, e.key)
          if (out === DROPPED) {
            dropped++
            continue
          }
          assert.ok(out >= 0)
          if (first) {
            assert.equal(out, 0)
            assert.equal(e.track, 0)
            assert.ok(e.key)
            first = false
          }
          if (e.track === 1) {
            assert.ok(out > audioLast)
            audioLast = out
          } else if (e.key) {
            assert.ok(out > videoMax)
            videoMaxBeforeKey = videoMax
            videoMax = out
          } else {
            assert.ok(out > videoMaxBeforeKey)
            videoMax = Math.max(videoMax, out)
          }
        }
        const d = t.dropped
        assert.equal(d.beforeStart + d.backwards + d.ignored, dropped)
      }),
    )
  })
})
