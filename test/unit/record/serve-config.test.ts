import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseServeConfig, ConfigError } from '../../../src/config/serve-config.js'

const GOOD = `server:
  port: 0
users:
  - user: admin
    password: secret
paths:
  cam1:
    source: rtsp://u:p@127.0.0.1:554/stream1
    record:
      path: rec/cam1/%Y-%m-%d_%H-%M-%S.mp4
      segment: 10m
      keep: 7d
      maxSize: 50GB
    users:
      - user: viewer
        password: 1234
        actions: [read]
  lobby:
    source: clips/lobby.mp4
  live:
`

test('a complete config: sources, recording, users', () => {
  const c = parseServeConfig(GOOD, 'rtspkit.yml')
  assert.equal(c.port, 0)
  assert.deepEqual(c.users, [{ user: 'admin', password: 'secret', actions: ['read', 'publish'] }])
  const cam = c.paths.get('cam1')!
  assert.deepEqual(cam.source, { kind: 'rtsp', url: 'rtsp://u:p@127.0.0.1:554/stream1' })
  assert.deepEqual(cam.record, { path: 'rec/cam1/%Y-%m-%d_%H-%M-%S.mp4', segment: 600, keep: 604800, maxSize: 50e9 })
  assert.deepEqual(cam.users, [{ user: 'viewer', password: '1234', actions: ['read'] }])
  assert.deepEqual(c.paths.get('lobby')!.source, { kind: 'file', file: 'clips/lobby.mp4' })
  assert.equal(c.paths.get('live')!.source, undefined)
})

test('sourceOnDemand: an rtsp:// source pulled while watched, closed sourceOnDemandCloseAfter after the last viewer', () => {
  const c = parseServeConfig('paths:\n  door:\n    source: rtsp://127.0.0.1/door\n    sourceOnDemand: true\n    sourceOnDemandCloseAfter: 30s\n  gate:\n    source: rtsp://127.0.0.1/gate\n    sourceOnDemand: true\n', 'c.yml')
  assert.deepEqual(c.paths.get('door')!.onDemand, { closeAfterS: 30 })
  assert.deepEqual(c.paths.get('gate')!.onDemand, { closeAfterS: 10 })
})

test('JSON is read by the same parser', () => {
  const c = parseServeConfig(JSON.stringify({ paths: { cam: { source: 'a.mp4', record: { path: 'r/%s.ts', segment: 30 } } } }, null, 2), 'c.json')
  assert.equal(c.paths.get('cam')!.record!.segment, 30)
})

test('mistakes name the file, the line and the key; passwords stay out of messages', () => {
  const cases: Array<[string, number, RegExp]> = [
    [GOOD.replace('segment: 10m', 'segment: 10 minutes'), 11, /paths\.cam1\.record\.segment: segment must be a positive duration/],
    [GOOD.replace('keep: 7d', 'kep: 7d'), 12, /unknown key "kep"/],
    [GOOD.replace('%Y-%m-%d', '%Y-%q'), 10, /"%q" .* is not a known conversion/],
    [GOOD.replace('actions: [read]', 'actions: [watch]'), 17, /actions must be a list of read and\/or publish/],
    [GOOD.replace('source: rtsp://u:p@127.0.0.1:554/stream1', 'source: http://u:p@cam/x'), 8, /only files and rtsp:\/\//],
    [GOOD.replace('  lobby:\n', '  lobby:\n    sourceOnDemand: yes\n'), 19, /sourceOnDemand must be true or false/],
    [GOOD.replace('    source: clips/lobby.mp4\n', '    source: [x\n'), 20, /not valid YAML\/JSON/],
    [GOOD.replace('  lobby:\n', '  lobby:\n    sourceOnDemand: true\n'), 19, /sourceOnDemand applies to rtsp:\/\/ sources only/],
    [GOOD.replace('    record:\n', '    sourceOnDemand: true\n    record:\n'), 9, /a recorded path is pulled always/],
    [GOOD.replace('  lobby:\n', '  lobby:\n    sourceOnDemandCloseAfter: 5\n'), 19, /needs sourceOnDemand: true/],
    ['paths:\n  cam:\n    record:\n      segment: 1m\n', 3, /record needs path/],
  ]
  for (const [text, line, message] of cases) {
    assert.throws(
      () => parseServeConfig(text, 'rtspkit.yml'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err))
        assert.equal(err.code, 'RTSP_ERR_INVALID_ARGUMENT')
        assert.match(err.message, message)
        assert.ok(err.message.startsWith(`rtspkit.yml:${err.line}: `), err.message)
        assert.equal(err.line, line, err.message)
        assert.doesNotMatch(err.message, /u:p@/)
        return true
      },
    )
  }
  assert.throws(() => parseServeConfig('', 'x.yml'), /x\.yml: the file is empty/)
})
