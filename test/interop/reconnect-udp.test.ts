// Reconnect across a UDP outage: media over UDP stops arriving (a firewall starts dropping
// it) while the RTSP connection stays up and keep-alives are answered. The session must end
// on the media read timeout, the supervisor must reconnect (again while the outage lasts),
// and the recording must carry on in the same file and decode cleanly.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startFakeCamera } from '../helpers/fake-camera.js'
import { makeFixtureClip } from '../helpers/media-fixture.js'
import type { FixtureClip } from '../helpers/media-fixture.js'
import { decodeErrors, ffprobeFile } from '../helpers/media-check.js'
import { killChild, spawnCli, waitForExit } from '../helpers/cli.js'
import { RtspClient, TimeoutError } from '../../src/index.js'
import type { ReconnectEvent } from '../../src/index.js'
import { createRecorder } from '../../src/output/index.js'
import { recorderTrack } from '../../src/cli/pull.js'

/** The scripted camera over UDP, looping a real x264 clip; `blocked` drops every RTP packet. */
async function startUdpCamera(clip: FixtureClip) {
  const state = { blocked: false }
  const sprop = `${clip.sps.toString('base64')},${clip.pps.toString('base64')}`
  const camera = await startFakeCamera({
    sdp: () =>
      ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=UDP outage', 't=0 0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000',
        `a=fmtp:96 packetization-mode=1;sprop-parameter-sets=${sprop}`, 'a=control:trackID=1', ''].join('\r\n'),
    accessUnit: (n) => clip.videoFrames[n % clip.videoFrames.length]!.data,
    udpFilter: () => !state.blocked,
  })
  return { camera, state }
}

async function videoPackets(file: string): Promise<number> {
  const probe = await ffprobeFile(file).catch(() => undefined)
  return Number(probe?.streams.find((s) => s.codec_type === 'video')?.nb_read_packets ?? 0)
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('reconnect across a UDP outage', () => {
  it('library: the media read timeout ends the session, the supervisor reconnects over UDP, the recording continues and decodes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-udp-outage-'))
    const clip = await makeFixtureClip({ seconds: 2, audio: false })
    const { camera, state } = await startUdpCamera(clip)
    const file = path.join(dir, 'rec.ts')
    try {
      const sup = await new RtspClient({ transport: 'udp', timeoutMs: 5000, readTimeoutMs: 1000 }).supervise(camera.url(), {
        reconnect: { initialDelayMs: 200, maxDelayMs: 1000 },
      })
      const events: ReconnectEvent[] = []
      sup.on('reconnecting', (e) => events.push(e))
      const transports: string[] = []
      sup.on('session', (s) => transports.push(s.tracks[0]!.transport.protocol))
      const recorder = await createRecorder({ format: 'ts', tracks: sup.tracks.map(recorderTrack), sink: file })
      let frames = 0
      let afterOutage = 0
      let last = -1
      let outage: Promise<void> | undefined
      for await (const f of sup.frames()) {
        assert.ok(f.pts > last, `pts went back: ${last} → ${f.pts}`)
        last = f.pts
        await recorder.write({ trackIndex: f.track.index, pts: f.pts, keyFrame: f.keyFrame, data: f.data })
        if (++frames === 45) {
          // Long enough for a timeout, a reconnect, and a second timeout while still blocked.
          state.blocked = true
          outage = wait(2800).then(() => {
            state.blocked = false
          })
        }
        if (sup.reconnects >= 1 && !state.blocked && ++afterOutage >= 60) break
      }
      await outage
      await sup.close()
      await recorder.finalize()

      assert.ok(events.length >= 1, 'a reconnecting event')
      const first = events[0]!.error
      assert.ok(first instanceof TimeoutError && first.phase === 'media', `ended by ${first.message}`)
      assert.equal(events[0]!.attempt, 1)
      assert.ok(transports.every((t) => t === 'udp'), transports.join(','))
      assert.ok(camera.requests.filter((r) => r.method === 'PLAY').length >= 2)
      assert.ok((await videoPackets(file)) >= 45 + 60 - 1)
      assert.equal(await decodeErrors(file), '')
    } finally {
      await camera.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('CLI: pull --transport udp --reconnect over a UDP outage; the file grows and decodes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-udp-outage-cli-'))
    const clip = await makeFixtureClip({ seconds: 2, audio: false })
    const { camera, state } = await startUdpCamera(clip)
    const file = path.join(dir, 'rec.ts')
    const child = spawnCli(['pull', camera.url(), '-o', file, '--transport', 'udp', '--reconnect', '--timeout', '1500'])
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      await wait(2500)
      state.blocked = true
      await wait(3500)
      state.blocked = false
      const before = await videoPackets(file)
      await wait(3000)
      child.kill('SIGTERM')
      const { code } = await waitForExit(child, 10_000)
      assert.equal(code, 0, stderr)
      assert.match(stderr, /stream dropped \(no media received for 1500 ms.*reconnecting in \d+ ms \(attempt 1\)/)
      const video = await videoPackets(file)
      assert.ok(video >= before + 30, `video packets: ${before} when the outage ended, ${video} at the end`)
      assert.equal(await decodeErrors(file), '')
    } finally {
      await killChild(child)
      await camera.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
