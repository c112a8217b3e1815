/**
 * Fan-out (issue #5): one API publisher paced in real time from assets/sample.mp4, 50
 * rtspkit readers on the same path (TCP and UDP) joining while it plays, and one reader
 * that stops reading. Every reader gets every access unit from its first key frame on, with
 * the publisher's timestamps; the stalled reader skips and is cut without holding up the rest.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { test } from 'node:test'
import { killChild, REPO_ROOT } from '../helpers/cli.js'
import { RtspClient, RtspServer, openFileSource, paceFrames } from '../../src/index.js'
import type { Frame, PullSession, ServerSessionInfo } from '../../src/index.js'

const SAMPLE = path.join(REPO_ROOT, 'assets/sample.mp4')
const READERS = 50
const UDP_READERS = 10
/** Published media after the stalled reader is cut, so the others are seen to go on. */
const AFTER_CUT_S = 3

/** Identity of an access unit: its bytes without parameter sets (the server repeats SPS/PPS before key frames). */
function fingerprint(video: boolean, data: readonly Buffer[]): string {
  const h = createHash('sha1')
  for (const nal of data) {
    if (video && nal.length > 0 && [7, 8, 9].includes(nal[0]! & 0x1f)) continue // SPS, PPS, AUD
    h.update(nal)
  }
  return h.digest('hex')
}

interface Published {
  seq: number
  track: number
  pts: number
  keyFrame: boolean
  fp: string
  writtenAt: number
}

interface Received {
  timestamp: number
  pts: number
  keyFrame: boolean
  fp: string
  arrivedAt: number
}

interface Reader {
  n: number
  transport: 'tcp' | 'udp'
  joinStartedAt: number
  playingAt: number
  session: PullSession
  got: [Received[], Received[]]
}

/**
 * A raw RTSP client (Python, so it can shrink its socket buffers) that SETs UP both tracks
 * over interleaved TCP, sends PLAY and never reads again. Its small receive buffer and
 * MSS keep the server's kernel from absorbing megabytes on loopback, so the server's own
 * queue for it fills within seconds at the sample's bitrate.
 */
const STALLED_READER = `
import re, socket, sys
port, url = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
s.connect(('127.0.0.1', port))
buf = b''
def request(lines):
    global buf
    s.sendall(('\\r\\n'.join(lines) + '\\r\\n\\r\\n').encode())
    while b'\\r\\n\\r\\n' not in buf:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit('connection closed')
        buf += chunk
    head, _, buf = buf.partition(b'\\r\\n\\r\\n')
    return head.decode('latin1')
reply = request(['SETUP %s/trackID=0 RTSP/1.0' % url, 'CSeq: 1', 'Transport: RTP/AVP/TCP;unicast;interleaved=0-1'])
session = re.search(r'Session: *([^;\\r\\n]+)', reply).group(1)
request(['SETUP %s/trackID=1 RTSP/1.0' % url, 'CSeq: 2', 'Session: ' + session, 'Transport: RTP/AVP/TCP;unicast;interleaved=2-3'])
s.sendall(('PLAY %s RTSP/1.0\\r\\nCSeq: 3\\r\\nSession: %s\\r\\n\\r\\n' % (url, session)).encode())
print(session, flush=True)
sys.stdin.read()
`

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

