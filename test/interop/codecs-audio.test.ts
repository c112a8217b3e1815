// G.711 (PCMA/PCMU), Opus and MP4A-LATM against GStreamer's RTSP server (alawenc ! rtppcmapay,
// mulawenc ! rtppcmupay, opusenc ! rtpopuspay, avenc_aac ! rtpmp4apay), alone and beside H.264:
// probe details, and pulls to MOV / MP4 / ADTS judged by ffprobe and a clean ffmpeg decode.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { decodeErrors, ffprobeFile, type ProbeStream } from '../helpers/media-check.js'
import { runCli } from '../helpers/cli.js'

type Server = Awaited<ReturnType<typeof startGstServer>>

// 20 ms of samples per buffer at 8 kHz: one RTP packet per 20 ms, as cameras send.
const G711_SRC = 'audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1'
const VIDEO = 'videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96'
const MOUNTS = {
  pcma: `${G711_SRC} ! alawenc ! rtppcmapay name=pay0`,
  pcmu: `${G711_SRC} ! mulawenc ! rtppcmupay name=pay0`,
  opus: 'audiotestsrc is-live=true ! audioconvert ! opusenc ! rtpopuspay name=pay0',
  latm: 'audiotestsrc is-live=true ! audioconvert ! avenc_aac ! rtpmp4apay name=pay0',
  h264pcma: `${VIDEO} ${G711_SRC} ! alawenc ! rtppcmapay name=pay1`,
  h264latm: `${VIDEO} audiotestsrc is-live=true ! audioconvert ! avenc_aac ! rtpmp4apay name=pay1 pt=97`,
}

