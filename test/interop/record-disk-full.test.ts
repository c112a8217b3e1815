/**
 * A real full disk (issue 15): segments recorded from GStreamer's RTSP server onto a 2 MB
 * tmpfs, most of it taken by a filler file. When it fills, a RecordingWriteError names the
 * file and says ENOSPC; the RTSP session goes on; once the filler is deleted recording resumes
 * in a new segment, and every segment written before, and the index lines held back while
 * full, are there and decode clean. Mounting needs root: skipped (saying so) otherwise.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { runProcess } from '../helpers/cli.js'
import { decodeErrors } from '../helpers/media-check.js'
import { RtspClient } from '../../src/index.js'
import { createSegmentedRecorder } from '../../src/record/index.js'
import type { RecordingWriteError, SegmentInfo } from '../../src/record/index.js'

async function waitFor(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('disk full on a 2 MB tmpfs: the error names the file, the session goes on, recording resumes when space returns, nothing written is lost', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to mount a small tmpfs (mount -t tmpfs -o size=2m); the injected-ENOSPC unit test in test/unit/record covers the logic')
    return
  }
  const base = await mkdtemp(join(tmpdir(), 'rtspkit-diskfull-'))
  const disk = join(base, 'disk')
  await mkdir(disk)
  const mount = await runProcess('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', disk])
  // One hook, in this order: the recording, the server, the tmpfs, the directory.
  let rec: Awaited<ReturnType<typeof createSegmentedRecorder>> | undefined
  let server: Awaited<ReturnType<typeof startGstServer>> | undefined
  t.after(async () => {
    await rec?.stop()
    await server?.stop()
    if (mount.code === 0) await runProcess('umount', ['-l', disk])
    await rm(base, { recursive: true, force: true })
  })
  if (mount.code !== 0) {
    t.skip(`cannot mount a tmpfs here (${mount.stderr.trim() || `exit ${mount.code}`}): no CAP_SYS_ADMIN in this container?`)
    return
  }
  const filler = join(disk, 'filler')
  await writeFile(filler, Buffer.alloc(1200 * 1024))

  server = await startGstServer()
  const session = await new RtspClient({ transport: 'tcp' }).pull(server.url('/h264'))
  rec = await createSegmentedRecorder(session, { path: join(disk, 'cam', '%H%M%S-%f.mp4'), segment: '2s', retryMs: 200 })
  const errors: RecordingWriteError[] = []
  const segments: SegmentInfo[] = []
  const starts: string[] = []
  rec!.on('write-error', (e) => errors.push(e))
  rec!.on('segment', (s) => segments.push(s))
  rec!.on('segment-start', (s) => starts.push(s.file))

  // ~250 kB/s into the 800 kB left: full within a few seconds.
  await waitFor('ENOSPC', () => errors.some((e) => e.errno === 'ENOSPC'))
  const full = errors.find((e) => e.errno === 'ENOSPC')!
  assert.equal(full.code, 'RTSP_ERR_OUTPUT')
  assert.ok(full.path.startsWith(disk), full.path)
  assert.match(full.message, /^cannot write \/.*: ENOSPC; the disk is full; free space \(or lower --keep\/--max-size\) and recording resumes$/)
  const closedBeforeFull = segments.filter((s) => s.reason === 'segment').map((s) => s.file)

  // The session goes on while nothing can be written.
  const dropped = rec!.framesDropped
  await waitFor('frames still arriving (dropped while full)', () => rec!.framesDropped >= dropped + 30)

  await rm(filler)
  const startsBefore = starts.length
  await waitFor('a new segment after space returned', () => starts.length > startsBefore)
  const resumed = starts.at(-1)!
  await waitFor('the resumed segment closed whole', () => segments.some((s) => s.file === resumed && s.reason === 'segment'))
  await rec!.stop()

  for (const file of closedBeforeFull) assert.equal(await decodeErrors(file), '', `${file}, written before the disk filled`)
  for (const s of segments) if (s.bytes > 0) assert.equal(await decodeErrors(s.file), '', s.file)
  const index = (await readFile(join(disk, 'cam', 'index.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; file?: string })
  for (const file of [...closedBeforeFull, resumed]) {
    assert.ok(index.some((l) => l.type === 'segment' && file.endsWith(`/${l.file}`)), `index line for ${file}`)
  }
})
