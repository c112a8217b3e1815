/**
 * ONVIF back-channel (issue #16; ONVIF Streaming §5.3) against GStreamer's RTSPOnvifServer:
 * DESCRIBE with `Require: www.onvif.org/ver20/backchannel` gets an a=sendonly audio media,
 * it is SET UP with the video track, and what session.talk() / `rtspkit talk` send is
 * decoded by the server's back-channel pipeline (rtppcmudepay/rtppcmadepay ! mulawdec/alawdec)
 * into a raw file. A 1 kHz tone of 3 s must come back as 3 s of a 1 kHz tone at the level
 * sent (ffmpeg's astats), while the camera's video keeps arriving.
 */
import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RtspClient } from '../../src/client/client.js'
import { runCli, runProcess } from '../helpers/cli.js'
import { startGstOnvifServer, type GstOnvifServer } from '../helpers/gst-onvif-server.js'

let dir: string
let tone: string
/** The same tone as raw s16le (what the WAV holds). */
let toneRaw: string
/** The same tone as AAC-LC 16 kHz mono in ADTS. */
let toneAac: string

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-onvif-backchannel-'))
  tone = join(dir, 'tone.wav')
  // 3 s of 1 kHz at 8 kHz mono, 16-bit PCM (lavfi's sine: amplitude 1/8 of full scale).
  toneRaw = join(dir, 'tone.raw')
  for (const [format, file] of [['wav', tone], ['s16le', toneRaw]]) {
    const made = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=8000:duration=3', '-c:a', 'pcm_s16le', '-f', format!, '-y', file!])
    assert.equal(made.code, 0, made.stderr)
  }
  toneAac = join(dir, 'tone.aac')
  const made = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=16000:duration=3', '-c:a', 'aac', '-ac', '1', '-f', 'adts', '-y', toneAac])
  assert.equal(made.code, 0, made.stderr)
})

