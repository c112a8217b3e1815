// Configuration changes mid-stream, played by a scripted camera: new parameter sets (H.264,
// H.265), a new frame size in the RTP/JPEG header (MJPEG) or a new in-band StreamMuxConfig
// (MP4A-LATM cpresent=1) surface as one 'track-update' with the new details, emitted before
// the first frame of the new configuration, and not for frames that repeat the one known.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startScriptedCamera } from '../helpers/scripted-tracks.js'
import type { ScriptedTrack } from '../helpers/scripted-tracks.js'
import { H264Packetizer } from '../../src/formats/h264/packetizer.js'
import { H265Packetizer } from '../../src/formats/h265/packetizer.js'
import { MjpegPacketizer } from '../../src/formats/mjpeg/packetizer.js'
import { RtspClient } from '../../src/index.js'
import type { CodecDetails, Frame, Track } from '../../src/index.js'
import * as h264 from '../vectors/h264.js'
import * as h265 from '../vectors/h265.js'
import { LIBJPEG_Q85, jfif } from '../vectors/mjpeg.js'
import { FFMPEG_LOAS, inBandElement } from '../vectors/latm.js'
import { rtpPacket } from '../helpers/fake-rtsp-server.js'

/** Frames from this one on use the second configuration. */
const SWITCH_AT = 20
/** A key frame every this many frames. */
const GOP = 10

interface Case {
  name: string
  track: ScriptedTrack
  before: Partial<CodecDetails>
  after: Partial<CodecDetails>
  /** Is this frame in the second configuration? */
  isAfter(f: Frame): boolean
}

function h264Track(): ScriptedTrack {
  const pk = new H264Packetizer({ payloadType: 96, ssrc: 1 })
  return {
    media: ['m=video 0 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1'],
    clockRate: 90000,
    rate: 30,
    packetize(n, ts) {
      const key = n % GOP === 0
      const sps = n >= SWITCH_AT ? h264.SPS_720P : h264.SPS
      const data = key ? [sps, h264.PPS, Buffer.from([0x65, 0x88, n & 0xff, 1])] : [Buffer.from([0x41, 0x9a, n & 0xff, 1])]
      return pk.packetize({ data, rtpTimestamp: ts })
    },
  }
}

function h265Track(): ScriptedTrack {
  const pk = new H265Packetizer({ payloadType: 97, ssrc: 2 })
  return {
    media: ['m=video 0 RTP/AVP 97', 'a=rtpmap:97 H265/90000'],
    clockRate: 90000,
    rate: 30,
    packetize(n, ts) {
      const key = n % GOP === 0
      const sps = n >= SWITCH_AT ? h265.SPS_720P : h265.SPS
      // IDR_W_RADL (19) after the parameter sets, TRAIL_R (1) otherwise.
      const data = key ? [h265.VPS, sps, h265.PPS, h265.nal(0x2601, 40, n)] : [h265.nal(0x0201, 30, n)]
      return pk.packetize({ data, rtpTimestamp: ts })
    },
  }
}

function mjpegTrack(): ScriptedTrack {
  const pk = new MjpegPacketizer({ payloadType: 26, ssrc: 3 })
  const small = jfif({ type: 1, width: 320, height: 240, ...LIBJPEG_Q85, scan: Buffer.alloc(600, 0x11) })
  const large = jfif({ type: 1, width: 640, height: 480, ...LIBJPEG_Q85, scan: Buffer.alloc(1800, 0x22) })
  return {
    media: ['m=video 0 RTP/AVP 26'],
    clockRate: 90000,
    rate: 30,
    packetize: (n, ts) => pk.packetize({ data: [n >= SWITCH_AT ? large : small], rtpTimestamp: ts }),
  }
}