let dir: string
let server: Server
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rtspkit-codecs-audio-'))
  server = await startGstServer({ extra: MOUNTS })
})
after(async () => {
  await server?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function probeTracks(mount: string, transport: 'tcp' | 'udp') {
  const r = await runCli(['probe', server.url(mount), '--json', '--transport', transport], { timeoutMs: 20_000 })
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).tracks as Array<Record<string, unknown>>
}

async function pull(mount: string, ext: string, transport: 'tcp' | 'udp', seconds = 2) {
  const file = path.join(dir, `${mount}-${transport}.${ext}`)
  const r = await runCli(['pull', server.url(mount), '-o', file, '--duration', String(seconds), '--transport', transport], { timeoutMs: 30_000 })
  assert.equal(r.code, 0, r.stderr)
  const probe = await ffprobeFile(file)
  return { file, probe, stderr: r.stderr }
}

function audioOf(streams: ProbeStream[]): ProbeStream {
  const a = streams.find((s) => s.codec_type === 'audio')
  assert.ok(a, 'no audio stream')
  return a
}

/** Audio of a `seconds` pull: packets × packet duration within [seconds - 0.8, seconds + 0.8]. */
function assertAudioTime(a: ProbeStream, packetSeconds: number, seconds: number) {
  const packets = Number(a.nb_read_packets ?? 0)
  const t = packets * packetSeconds
  assert.ok(t >= seconds - 0.8 && t <= seconds + 0.8, `${packets} ${a.codec_name} packets of ${packetSeconds} s = ${t.toFixed(2)} s, expected ≈ ${seconds} s`)
}

describe('probe --json', () => {
  it('PCMA (static payload type 8, UDP) and PCMU: 8 kHz mono', async () => {
    const [a] = await probeTracks('/pcma', 'udp')
    assert.deepEqual(
      { codec: a!.codec, clockRate: a!.clockRate, payloadType: a!.payloadType, sampleRate: a!.sampleRate, channels: a!.channels, codecString: a!.codecString },
      { codec: 'PCMA', clockRate: 8000, payloadType: 8, sampleRate: 8000, channels: 1, codecString: 'alaw' },
    )
    const [u] = await probeTracks('/pcmu', 'tcp')
    assert.deepEqual([u!.codec, u!.payloadType, u!.sampleRate, u!.channels, u!.codecString], ['PCMU', 0, 8000, 1, 'ulaw'])
  })
  it('Opus: 48 kHz, channels from sprop-stereo', async () => {
    const [a] = await probeTracks('/opus', 'tcp')
    assert.deepEqual([a!.codec, a!.clockRate, a!.sampleRate, a!.channels, a!.codecString], ['OPUS', 48000, 48000, 1, 'opus'])
  })
  it('MP4A-LATM: AAC LC 44.1 kHz mono from the StreamMuxConfig, beside H.264', async () => {
    const tracks = await probeTracks('/h264latm', 'tcp')
    assert.deepEqual(tracks.map((t) => t.codec), ['H264', 'MP4A-LATM'])
    const a = tracks[1]!
    assert.deepEqual([a.clockRate, a.sampleRate, a.channels, a.codecString], [44100, 44100, 1, 'mp4a.40.2'])
  })
})

describe('pull', () => {
  it('H.264 + PCMA over TCP to .mov: h264 and pcm_alaw, both decode cleanly', async () => {
    const { file, probe } = await pull('h264pcma', 'mov', 'tcp')
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['h264', 'pcm_alaw'])
    const a = audioOf(probe.streams)
    assert.deepEqual([a.sample_rate, a.channels], ['8000', 1])
    assertAudioTime(a, 0.02, 2)
    assert.equal(await decodeErrors(file), '')
  })
  it('PCMU over UDP to .mov: pcm_mulaw', async () => {
    const { file, probe } = await pull('pcmu', 'mov', 'udp')
    const a = audioOf(probe.streams)
    assert.equal(a.codec_name, 'pcm_mulaw')
    assertAudioTime(a, 0.02, 2)
    assert.equal(await decodeErrors(file), '')
  })
  it('Opus over TCP to .mp4: opus, 20 ms packets', async () => {
    const { file, probe } = await pull('opus', 'mp4', 'tcp')
    const a = audioOf(probe.streams)
    assert.deepEqual([a.codec_name, a.sample_rate], ['opus', '48000'])
    assertAudioTime(a, 0.02, 2)
    assert.equal(await decodeErrors(file), '')
  })
  it('H.264 + MP4A-LATM over UDP to .mp4: h264 and aac', async () => {
    const { file, probe } = await pull('h264latm', 'mp4', 'udp')
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'])
    const a = audioOf(probe.streams)
    assert.deepEqual([a.sample_rate, a.channels], ['44100', 1])
    // waits for the first key frame (≤ 0.5 s) before audio is written
    assertAudioTime(a, 1024 / 44100, 2)
    assert.equal(await decodeErrors(file), '')
  })
  it('MP4A-LATM over TCP to .aac (ADTS)', async () => {
    const { file, probe } = await pull('latm', 'aac', 'tcp')
    assert.equal(probe.format.format_name, 'aac')
    const a = audioOf(probe.streams)
    assert.deepEqual([a.codec_name, a.sample_rate, a.channels], ['aac', '44100', 1])
    assertAudioTime(a, 1024 / 44100, 2)
    assert.equal(await decodeErrors(file), '')
  })
  it('.mp4 with H.264 + PCMA: records the video and warns that PCMA needs .mov', async () => {
    const { probe, stderr } = await pull('h264pcma', 'mp4', 'tcp', 1)
    assert.deepEqual(probe.streams.map((s) => s.codec_name), ['h264'])
    assert.match(stderr, /warning: track 1 is not recorded: PCMA audio cannot go in MP4; use \.mov/)
  })
  it('.mp4 with PCMA alone fails with a hint to use .mov', async () => {
    const file = path.join(dir, 'pcma-only.mp4')
    const r = await runCli(['pull', server.url('/pcma'), '-o', file, '--duration', '1', '--transport', 'tcp'], { timeoutMs: 30_000 })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /PCMA audio cannot go in MP4; use \.mov/)
  })
})
