import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { H265Depacketizer } from '../../../src/formats/h265/depacketizer.js'
import { h265MediaDescription, h265UpdateDetails, parseH265Fmtp } from '../../../src/formats/h265/sdp.js'
import { resolveFormat } from '../../../src/formats/index.js'
import type { CodecDetails } from '../../../src/formats/types.js'
import { parseSdp } from '../../../src/sdp/parse.js'
import { writeSdp } from '../../../src/sdp/write.js'
import { PPS, SPS, SPS_720P, VPS } from '../../vectors/h265.js'

const b64 = (b: Buffer) => b.toString('base64')

/** An SDP like GStreamer's rtph265pay writes (a=fmtp with sprop-vps/sps/pps). */
function gstSdp(extra = ''): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=Session streamed with GStreamer',
    't=0 0',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H265/90000',
    `a=fmtp:96 sprop-vps=${b64(VPS)};sprop-sps=${b64(SPS)};sprop-pps=${b64(PPS)}${extra}`,
    'a=control:stream=0',
    '',
  ].join('\r\n')
}

describe('H.265 SDP', () => {
  test('resolveFormat: details from sprop-sps, depacketizer knows the parameter sets', () => {
    const media = parseSdp(gstSdp()).media[0]!
    const handler = resolveFormat(media, 96)!
    assert.equal(handler.codec, 'H265')
    assert.equal(handler.clockRate, 90000)
    const { vps, sps, pps, ...rest } = handler.details
    assert.deepEqual(rest, { width: 320, height: 240, profile: 'Main', tier: 'Main', level: '2.0', codecString: 'hvc1.1.6.L60.90' })
    assert.deepEqual([vps, sps, pps], [VPS, SPS, PPS])
    const d = handler.createDepacketizer()
    assert.ok(d instanceof H265Depacketizer)
    const [unit] = d.push({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, payload: Buffer.from([0x26, 1, 0xaf]) })
    assert.equal(unit!.data.length, 4)
  })

  test('rtpmap HEVC is accepted too', () => {
    const media = parseSdp(gstSdp().replace('H265/90000', 'HEVC/90000')).media[0]!
    assert.equal(resolveFormat(media, 96)?.codec, 'H265')
  })

  test('DONL in use (sprop-max-don-diff or sprop-depack-buf-nalus > 0): the track is refused', () => {
    assert.equal(resolveFormat(parseSdp(gstSdp(';sprop-max-don-diff=2')).media[0]!, 96), undefined)
    assert.equal(resolveFormat(parseSdp(gstSdp(';sprop-depack-buf-nalus=1')).media[0]!, 96), undefined)
    assert.equal(resolveFormat(parseSdp(gstSdp(';sprop-max-don-diff=0')).media[0]!, 96)?.codec, 'H265')
  })

  test('parseH265Fmtp sorts parameter sets by NAL type, takes lists, skips garbage', () => {
    const p = parseH265Fmtp({ 'sprop-vps': `${b64(SPS)},${b64(VPS)}`, 'sprop-sps': '!!', 'sprop-pps': ` ${b64(PPS)} ` })
    assert.deepEqual([p.vps, p.sps, p.pps], [VPS, SPS, PPS])
    assert.deepEqual(parseH265Fmtp(undefined), { maxDonDiff: 0, depackBufNalus: 0 })
  })

  test('no sprop: no details, in-band parameter sets fill them in', () => {
    const handler = resolveFormat(parseSdp(gstSdp().replace(/a=fmtp.*\r\n/, '')).media[0]!, 96)!
    assert.deepEqual(handler.details, {})
    const details: CodecDetails = {}
    assert.equal(h265UpdateDetails(details, [VPS, SPS, PPS, Buffer.from([0x26, 1, 0])]), true)
    assert.equal(details.width, 320)
    assert.equal(h265UpdateDetails(details, [VPS, SPS, PPS]), false)
    assert.equal(h265UpdateDetails(details, [SPS_720P]), true)
    assert.deepEqual([details.width, details.height, details.level], [1280, 720, '3.1'])
    assert.equal(h265UpdateDetails(details, [Buffer.from([0x42, 1, 0xff])]), false, 'a broken SPS changes nothing')
  })

  test('h265MediaDescription round-trips through the SDP writer and resolveFormat', () => {
    const media = h265MediaDescription({ payloadType: 98, control: 'trackID=1', vps: VPS, sps: SPS, pps: PPS })
    const text = writeSdp({ version: 0, sessionName: 'x', attributes: [], media: [media] })
    const handler = resolveFormat(parseSdp(text).media[0]!, 98)!
    assert.equal(handler.details.width, 320)
  })
})
