import assert from 'node:assert/strict'
import { test } from 'node:test'
import { onvifRequestHeaders } from '../../../src/client/onvif.js'

test('ONVIF request headers: none by default', () => {
  assert.deepEqual(onvifRequestHeaders({}), { describe: {}, setup: {}, play: {} })
  assert.deepEqual(onvifRequestHeaders({ backchannel: false, onvifReplay: false }), { describe: {}, setup: {}, play: {} })
})

test('ONVIF request headers: back-channel and replay tags in one Require; Rate-Control and Immediate on PLAY only', () => {
  const bc = 'www.onvif.org/ver20/backchannel'
  assert.deepEqual(onvifRequestHeaders({ backchannel: true }), { describe: { Require: bc }, setup: { Require: bc }, play: { Require: bc } })
  assert.deepEqual(onvifRequestHeaders({ onvifReplay: true }).play, { Require: 'onvif-replay' })
  const both = onvifRequestHeaders({ backchannel: true, onvifReplay: { rateControl: false, immediate: true } })
  assert.deepEqual(both.describe, { Require: `${bc}, onvif-replay` })
  assert.deepEqual(both.play, { Require: `${bc}, onvif-replay`, 'Rate-Control': 'no', Immediate: 'yes' })
  assert.deepEqual(onvifRequestHeaders({ onvifReplay: { rateControl: true } }).play, { Require: 'onvif-replay' })
})
