/**
 * `rtspkit serve` as a user runs it: files on paths, URLs printed at start, a publisher
 * (rtspkit push) on another path read back by ffmpeg, one log line per session, a clean
 * exit on SIGTERM, and usage errors with exit status 2.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killChild, readUntil, runCli, runProcess, spawnCli, waitForExit } from '../helpers/cli.js'
import { decodeErrors, ffprobeUrl, ffprobeFile, streamsOf } from '../helpers/media-check.js'

const SAMPLE = 'assets/sample.mp4'

test('rtspkit serve: serves a file, takes a publisher, logs sessions, stops on SIGTERM', { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-serve-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const server = spawnCli(['serve', '--port', '0', `cam=${SAMPLE}`])
  t.after(() => killChild(server))
  let log = ''
  server.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  const m = await readUntil(server.stdout!, /(rtsp:\/\/127\.0\.0\.1:\d+)\/cam\s/, 15_000)
  const base = m[1]!

  // A file path, read by ffprobe over TCP and UDP.
  for (const transport of ['tcp', 'udp'] as const) {
    const probe = await ffprobeUrl(`${base}/cam`, transport)
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264'], transport)
  }

  // Another path: rtspkit push publishes, ffmpeg reads it back.
  const push = spawnCli(['push', SAMPLE, `${base}/live`, '--loop', '--quiet'])
  t.after(() => killChild(push))
  await waitFor(() => /publishes \/live/.test(log), 15_000, () => `no publisher session logged:\n${log}`)
  const out = join(dir, 'live.mp4')
  const rec = await runProcess('ffmpeg', ['-nostdin', '-v', 'error', '-rtsp_transport', 'tcp', '-i', `${base}/live`, '-t', '3', '-c', 'copy', '-y', out], { timeoutMs: 30_000 })
  assert.equal(rec.code, 0, rec.stderr)
  const probe = await ffprobeFile(out)
  assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
  assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
  assert.equal(await decodeErrors(out), '')

  push.kill('SIGTERM')
  assert.equal((await waitForExit(push, 15_000)).code, 0)
  await waitFor(() => /session \w+ ended \(teardown\)/.test(log), 10_000, () => log)
  assert.match(log, /reads \/cam .* over TCP/)
  assert.match(log, /reads \/cam .* over UDP/)

  server.kill('SIGTERM')
  assert.equal((await waitForExit(server, 10_000)).code, 0)
})

test('rtspkit serve: usage errors exit 2 with one line', async () => {
  const bad = await runCli(['serve', 'no-equals-sign'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /^rtspkit: "no-equals-sign" is not <path>=<file>/)
  const half = await runCli(['serve', '--user', 'admin'])
  assert.equal(half.code, 2)
  assert.match(half.stderr, /--user and --password go together/)
  const missing = await runCli(['serve', '--port', '0', 'cam=/nonexistent/clip.mp4'])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /^rtspkit: .*clip\.mp4/)
  assert.equal(missing.stderr.trim().split('\n').length, 1)
})

async function waitFor(cond: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(message())
    await new Promise((r) => setTimeout(r, 100))
  }
}
