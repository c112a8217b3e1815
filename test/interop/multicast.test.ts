/**
 * Multicast (issue 16, RFC 2326 §12.39): `rtspkit serve --multicast` sends one copy of each
 * stream to a group that any number of readers join, and rtspkit's client joins the group a
 * server answers with. Peers: ffmpeg (`-rtsp_transport udp_multicast`) reading rtspkit's
 * server; rtspkit's client reading rtspkit's server and GStreamer's server with an address
 * pool. All on loopback: the set-up adds the route 224.0.0.0/4 dev lo when it is missing
 * (as root), else the tests skip and say why.
 */
import assert from 'node:assert/strict'
import * as dgram from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { execFileSync } from 'node:child_process'
import { RtspClient } from '../../src/client/client.js'
import { RtspServer } from '../../src/server/index.js'
import { REPO_ROOT, killChild, readUntil, runCli, runProcess, spawnCli } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'
import { ensureLoopbackMulticast, startNamespacedGst, testGroupRange } from '../helpers/multicast.js'
import { RawRtspClient } from '../helpers/raw-rtsp-client.js'

const SAMPLE = join(REPO_ROOT, 'assets/sample.mp4')
const GST_SCRIPT = join(REPO_ROOT, 'test/interop/gst-rtsp-server.py')
const skip = ensureLoopbackMulticast()
let dir: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-multicast-'))
})

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/** rtspkit's server with a group range of this test's own, serving the sample clip at /cam; `log` gathers its log lines. */
async function serveSampleMulticast(t: TestContext): Promise<{ server: RtspServer; url: string; log: string[]; firstAddress: string; port: number }> {
  const { range, firstAddress, port } = testGroupRange()
  const log: string[] = []
  const server = new RtspServer({ port: 0, multicast: { range, port }, log: (l) => log.push(l) })
  t.after(() => server.close())
  await server.listen()
  await server.addFile('cam', SAMPLE)
  return { server, url: server.url('cam'), log, firstAddress, port }
}

/** DESCRIBE, then SETUP every track with `Transport: RTP/AVP;multicast` in one session; the Transport replies. */
async function setupMulticast(c: RawRtspClient, url: string): Promise<{ session: string; transports: string[] }> {
  const d = await c.request('DESCRIBE', url, { CSeq: '1', Accept: 'application/sdp' })
  assert.equal(d.status, 200)
  const controls = [...d.body.toString().matchAll(/^a=control:(trackID=\d+)/gm)].map((m) => m[1]!)
  let session: string | undefined
  const transports: string[] = []
  for (const [i, control] of controls.entries()) {
    const s = await c.request('SETUP', `${url}/${control}`, { CSeq: String(2 + i), Transport: 'RTP/AVP;multicast', ...(session !== undefined ? { Session: session } : {}) })
    assert.equal(s.status, 200, `SETUP ${control}: ${s.status} ${s.reason}`)
    session = s.headers.session!.split(';')[0]!
    transports.push(s.headers.transport!)
  }
  return { session: session!, transports }
}

