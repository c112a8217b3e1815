/**
 * When the server cuts a TCP reader as behind (ServerSession.lagMs, checked by the sweep):
 * only while its queue stays backed up. Under stress-ng, readers that were reading were cut
 * because the time they waited for a key frame after draining, and the time the server
 * process itself was descheduled, counted as their lag.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { ServerSession } from '../../../src/server/session.js'
import type { SessionHost } from '../../../src/server/session.js'
import type { Stream } from '../../../src/server/stream.js'

const MAX = 16 * 1024

function reader(queued: { bytes: number }): ServerSession {
  const host = { udp: undefined, multicast: undefined, maxReaderQueueBytes: MAX, sessionEnded: () => {} } as unknown as SessionHost
  const s = new ServerSession(host, 'reader', {} as Stream, '127.0.0.1')
  s.socket = { get writableLength() { return queued.bytes }, destroyed: false } as unknown as Socket
  return s
}

test('a reader whose queue stays over half the limit is behind for as long as it stays so', () => {
  const q = { bytes: MAX + 1 }
  const s = reader(q)
  assert.equal(s.lagMs(1000, 0), 0, 'not lagging yet')
  s.laggingSince = 1000
  assert.equal(s.lagMs(1500, 0), 500)
  q.bytes = MAX / 2 + 1
  assert.equal(s.lagMs(2600, 0), 1600)
})

test('a reader that drained its queue is not behind, even while it waits for a key frame', () => {
  const q = { bytes: MAX + 1 }
  const s = reader(q)
  s.laggingSince = 1000
  q.bytes = MAX / 2
  assert.equal(s.lagMs(5000, 0), 0)
  assert.equal(s.laggingSince, 0)
  q.bytes = MAX + 1
  assert.equal(s.lagMs(6000, 0), 0, 'a new backlog starts a new count, at the next overflow')
})

test('time the server did not run is not the reader\'s', () => {
  const q = { bytes: MAX + 1 }
  const s = reader(q)
  s.laggingSince = 1000
  // The sweep ran 4 s late: 3 s of it are the server's stall.
  assert.equal(s.lagMs(5000, 3000), 1000)
  assert.equal(s.lagMs(5500, 0), 1500)
})