after(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

interface Level {
  durationS: number
  rmsDb: number
  /** Sign changes per second / 2: the tone's frequency. */
  frequency: number
}

/** Length and RMS level of raw S16LE 8 kHz mono by ffmpeg's astats, frequency by zero crossings. */
async function measure(file: string): Promise<Level> {
  const r = await runProcess('ffmpeg', ['-nostdin', '-hide_banner', '-f', 's16le', '-ar', '8000', '-ac', '1', '-i', file, '-af', 'astats=metadata=0', '-f', 'null', '-'])
  assert.equal(r.code, 0, r.stderr)
  const rms = /RMS level dB:\s*(-?[\d.]+)/.exec(r.stderr)
  const samples = /Number of samples:\s*(\d+)/.exec(r.stderr)
  assert.ok(rms !== null && samples !== null, r.stderr)
  const pcm = await readFile(file)
  let crossings = 0
  for (let i = 2; i + 1 < pcm.length; i += 2) if ((pcm.readInt16LE(i) >= 0) !== (pcm.readInt16LE(i - 2) >= 0)) crossings++
  const durationS = Number(samples[1]) / 8000
  return { durationS, rmsDb: Number(rms[1]), frequency: crossings / 2 / durationS }
}

/** `slack`: G.711 comes back sample for sample; AAC adds its encoder delay and padding (a frame or two) and its own level error. */
async function checkReceived(server: GstOnvifServer, out: string, sent: Level, slack = { durationS: 0.05, db: 0.5 }): Promise<void> {
  // The server writes the file until the back-channel media is torn down.
  await server.waitForLine(/^UNPREPARED$/)
  assert.ok((await stat(out)).size > 0, 'the server decoded nothing')
  const got = await measure(out)
  assert.ok(Math.abs(got.durationS - sent.durationS) <= slack.durationS, `received ${got.durationS} s of ${sent.durationS} s`)
  // G.711 quantisation changes the level by far less than 0.5 dB at this level.
  assert.ok(Math.abs(got.rmsDb - sent.rmsDb) <= slack.db, `level ${got.rmsDb} dB, sent ${sent.rmsDb} dB`)
  assert.ok(Math.abs(got.frequency - 1000) <= 10, `frequency ${got.frequency} Hz`)
}

describe('ONVIF back-channel against GStreamer\'s RTSPOnvifServer', () => {
  it('session.talk() over TCP: PCMU from a WAV, paced, RTCP SR, video received meanwhile', { timeout: 60_000 }, async () => {
    const out = join(dir, 'api.raw')
    const server = await startGstOnvifServer({ backchannelOut: out, codec: 'PCMU' })
    try {
      const sent = await measure(toneRaw)
      const client = new RtspClient()
      const session = await client.pull(server.url('/backchannel'), { transport: 'tcp', backchannel: true })
      let videoFrames = 0
      let videoDuringTalk = 0
      let talking = false
      session.on('frame', (f) => {
        if (f.track.type !== 'video') return
        videoFrames++
        if (talking) videoDuringTalk++
      })
      try {
        assert.deepEqual(session.tracks.map((t) => `${t.type} ${t.codec}`), ['video H264'])
        assert.equal(session.backchannel?.codec, 'PCMU')
        assert.equal(session.backchannel?.payloadType, 0)
        assert.equal(session.backchannel?.transport.protocol, 'tcp')
        const startedAt = performance.now()
        talking = true
        const result = await session.talk(createReadStream(tone))
        talking = false
        const tookS = (performance.now() - startedAt) / 1000
        assert.equal(result.durationS, 3)
        assert.equal(result.bytesSent, 24_000)
        assert.equal(result.packetsSent, 150)
        // Paced in real time: never faster than the audio (a busy machine may be slower).
        assert.ok(tookS >= 2.95, `3 s of audio sent in ${tookS.toFixed(2)} s`)
        assert.ok(videoDuringTalk > 0, 'no video while talking')
        const stats = session.backchannelStats()!
        assert.ok(stats.rtcpPacketsSent >= 1, 'no sender report')
      } finally {
        await session.close()
      }
      assert.ok(videoFrames > 0)
      await checkReceived(server, out, sent)
    } finally {
      await server.stop()
    }
  })

  it('rtspkit talk <url> - over UDP: raw PCM from stdin, encoded to the camera\'s PCMA', { timeout: 60_000 }, async () => {
    const out = join(dir, 'cli.raw')
    const server = await startGstOnvifServer({ backchannelOut: out, codec: 'PCMA' })
    try {
      const sent = await measure(toneRaw)
      const r = await runCli(['talk', server.url('/backchannel'), '-', '--format', 's16le', '--transport', 'udp'], { stdin: await readFile(toneRaw), timeoutMs: 30_000 })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /talking to .* \(PCMA 8000 Hz over udp\); the camera sends video H264/)
      assert.match(r.stderr, /sent 3\.00 s of audio in 150 packets; received \d+ frames/)
      await checkReceived(server, out, sent)
    } finally {
      await server.stop()
    }
  })

  it('session.talk() to a camera that takes AAC: ADTS frames sent as they are (RFC 3640 AAC-hbr)', { timeout: 60_000 }, async () => {
    const out = join(dir, 'aac.raw')
    const server = await startGstOnvifServer({ backchannelOut: out, codec: 'AAC' })
    try {
      const sent = await measure(toneRaw)
      const session = await new RtspClient().pull(server.url('/backchannel'), { transport: 'tcp', backchannel: true })
      try {
        assert.equal(session.backchannel?.codec, 'AAC')
        assert.equal(session.backchannel?.clockRate, 16000)
        const result = await session.talk(createReadStream(toneAac))
        // 3 s at 16 kHz is 46.9 frames of 1024 samples, plus the encoder's priming.
        assert.ok(result.packetsSent >= 47 && result.packetsSent <= 50, `${result.packetsSent} frames`)
      } finally {
        await session.close()
      }
      await checkReceived(server, out, sent, { durationS: 0.15, db: 1 })
    } finally {
      await server.stop()
    }
  })

  it('rtspkit talk: a missing file or an unknown format is a usage error (exit 2) before anything connects', async () => {
    const missing = await runCli(['talk', 'rtsp://127.0.0.1:1/x', join(dir, 'missing.wav')])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /cannot read .*missing\.wav: ENOENT/)
    const format = await runCli(['talk', 'rtsp://127.0.0.1:1/x', tone, '--format', 'mp3'])
    assert.equal(format.code, 2)
    assert.match(format.stderr, /--format must be one of auto, wav, s16le, pcmu, pcma, adts/)
  })

  it('talk on a camera without a back-channel is an UnsupportedError saying so', { timeout: 30_000 }, async () => {
    const server = await startGstOnvifServer()
    try {
      const client = new RtspClient()
      // Asked for on a path without one, GStreamer's ONVIF server answers 551 (RFC 2326 §11.3.14).
      await assert.rejects(client.pull(server.url('/replay'), { transport: 'tcp', backchannel: true }), { code: 'RTSP_ERR_STATUS', status: 551, message: /Require: ONVIF back-channel or replay/ })
      const session = await client.pull(server.url('/replay'), { transport: 'tcp' })
      try {
        assert.equal(session.backchannel, undefined)
        await assert.rejects(session.talk(Buffer.alloc(160)), { code: 'RTSP_ERR_UNSUPPORTED', message: /backchannel: true/ })
      } finally {
        await session.close()
      }
    } finally {
      await server.stop()
    }
  })
})
