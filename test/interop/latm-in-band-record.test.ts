// MP4A-LATM with cpresent=1 and no config= in the SDP: the AudioSpecificConfig arrives only
// in-band. `rtspkit pull` holds the first frames until it has arrived, then records a
// real AAC track (before, the track was skipped: "AAC without an AudioSpecificConfig").
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startScriptedCamera } from '../helpers/scripted-tracks.js'
import { rtpPacket } from '../helpers/fake-rtsp-server.js'
import { runCli } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'
import { FFMPEG_LOAS } from '../vectors/latm.js'

test('pull records MP4A-LATM whose config is only in-band (cpresent=1)', { timeout: 60_000 }, async (t) => {
  let seq = 0
  const cam = await startScriptedCamera([
    {
      media: ['m=audio 0 RTP/AVP 98', 'a=rtpmap:98 MP4A-LATM/16000/1', 'a=fmtp:98 profile-level-id=15;object=2;cpresent=1'],
      clockRate: 16000,
      rate: 16000 / 1024,
      // FFmpeg's LOAS output: element 0 carries the StreamMuxConfig, element 1 does not.
      // Joined on element 1, as a client joining mid-stream would.
      packetize: (n, ts) => [rtpPacket({ payloadType: 98, sequenceNumber: seq++, timestamp: ts, ssrc: 7, marker: true, payload: FFMPEG_LOAS.elements[(n + 1) % 2]! })],
    },
  ])
  t.after(() => cam.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-latm-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const out = join(dir, 'latm.mp4')

  const r = await runCli(['pull', cam.url(), '-o', out, '--duration', '2', '--transport', 'tcp'], { timeoutMs: 30_000 })
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stderr, /not recorded/)
  const probe = await ffprobeFile(out)
  const audio = streamsOf(probe, 'audio')[0]
  assert.equal(audio?.codec_name, 'aac')
  assert.equal(Number(audio?.sample_rate), 16000)
  assert.ok(Number(audio?.nb_read_packets) >= 20, `only ${audio?.nb_read_packets} AAC frames`)
  assert.equal(await decodeErrors(out), '')
})