/** MP4A-LATM cpresent=1: FFmpeg's in-band config (16 kHz mono), then a change to stereo. */
const STEREO_FRAME = Buffer.from([0xee, 0xee, 0xee])
function latmTrack(): ScriptedTrack {
  let seq = 0
  return {
    media: ['m=audio 0 RTP/AVP 98', 'a=rtpmap:98 MP4A-LATM/16000/1', 'a=fmtp:98 profile-level-id=15;object=2;cpresent=1'],
    clockRate: 16000,
    rate: 16000 / 1024,
    packetize(n, ts) {
      // Joined mid-stream: the first element has no config and cannot be read.
      const payload =
        n < SWITCH_AT
          ? FFMPEG_LOAS.elements[n % 2 === 1 ? 0 : 1]!
          : inBandElement(n === SWITCH_AT || n % GOP === 0 ? { asc: 0x1410 } : undefined, [STEREO_FRAME])
      return [rtpPacket({ payloadType: 98, sequenceNumber: seq++, timestamp: ts, ssrc: 4, marker: true, payload })]
    },
  }
}

const cases: Case[] = [
  {
    name: 'H.264: in-band SPS from 640x480 to 1280x720',
    track: h264Track(),
    before: { width: 640, height: 480, codecString: 'avc1.64001e' },
    after: { width: 1280, height: 720, codecString: 'avc1.4d401f' },
    isAfter: (f) => f.data.some((n) => n.equals(h264.SPS_720P)),
  },
  {
    name: 'H.265: in-band SPS from 320x240 to 1280x720',
    track: h265Track(),
    before: { width: 320, height: 240, codecString: 'hvc1.1.6.L60.90' },
    after: { width: 1280, height: 720, codecString: 'hvc1.1.6.L93.90' },
    isAfter: (f) => f.data.some((n) => n.equals(h265.SPS_720P)),
  },
  {
    name: 'MJPEG: RTP/JPEG frame size from 320x240 to 640x480',
    track: mjpegTrack(),
    before: { width: 320, height: 240 },
    after: { width: 640, height: 480 },
    isAfter: (f) => f.data[0]!.length > 1800,
  },
  {
    name: 'MP4A-LATM cpresent=1: the in-band StreamMuxConfig, then a change to stereo',
    track: latmTrack(),
    before: { audioSpecificConfig: Buffer.from('1408', 'hex'), sampleRate: 16000, channels: 1, codecString: 'mp4a.40.2' },
    after: { audioSpecificConfig: Buffer.from('1410', 'hex'), sampleRate: 16000, channels: 2, codecString: 'mp4a.40.2' },
    isAfter: (f) => f.data[0]!.equals(STEREO_FRAME),
  },
]

function pick(d: CodecDetails, keys: Partial<CodecDetails>): Partial<CodecDetails> {
  return Object.fromEntries(Object.keys(keys).map((k) => [k, d[k as keyof CodecDetails]]))
}

describe('track-update on a mid-stream resolution change', { timeout: 90_000 }, () => {
  for (const c of cases) {
    it(c.name, async (t) => {
      const cam = await startScriptedCamera([c.track])
      t.after(() => cam.stop())
      const session = await new RtspClient().pull(cam.url(), { timeoutMs: 20_000 })
      t.after(() => session.close())
      // Events in order, with a snapshot of the details at each update.
      const log: Array<{ kind: 'update'; details: Partial<CodecDetails> } | { kind: 'frame'; after: boolean; key: boolean }> = []
      const done = new Promise<void>((resolve) => {
        let afterFrames = 0
        session.on('track-update', (track: Track) => log.push({ kind: 'update', details: pick(track.details, c.after) }))
        session.on('frame', (f) => {
          const after = c.isAfter(f)
          log.push({ kind: 'frame', after, key: f.keyFrame })
          if (after && ++afterFrames >= 2) resolve()
        })
      })
      await done
      const updates = log.filter((e) => e.kind === 'update')
      assert.equal(updates.length, 2, `updates: ${JSON.stringify(updates)}`)
      assert.deepEqual(updates[0]!.details, c.before)
      assert.deepEqual(updates[1]!.details, c.after)
      // The second update comes right before the first frame of the new configuration.
      const firstAfter = log.findIndex((e) => e.kind === 'frame' && e.after)
      assert.deepEqual(log[firstAfter - 1], updates[1])
      assert.deepEqual(pick(session.tracks[0]!.details, c.after), c.after)
    })
  }
})