describe('rtspkit serve --multicast: usage', () => {
  it('a range that is not IPv4 multicast, or --multicast-port alone, exits 2 with one line', { timeout: 30_000 }, async () => {
    for (const [args, message] of [
      [['--multicast', '10.0.0.0/8'], /--multicast: multicast range "10\.0\.0\.0\/8" is not an IPv4 multicast block; give one like 239\.0\.0\.0\/24/],
      [['--multicast-port', '5000'], /--multicast-port goes with --multicast/],
      [['--multicast', '239.0.0.0/24', '--multicast-port', '80'], /--multicast-port must be 1024-65534/],
    ] as const) {
      const r = await runCli(['serve', '--port', '0', ...args, `cam=${SAMPLE}`])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})

describe('rtspkit serve --multicast', { skip }, () => {
  it('SETUP answers the group, its ports and ttl; readers share one group; a listener on the group hears each packet once with three readers', { timeout: 60_000 }, async (t) => {
    const { server, url, log, firstAddress, port } = await serveSampleMulticast(t)

    const readers = await Promise.all([0, 1, 2].map(() => RawRtspClient.connect(server.port)))
    t.after(() => readers.forEach((r) => r.destroy()))
    const first = await setupMulticast(readers[0]!, url)
    // RFC 2326 §12.39: multicast;destination=<group>;port=<rtp>-<rtcp>;ttl=<hops>, chosen by the server.
    const m = /^RTP\/AVP;multicast;destination=([\d.]+);ttl=16;port=(\d+)-(\d+)$/.exec(first.transports[0]!)
    assert.ok(m, first.transports[0])
    assert.equal(m[1], firstAddress)
    assert.equal(Number(m[2]), port)
    assert.equal(Number(m[3]), port + 1)
    const videoPort = Number(m[2])
    for (const r of readers.slice(1)) {
      const other = await setupMulticast(r, url)
      assert.deepEqual(other.transports, first.transports)
    }

    // A reader of our own on the group's RTP port, sharing it with nobody's exclusive hold.
    const listener = dgram.createSocket({ type: 'udp4', reuseAddr: true })
    t.after(() => listener.close())
    await new Promise<void>((resolve) => listener.bind(videoPort, firstAddress, resolve))
    listener.addMembership(firstAddress, '127.0.0.1')
    const seen = new Map<string, number>()
    let keyStarts = 0
    listener.on('message', (p) => {
      const key = `${p.readUInt32BE(8)}:${p.readUInt16BE(2)}`
      seen.set(key, (seen.get(key) ?? 0) + 1)
      // RFC 6184: an IDR or SPS NAL, a STAP-A (the server sends parameter sets in one), or an IDR's first FU-A.
      const nal = p[12]! & 0x1f
      if (nal === 5 || nal === 7 || nal === 24 || (nal === 28 && (p[13]! & 0x9f) === 0x85)) keyStarts++
    })
    let cseq = 10
    for (const r of readers) {
      const res = await r.request('PLAY', url, { CSeq: String(cseq++), Session: sessionId(r) })
      assert.equal(res.status, 200)
    }
    // Enough packets for a key frame and what follows (the group starts at a key frame).
    await waitFor(() => seen.size > 200 && keyStarts > 0, () => `${seen.size} packets, ${keyStarts} key frame starts`)
    const duplicated = [...seen.values()].filter((n) => n > 1).length
    assert.equal(duplicated, 0, 'each packet is sent to the group once, whatever the number of readers')
    assert.equal(log.filter((l) => /multicast group \d/.test(l)).length, 1, log.join('\n'))
    assert.equal(log.filter((l) => /reads \/cam .* over MULTICAST/.test(l)).length, 3, log.join('\n'))
  })

  it('two ffmpeg readers (-rtsp_transport udp_multicast) of `rtspkit serve --multicast` record the same group; both decode clean', { timeout: 90_000 }, async (t) => {
    const { range, port } = testGroupRange()
    const child = spawnCli(['serve', '--port', '0', '--multicast', range, '--multicast-port', String(port), `cam=${SAMPLE}`])
    t.after(() => killChild(child))
    const [, base] = await readUntil(child.stdout!, /listening on (rtsp:\/\/\S+)/, 20_000)
    const url = `${base!.replace(/\/$/, '')}/cam`
    const stderr: string[] = []
    child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()))
    // 7 s: past the first periodic sender report (5 s), which the server hears looped back on the group.
    const record = (name: string) => runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'udp_multicast', '-i', url, '-t', '7', '-c', 'copy', '-y', join(dir, name)], { timeoutMs: 60_000 })
    const [a, b] = await Promise.all([record('a.mkv'), record('b.mkv')])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(b.code, 0, b.stderr)
    for (const name of ['a.mkv', 'b.mkv']) {
      const file = join(dir, name)
      assert.equal(await decodeErrors(file), '', name)
      const probe = await ffprobeFile(file)
      assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264', name)
      assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac', name)
      assert.ok(Number(probe.format.duration) > 5, `${name}: ${probe.format.duration} s`)
    }
    const text = stderr.join('')
    assert.equal(text.match(/reads \/cam .* over MULTICAST/g)?.length, 2, text)
    assert.equal(text.match(/multicast group \d/g)?.length ?? 0, 1, text)
  })
})