test('one publisher, 50 readers (TCP and UDP) and a stalled reader', { timeout: 180_000 }, async (t) => {
  const log: string[] = []
  const server = new RtspServer({
    host: '127.0.0.1',
    port: 0,
    // Low bounds so the stalled reader is skipped and cut within seconds at ~200 kbit/s.
    maxReaderQueueBytes: 16 * 1024,
    lagCutMs: 1500,
    log: (l) => log.push(l),
  })
  t.after(() => server.close())
  const source = await openFileSource(SAMPLE)
  t.after(() => source.close())
  const publisher = server.publish('fan', source.tracks)
  await server.listen()
  const url = server.url('fan')
  const clockRates = publisher.tracks.map((tr) => tr.clockRate)
  assert.deepEqual(publisher.tracks.map((tr) => tr.type), ['video', 'audio'])

  // The publisher: the clip looped in real time; every unit written is remembered.
  const published: [Published[], Published[]] = [[], []]
  let seq = 0
  let stopPublishing = false
  const abort = new AbortController()
  t.after(() => abort.abort())
  const publishing = (async () => {
    for await (const f of paceFrames(source, { loop: true, realtime: true, signal: abort.signal })) {
      if (stopPublishing) break
      const track = f.trackIndex as 0 | 1
      published[track].push({ seq: seq++, track, pts: f.pts, keyFrame: f.keyFrame, fp: fingerprint(track === 0, f.data), writtenAt: performance.now() })
      publisher.write(track, f)
      if (f.pts > 90) throw new Error('the stalled reader was not cut within 90 s')
    }
  })()

  // 50 readers join in waves while the stream plays, so they start at different key frames.
  const readers: Reader[] = []
  const joining: Array<Promise<void>> = []
  for (let n = 0; n < READERS; n++) {
    if (n % 10 === 0) await sleep(300)
    const transport = n % (READERS / UDP_READERS) === 0 ? 'udp' : 'tcp'
    joining.push((async () => {
      const joinStartedAt = performance.now()
      const session = await new RtspClient({ transport, timeoutMs: 20_000, readTimeoutMs: 60_000 }).pull(url)
      const r: Reader = { n, transport, joinStartedAt, playingAt: performance.now(), session, got: [[], []] }
      session.on('frame', (f: Frame) => {
        const video = f.track.type === 'video'
        r.got[video ? 0 : 1].push({ timestamp: f.timestamp, pts: f.pts, keyFrame: f.keyFrame, fp: fingerprint(video, f.data), arrivedAt: performance.now() })
      })
      readers.push(r)
    })())
  }
  t.after(async () => {
    await Promise.allSettled(readers.map((r) => r.session.close()))
  })
  await Promise.all(joining)
  assert.equal(readers.length, READERS)

  // The stalled reader joins last; the server skips it and then cuts it.
  let stalledId = ''
  const cut = new Promise<{ info: ServerSessionInfo; reason: string }>((resolve) => {
    server.on('session-end', (info, reason) => {
      if (info.id === stalledId) resolve({ info, reason })
    })
  })
  const stalled = spawn('/usr/bin/python3', ['-c', STALLED_READER, String(server.port), url], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.after(() => killChild(stalled))
  stalledId = await new Promise<string>((resolve, reject) => {
    let out = ''
    stalled.stdout!.on('data', (b: Buffer) => {
      out += b.toString()
      if (out.includes('\n')) resolve(out.trim())
    })
    stalled.on('exit', (code) => reject(new Error(`stalled reader exited with ${code}`)))
  })
  const stalledAt = performance.now()
  const { reason } = await Promise.race([cut, publishing.then(() => Promise.reject(new Error('publishing stopped')))])
  const cutAfterS = (performance.now() - stalledAt) / 1000
  assert.match(reason, /fell behind/)
  const line = log.find((l) => l.includes(`session ${stalledId} ended`))
  assert.ok(line !== undefined, log.join('\n'))
  const skipped = Number(/(\d+) skipped/.exec(line)?.[1])
  assert.ok(skipped > 0, line)

  // Some more media after the cut, then the publisher stops.
  const ptsAtCut = published[0].at(-1)!.pts
  await waitFor(() => published[0].at(-1)!.pts > ptsAtCut + AFTER_CUT_S, 'media after the cut')
  stopPublishing = true
  await publishing

  // Every reader: from its first key frame on, every unit in order with the publisher's timestamps.
  const firstKeyAfter = (time: number): Published | undefined => published[0].find((p) => p.keyFrame && p.writtenAt >= time)
  const expected = readers.map((r) => {
    const v0 = r.got[0][0]
    assert.ok(v0 !== undefined, `reader ${r.n} (${r.transport}) got no video`)
    assert.ok(v0.keyFrame, `reader ${r.n} starts at a key frame`)
    const j = published[0].findIndex((p) => p.keyFrame && p.fp === v0.fp && p.writtenAt >= r.joinStartedAt)
    assert.ok(j >= 0, `reader ${r.n}: its first frame is a key frame published after it joined`)
    const next = firstKeyAfter(r.playingAt)
    assert.ok(next === undefined || published[0][j]!.seq <= next.seq, `reader ${r.n} starts at the first key frame after PLAY`)
    // Audio starts with the video key frame: the first audio unit written after it.
    const k = published[1].findIndex((p) => p.seq > published[0][j]!.seq)
    return { j, k }
  })
  await waitFor(
    () => readers.every((r, i) => r.got[0].length >= published[0].length - expected[i]!.j && r.got[1].length >= published[1].length - expected[i]!.k),
    'every reader to receive every unit',
    30_000,
  ).catch((err: Error) => {
    const short = readers.map((r, i) => `${r.n}/${r.transport}: ${r.got[0].length}/${published[0].length - expected[i]!.j} video, ${r.got[1].length}/${published[1].length - expected[i]!.k} audio`)
    throw new Error(`${err.message}\n${short.join('\n')}`)
  })

  let maxLagMs = 0
  for (const [i, r] of readers.entries()) {
    const { j, k } = expected[i]!
    for (const track of [0, 1] as const) {
      const mine = published[track].slice(track === 0 ? j : k)
      const theirs = r.got[track]
      const what = `reader ${r.n} (${r.transport}) ${track === 0 ? 'video' : 'audio'}`
      assert.equal(theirs.length, mine.length, `${what}: count`)
      const rtp = (p: Published) => Math.round(p.pts * clockRates[track]!)
      for (let u = 0; u < mine.length; u++) {
        assert.equal(theirs[u]!.fp, mine[u]!.fp, `${what} unit ${u}: bytes`)
        assert.equal(theirs[u]!.timestamp - theirs[0]!.timestamp, rtp(mine[u]!) - rtp(mine[0]!), `${what} unit ${u}: timestamp`)
        if (track === 0) assert.equal(theirs[u]!.keyFrame, mine[u]!.keyFrame, `${what} unit ${u}: key frame`)
        maxLagMs = Math.max(maxLagMs, theirs[u]!.arrivedAt - mine[u]!.writtenAt)
      }
    }
    // Both tracks on one timeline (RTP-Info): the audio starts where the publisher put it.
    const offset = r.got[1][0]!.pts - r.got[0][0]!.pts
    const want = published[1][k]!.pts - published[0][j]!.pts
    assert.ok(Math.abs(offset - want) < 0.005, `reader ${r.n}: audio starts ${offset.toFixed(4)} s after video, want ${want.toFixed(4)} s`)
  }
  const units = readers.reduce((n, r) => n + r.got[0].length + r.got[1].length, 0)
  t.diagnostic(`stalled reader cut ${cutAfterS.toFixed(1)} s after PLAY, ${skipped} batches skipped; ${units} units delivered; slowest unit ${maxLagMs.toFixed(0)} ms`)
  // Generous: a reader held up by the stalled one would lag by seconds (lagCutMs and more).
  assert.ok(maxLagMs < 5000, `a unit took ${maxLagMs.toFixed(0)} ms to arrive`)

  publisher.close()
  await Promise.all(readers.map((r) => r.session.close()))
  assert.equal(server.paths().length, 0)
})
