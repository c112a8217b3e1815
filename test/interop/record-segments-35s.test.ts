/**
 * Issue 15's own check, at its own scale: 35 s of a GStreamer camera recorded with
 * `--segment 10s` gives 4 files (10, 10, 10 and 5 s), each starting with a key frame and
 * decoding clean in ffmpeg, whose durations sum to the recorded time within one frame.
 * (record-segments.test.ts runs the same check at 2 s, beside kill -9 and outages.)
 */
import { test } from 'node:test'
import { startGstServer } from '../helpers/gst-server.js'
import { checkSegmentedPull } from '../helpers/segments.js'

test('35 s with --segment 10s: 4 files from key frames, decoding clean, tiling the recording', async (t) => {
  const server = await startGstServer()
  t.after(() => server.stop())
  await checkSegmentedPull(t, server.url('/h264aac'), 10, 35)
})
