/**
 * Glass-to-glass latency of the browser live view (issue #12), encoder included.
 *
 * A live source whose picture switches black → white at known wall-clock times (once every
 * path shows pictures, after a 1.5 s warm-up, once a second): this process writes raw
 * 640x480 frames at 30 frames/s into ffmpeg (x264 ultrafast,
 * zerolatency, one slice per frame), noting when it hands over each first white frame.
 * ffmpeg's one encoded stream goes three ways (tee muxer):
 *  - RTSP ANNOUNCE/RECORD to an RtspServer with its HTTP side: the path is watched through
 *    <rtspkit-player> over WebRTC (WHEP) and over MSE (WebSocket), as a user would;
 *  - plain RTP to UDP, relayed by hand to WebRTC with werift (the usual "ffmpeg → RTP →
 *    werift" sample: packets written to a track as they arrive);
 *  - fragmented MP4 (one moof+mdat per frame) on ffmpeg's stdout, relayed by hand over a
 *    WebSocket (init segment to each new client, then every fragment as it arrives) to a
 *    plain MediaSource + SourceBuffer player that jumps to the end of the buffered range
 *    whenever it is more than 0.5 s behind it.
 * Chromium shows all four at once in one page; each video's requestVideoFrameCallback
 * reads the picture through a canvas and notes the expected display time of the first
 * white frame. Latency = that time − the time the white frame entered the encoder.
 *
 *   node --import tsx bench/latency.ts        (BENCH_SWITCHES=20 for more switches)
 */
import { measureLatency, percentile } from './latency-harness.js'
import { envNumber, fixed, machineInfo, markdownTable, writeResult } from './lib.js'

const SWITCHES = envNumber('BENCH_SWITCHES', 12)

const r = await measureLatency({ switches: SWITCHES })
const labels = {
  webrtc: 'rtspkit WebRTC (WHEP)',
  mse: 'rtspkit MSE (WebSocket)',
  relay: 'hand relay: ffmpeg → RTP → werift → WebRTC',
  'mse-relay': 'hand relay: ffmpeg → fMP4 → WebSocket → MSE',
} as const
const rows: string[][] = []
const result: Record<string, unknown> = { machine: machineInfo(), switches: r.switches, transports: r.transports, chromium: r.chromium }
for (const name of ['webrtc', 'mse', 'relay', 'mse-relay'] as const) {
  const lat = r.latencies[name]
  rows.push([labels[name], `${lat.length}/${r.switches}`, fixed(percentile(lat, 50), 0), fixed(percentile(lat, 95), 0), fixed(lat[0] ?? Number.NaN, 0), fixed(lat[lat.length - 1] ?? Number.NaN, 0)])
  result[name] = { latenciesMs: lat, p50: percentile(lat, 50), p95: percentile(lat, 95) }
}
console.log(`Glass-to-glass latency, 640x480@30 x264 zerolatency, ${r.switches} black → white switches, loopback, Chromium ${r.chromium}:\n`)
console.log(markdownTable(['path', 'switches seen', 'p50 ms', 'p95 ms', 'min ms', 'max ms'], rows))
result.bufferedAheadMs = r.bufferedAheadMs
for (const [k, xs] of Object.entries(r.bufferedAheadMs)) {
  const sorted = [...xs].sort((a, b) => a - b)
  console.log(`\n${k}: buffered ahead of currentTime, median ${fixed(percentile(sorted, 50), 0)} ms (${xs.length} samples)`)
}
console.log(`\nresult: ${await writeResult('latency', result)}`)
