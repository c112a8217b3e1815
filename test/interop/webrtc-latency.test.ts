/**
 * Glass-to-glass latency of WHEP in Chromium, beside a hand relay (ffmpeg → RTP → werift →
 * WebRTC) fed by the same encode in the same run (bench/latency-harness.ts): rtspkit is
 * not slower than the relay. Compared switch by switch, so a busy machine, which delays
 * both alike, cancels out; the absolute figures are in BENCHMARKS.md.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { measureLatency, percentile } from '../../bench/latency-harness.js'

test('WHEP latency: switch by switch, not above the hand relay', { timeout: 60_000 }, async () => {
  const r = await measureLatency({ switches: 8, paths: ['webrtc', 'relay'] })
  const ours = r.bySwitch.webrtc
  const relay = r.bySwitch.relay
  const fmt = (xs: Array<number | undefined>): string => xs.map((x) => (x === undefined ? '-' : x.toFixed(0))).join(' ')
  const detail = `rtspkit ${fmt(ours)} | relay ${fmt(relay)}`
  const seen = (xs: Array<number | undefined>): number => xs.filter((x) => x !== undefined).length
  assert.ok(seen(relay) >= r.switches / 2, `too few switches shown to compare: ${detail}`)
  assert.ok(seen(ours) >= seen(relay) - 1, `rtspkit showed fewer switches than the relay: ${detail}`)
  const diffs: number[] = []
  ours.forEach((x, i) => {
    const y = relay[i]
    if (x !== undefined && y !== undefined) diffs.push(x - y)
  })
  diffs.sort((a, b) => a - b)
  // Chromium renders on vsync (16.7 ms): allow one frame of it.
  assert.ok(percentile(diffs, 50) <= 17, `median (rtspkit − relay) ${percentile(diffs, 50).toFixed(0)} ms: ${detail}`)
})
