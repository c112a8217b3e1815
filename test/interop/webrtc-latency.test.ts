/**
 * Glass-to-glass latency of WHEP in Chromium, beside a hand relay (ffmpeg → RTP → werift →
 * WebRTC) fed by the same encode in the same run (bench/latency-harness.ts): rtspkit is
 * not slower than the relay. Relative, so a busy machine slows both sides alike; the
 * absolute figures are in BENCHMARKS.md.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { measureLatency, percentile } from '../../bench/latency-harness.js'

test('WHEP latency: every switch seen, p50 not above the hand relay\'s', { timeout: 60_000 }, async () => {
  const r = await measureLatency({ switches: 8, paths: ['webrtc', 'relay'] })
  const ours = r.latencies.webrtc
  const relay = r.latencies.relay
  const detail = `rtspkit ${ours.map((x) => x.toFixed(0)).join(' ')} | relay ${relay.map((x) => x.toFixed(0)).join(' ')}`
  assert.equal(ours.length, r.switches, `switches seen: ${detail}`)
  assert.ok(relay.length >= r.switches - 1, `relay switches seen: ${detail}`)
  // Chromium renders on vsync (16.7 ms): allow one frame of it.
  assert.ok(percentile(ours, 50) <= percentile(relay, 50) + 17, `p50 rtspkit ${percentile(ours, 50).toFixed(0)} ms, relay ${percentile(relay, 50).toFixed(0)} ms: ${detail}`)
})