describe("rtspkit's client, transport 'multicast'", { skip }, () => {
  it('two pulls share the group of rtspkit serve; `rtspkit pull --transport multicast` records a file that decodes; TEARDOWN leaves the group', { timeout: 90_000 }, async (t) => {
    const { url, log, firstAddress, port } = await serveSampleMulticast(t)

    const sessions = await Promise.all([0, 1].map(() => new RtspClient({ transport: 'multicast' }).pull(url)))
    t.after(() => Promise.all(sessions.map((s) => s.close())))
    for (const s of sessions) {
      assert.equal(s.transport?.protocol, 'multicast')
      assert.deepEqual(
        s.tracks.map((tr) => [tr.transport.protocol, tr.transport.destination, tr.transport.clientPort?.[0]]),
        [
          ['multicast', firstAddress, port],
          ['multicast', firstAddress, port + 2],
        ],
      )
    }
    const counts = await Promise.all(
      sessions.map(async (s) => {
        let video = 0
        let audio = 0
        for await (const f of s.frames()) {
          if (f.track.type === 'video') video++
          else audio++
          if (video >= 30) break
        }
        return { video, audio }
      }),
    )
    for (const c of counts) assert.ok(c.video === 30 && c.audio > 0, JSON.stringify(counts))

    // The CLI, with the two sessions still reading the same group.
    const out = join(dir, 'pull.mp4')
    const pull = await runProcess(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'pull', url, '--transport', 'multicast', '-o', out, '-t', '4', '-q'], { timeoutMs: 60_000 })
    assert.equal(pull.code, 0, pull.stderr)
    assert.equal(await decodeErrors(out), '')
    const probe = await ffprobeFile(out)
    assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    assert.ok(Number(probe.format.duration) > 3, `${probe.format.duration} s`)

    // TEARDOWN: the readers close their group sockets, and the group closes with its last reader.
    await Promise.all(sessions.map((s) => s.close()))
    await waitFor(() => groupSockets(firstAddress) === '', () => groupSockets(firstAddress))
    assert.equal(log.filter((l) => /ended \(teardown\)/.test(l)).length, 3, log.join('\n'))
  })

  it("'auto' never picks multicast, even from a server that offers it", { timeout: 30_000 }, async (t) => {
    const { url, log } = await serveSampleMulticast(t)
    const session = await new RtspClient().pull(url)
    t.after(() => session.close())
    assert.notEqual(session.transport?.protocol, 'multicast')
    for (const tr of session.tracks) assert.notEqual(tr.transport.protocol, 'multicast')
    assert.ok(!log.some((l) => /over MULTICAST|multicast group \d/.test(l)), log.join('\n'))
  })

  it("GStreamer's server with an address pool: the client joins the group it answers on the interface that reaches it; the recording decodes", { timeout: 120_000 }, async (t) => {
    const gst = await startNamespacedGst(GST_SCRIPT, `239.255.${10 + (process.pid % 200)}.1-239.255.${10 + (process.pid % 200)}.8:45000-45099`)
    if (typeof gst === 'string') {
      t.skip(gst)
      return
    }
    t.after(() => gst.stop())
    const url = `${gst.base}/h264aac`
    const session = await new RtspClient({ transport: 'multicast' }).pull(url)
    t.after(() => session.close())
    assert.equal(session.transport?.protocol, 'multicast')
    for (const tr of session.tracks) assert.match(tr.transport.destination ?? '', /^239\.255\./)
    let video = 0
    for await (const f of session.frames()) if (f.track.type === 'video' && ++video >= 30) break
    assert.equal(video, 30)
    await session.close()

    const out = join(dir, 'gst.mp4')
    const pull = await runProcess(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), 'pull', url, '--transport', 'multicast', '-o', out, '-t', '4', '-q'], { timeoutMs: 60_000 })
    assert.equal(pull.code, 0, `${pull.stderr}\n${gst.stderr()}`)
    assert.equal(await decodeErrors(out), '')
    const probe = await ffprobeFile(out)
    assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
    assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
    assert.ok(Number(probe.format.duration) > 3, `${probe.format.duration} s`)
  })
})

/** Sockets of this host bound to `group` (ss), '' when none. */
function groupSockets(group: string): string {
  return execFileSync('ss', ['-uan'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(group))
    .join('\n')
}

/** The Session id a raw reader was given by its last SETUP. */
function sessionId(r: RawRtspClient): string {
  const last = [...r.replies].reverse().find((x) => x.headers.session !== undefined)
  return last!.headers.session!.split(';')[0]!
}

async function waitFor(ok: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
