/** PLAY's Range from the client's options (RFC 2326 §12.29; issue #16). */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { playRangeHeader } from '../../../src/client/pull-session.js'
import { InvalidArgumentError } from '../../../src/errors.js'

test('playRangeHeader: seconds as npt=, Dates as clock=', () => {
  assert.equal(playRangeHeader({ start: 90 }), 'npt=90.000-')
  assert.equal(playRangeHeader({ start: 1.5, end: 10 }), 'npt=1.500-10.000')
  assert.equal(playRangeHeader({ end: 10 }), 'npt=0.000-10.000')
  assert.equal(playRangeHeader({ start: new Date('2026-12-01T10:00:00Z') }), 'clock=20261201T100000Z-')
  assert.equal(playRangeHeader({ start: new Date('2026-12-01T10:00:00.250Z'), end: new Date('2026-12-01T10:05:00Z') }), 'clock=20261201T100000.250Z-20261201T100500Z')
  assert.throws(() => playRangeHeader({ start: 5, end: new Date() }), InvalidArgumentError)
  assert.throws(() => playRangeHeader({ end: new Date() }), InvalidArgumentError)
})
