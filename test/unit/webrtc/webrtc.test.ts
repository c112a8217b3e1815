/**
 * The pure parts of the WebRTC path: planning a WHEP offer against a path's tracks (Chromium's
 * real offer), the offer restricted for werift, answer rewriting, the per-viewer queue,
 * parameter sets before key frames, and the session limits.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { LiveFrame, LiveTrack } from '../../../src/http/live-media.js'
import { filterCandidates, h264ProfileFamily, planOffer, profileLevelIdFromSps, restrictOffer, setFmtp } from '../../../src/webrtc/offer.js'
import { withParameterSets } from '../../../src/webrtc/parameter-sets.js'
import { ViewerQueue } from '../../../src/webrtc/viewer-queue.js'
import { playoutDelayExtension } from '../../../src/webrtc/whep-session.js'
import { WhepRegistry } from '../../../src/webrtc/whep-registry.js'
import { PPS, SPS, SPS_720P } from '../../vectors/h264.js'
import { CHROMIUM_OFFER } from './chromium-offer.js'

const video = (sps = SPS): LiveTrack => ({ index: 0, type: 'video', codec: 'H264', clockRate: 90000, details: { sps, pps: PPS }, fmtp: {} })
const audio = (codec: string, clockRate: number, channels?: number): LiveTrack => ({ index: 1, type: 'audio', codec, clockRate, channels, details: {}, fmtp: {} })

describe('planOffer against Chromium 156', () => {
  test('H.264 Main camera + Opus: the offer\'s Main profile payload type, the camera\'s level, opus', () => {
    const plan = planOffer(CHROMIUM_OFFER, [video(SPS_720P), audio('OPUS', 48000, 2)])
    assert.deepEqual(plan.notes, [])
    const [v, a] = plan.sections
    assert.equal(v!.payloadType, 116) // 4d001f packetization-mode=1
    assert.equal(v!.fmtp, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f')
    assert.equal(v!.track?.index, 0)
    assert.equal(a!.payloadType, 111)
    assert.equal(a!.mimeType, 'audio/opus')
  })

  test('High profile (not offered by Chromium 156): the first packetization-mode=1 payload type', () => {
    assert.equal(profileLevelIdFromSps(SPS), '64001e')
    const plan = planOffer(CHROMIUM_OFFER, [video(SPS), audio('PCMA', 8000, 1)])
    assert.equal(plan.sections[0]!.payloadType, 102)
    assert.match(plan.sections[0]!.fmtp, /packetization-mode=1;profile-level-id=42001f/)
    assert.equal(plan.sections[1]!.payloadType, 8)
    assert.equal(plan.sections[1]!.mimeType, 'audio/PCMA')
    const pcmu = planOffer(CHROMIUM_OFFER, [video(SPS), audio('PCMU', 8000, 1)])
    assert.equal(pcmu.sections[1]!.payloadType, 0)
    assert.equal(pcmu.sections[1]!.mimeType, 'audio/PCMU')
  })

  test('AAC: video only, the audio section answered inactive, with a note', () => {
    const plan = planOffer(CHROMIUM_OFFER, [video(), audio('AAC', 48000, 2)])
    assert.equal(plan.sections.length, 2)
    assert.equal(plan.sections[1]!.track, undefined)
    assert.match(plan.notes.join(), /AAC audio cannot go over WebRTC/)
  })

  test('nothing sendable (H.265 + AAC): UnsupportedError naming both', () => {
    const h265: LiveTrack = { index: 0, type: 'video', codec: 'H265', clockRate: 90000, details: {}, fmtp: {} }
    assert.throws(() => planOffer(CHROMIUM_OFFER, [h265, audio('AAC', 48000, 2)]), {
      code: 'RTSP_ERR_UNSUPPORTED',
      message: /nothing on this path can go over WebRTC: H265 video .*; AAC audio/,
    })
  })

  test('bad offers throw SdpError with a reason', () => {
    assert.throws(() => planOffer('hello', [video()]), { code: 'RTSP_ERR_SDP', message: /not an SDP offer/ })
    assert.throws(() => planOffer(CHROMIUM_OFFER.replace(/a=ice-ufrag:.*\r\n/g, ''), [video()]), /ice-ufrag/)
    const noH264 = CHROMIUM_OFFER.split('\r\n').filter((l) => !/packetization-mode=1/.test(l)).join('\r\n')
    assert.throws(() => planOffer(noH264, [video()]), /no H\.264 with packetization-mode=1/)
    const audioOnly = CHROMIUM_OFFER.slice(0, CHROMIUM_OFFER.indexOf('m=video')) + CHROMIUM_OFFER.slice(CHROMIUM_OFFER.indexOf('m=audio'))
    assert.throws(() => planOffer(audioOnly, [video()]), /no video section/)
  })

  test('restrictOffer keeps one payload type per section; setFmtp and filterCandidates rewrite the answer', () => {
    const plan = planOffer(CHROMIUM_OFFER, [video(SPS_720P), audio('OPUS', 48000, 2)])
    const r = restrictOffer(CHROMIUM_OFFER, plan)
    assert.match(r, /^m=video 9 UDP\/TLS\/RTP\/SAVPF 116$/m)
    assert.match(r, /^m=audio 9 UDP\/TLS\/RTP\/SAVPF 111$/m)
    assert.doesNotMatch(r, /^a=rtpmap:102 /m)
    assert.match(r, /^a=rtcp-fb:116 nack pli$/m)
    const answer = 'v=0\r\nm=video 9 X 116\r\na=rtpmap:116 H264/90000\r\na=fmtp:116 a=b\r\na=candidate:1 1 udp 1 192.0.2.2 5000 typ host\r\na=candidate:2 1 udp 1 127.0.0.1 5002 typ host\r\n'
    const set = setFmtp(answer, 0, 116, 'packetization-mode=1')
    assert.match(set, /^a=fmtp:116 packetization-mode=1$/m)
    const f = filterCandidates(set, ['127.0.0.1'])
    assert.doesNotMatch(f, /192\.0\.2\.2/)
    assert.match(f, /127\.0\.0\.1 5002/)
  })

  test('the playout-delay extension: offered id, one-byte header, 10 ms units', () => {
    const plan = planOffer(CHROMIUM_OFFER, [video(SPS_720P)])
    assert.equal(plan.sections[0]!.playoutDelayId, 5)
    assert.equal(playoutDelayExtension(5, 0, 0).toString('hex'), 'bede000152000000')
    // min 100 ms = 10 = 0x00a, max 400 ms = 40 = 0x028
    assert.equal(playoutDelayExtension(5, 100, 400).toString('hex'), 'bede00015200a028')
  })

  test('h264ProfileFamily follows the constraint flags', () => {
    assert.equal(h264ProfileFamily('42e01f'), 'constrained-baseline')
    assert.equal(h264ProfileFamily('42001f'), 'baseline')
    assert.equal(h264ProfileFamily('4d001f'), 'main')
    assert.equal(h264ProfileFamily('640c1f'), 'constrained-high')
    assert.equal(h264ProfileFamily('640028'), 'high')
  })
})

const frame = (track: number, keyFrame: boolean, size: number): LiveFrame => ({ track, timestamp: 0, pts: 0, keyFrame, data: [Buffer.alloc(size)] })

describe('ViewerQueue', () => {
  test('video starts at a key frame; overflow drops everything and waits for the next key frame', () => {
    const q = new ViewerQueue(1000, (t) => t === 0)
    assert.equal(q.push(frame(0, false, 100)), false)
    assert.equal(q.push(frame(1, true, 10)), true) // audio needs no key frame
    assert.equal(q.push(frame(0, true, 500)), true)
    assert.equal(q.push(frame(0, false, 400)), true)
    // 1010 > 1000: overflow; a delta frame cannot follow the dropped ones.
    assert.equal(q.push(frame(0, false, 100)), false)
    assert.equal(q.overflows, 1)
    assert.equal(q.length, 0)
    assert.equal(q.push(frame(1, true, 10)), true)
    assert.equal(q.push(frame(0, false, 10)), false)
    assert.equal(q.push(frame(0, true, 300)), true)
    assert.equal(q.take().length, 2)
    assert.equal(q.queuedBytes, 0)
    assert.equal(q.dropped, 6)
  })

  test('an overflow caused by audio also restarts video at a key frame', () => {
    const q = new ViewerQueue(100, (t) => t === 0)
    q.push(frame(0, true, 90))
    q.push(frame(1, true, 20)) // overflow, audio kept
    assert.equal(q.push(frame(0, false, 10)), false)
    assert.equal(q.push(frame(0, true, 10)), true)
  })
})

describe('withParameterSets', () => {
  const idr = Buffer.from([0x65, 0x88, 0x80])
  test('SPS and PPS from the track in front of a key frame that lacks them', () => {
    const out = withParameterSets({ track: 0, timestamp: 0, pts: 0, keyFrame: true, data: [idr] }, video())
    assert.deepEqual(out, [SPS, PPS, idr])
  })
  test('in-band parameter sets and delta frames are left alone', () => {
    const f: LiveFrame = { track: 0, timestamp: 0, pts: 0, keyFrame: true, data: [SPS, PPS, idr] }
    assert.equal(withParameterSets(f, video()), f.data)
    const d: LiveFrame = { track: 0, timestamp: 0, pts: 0, keyFrame: false, data: [Buffer.from([0x41, 0x9a])] }
    assert.equal(withParameterSets(d, video()), d.data)
  })
})

describe('WhepRegistry', () => {
  test('reserve counts sessions being negotiated against the per-path and server limits', () => {
    const r = new WhepRegistry({ maxSessions: 3, maxSessionsPerPath: 2 })
    const a = r.reserve('cam')
    const b = r.reserve('cam')
    assert.ok('release' in a && 'release' in b)
    const c = r.reserve('cam')
    assert.ok('refused' in c && /this path already has 2/.test(c.refused))
    const d = r.reserve('door')
    assert.ok('release' in d)
    const e = r.reserve('garage')
    assert.ok('refused' in e && /server already has 3/.test(e.refused))
    a.release()
    a.release() // idempotent
    assert.ok('release' in r.reserve('cam'))
  })
})
