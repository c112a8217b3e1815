/**
 * Issue 16: a supervised pull with a Range (a file's `npt=`, a recorder's `clock=`) resumes
 * where it dropped, not at the caller's start (RFC 2326 §12.29); a live pull (no Range)
 * reconnects as before. The scripted camera echoes the PLAY Range in its reply and stops its
 * media after 40 RTP packets (about a second at 30 fps) on the first connection only: the
 * read timeout ends that session and the supervisor sends a second PLAY, which must start at
 * the Range asked for plus the last pts the first session gave (RTP time, not wall-clock).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startFakeCamera } from '../../helpers/fake-camera.js'
import { RtspClient } from '../../../src/index.js'
import type { PlayRange } from '../../../src/index.js'
import { parseRange } from '../../../src/rtsp/headers/range.js'

/** The PLAY Range headers a supervised pull sends, up to its first frames after a reconnect, and the first session's last pts. */
async function playRanges(range: PlayRange | undefined): Promise<{ ranges: string[]; lastPts: number }> {
  let lastPts = 0
  const ranges: string[] = []
  const camera = await startFakeCamera({
    intercept: (req) => {
      if (req.method === 'PLAY') ranges.push(req.headers['range'] ?? '')
      return false
    },
    // The reply's Range is the one asked for (a server seeking exactly there).
    playHeaders: () => ({ Range: ranges.at(-1) || 'npt=0.000-' }),
    mediaFilter: (n) => ranges.length > 1 || n < 40,
  })
  try {
    const sup = await new RtspClient({ transport: 'tcp', readTimeoutMs: 1000 }).supervise(camera.url(), {
      ...(range !== undefined ? { range } : {}),
      reconnect: { initialDelayMs: 50, maxDelayMs: 100 },
    })
    sup.session!.on('frame', (f) => {
      lastPts = Math.max(lastPts, f.pts)
    })
    let after = 0
    for await (const _ of sup.frames()) if (sup.reconnects >= 1 && ++after >= 3) break
    return { ranges, lastPts }
  } finally {
    await camera.stop()
  }
}

/** The start of a PLAY Range header, in seconds (NPT, or Unix time for clock=). */
function startOf(header: string | undefined, unit: 'npt' | 'clock'): number {
  const r = parseRange(header ?? '')
  assert.equal(r.unit, unit, header)
  assert.equal(typeof r.start, 'number', header)
  return r.start as number
}

describe('PullSupervisor: a reconnect resumes a Range where it dropped', () => {
  test('npt=: the second PLAY starts at the position reached, the end is kept', async () => {
    const { ranges, lastPts } = await playRanges({ start: 10, end: 60 })
    assert.equal(ranges[0], 'npt=10.000-60.000')
    assert.ok(lastPts > 0.2, `the first session played ${lastPts} s`)
    const resumed = startOf(ranges[1], 'npt')
    assert.ok(Math.abs(resumed - (10 + lastPts)) < 0.002, `${ranges[1]} after ${lastPts} s`)
    assert.equal(parseRange(ranges[1]!).end, 60)
  })

  test('clock=: the second PLAY starts at the recording time reached (ONVIF replay with --reconnect)', async () => {
    const start = new Date('2026-12-01T10:00:00Z')
    const { ranges, lastPts } = await playRanges({ start })
    assert.equal(ranges[0], 'clock=20261201T100000Z-')
    assert.ok(lastPts > 0.2, `the first session played ${lastPts} s`)
    const resumed = startOf(ranges[1], 'clock')
    assert.ok(Math.abs(resumed - (start.getTime() / 1000 + lastPts)) < 0.002, `${ranges[1]} after ${lastPts} s`)
  })

  test('live (no Range): every PLAY asks for npt=0.000- as before', async () => {
    const { ranges } = await playRanges(undefined)
    assert.ok(ranges.length >= 2)
    for (const r of ranges) assert.equal(r, 'npt=0.000-')
  })
})
