/**
 * `rtspkit serve --config` (issue 15): three paths pulled from GStreamer's RTSP server are
 * recorded into segments; per-path users are enforced; SIGHUP reloads the file, leaving the
 * unchanged path recording in the same chain of segments while a removed path stops and an
 * added one starts.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGstServer } from '../helpers/gst-server.js'
import { killChild, readUntil, runCli, spawnCli, waitForExit } from '../helpers/cli.js'
import { decodeErrors } from '../helpers/media-check.js'
import { RtspClient, StatusError } from '../../src/index.js'

interface Line {
  type: string
  file: string
  reason?: string
}

async function indexOf(dir: string): Promise<Line[]> {
  const text = await readFile(join(dir, 'index.jsonl'), 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line)
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function pathBlock(name: string, url: string, dir: string, extra = ''): string {
  return `  ${name}:\n    source: ${url}\n    record:\n      path: ${dir}/${name}/%Y%m%d-%H%M%S-%f.mp4\n      segment: 2s\n${extra}`
}

test('serve --config: 3 cameras recorded, per-path users, SIGHUP reload keeps the unchanged path', async (t) => {
  const gst = await startGstServer()
  t.after(() => gst.stop())
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-serve-config-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const cfg = join(dir, 'rtspkit.yml')
  const users = `users:\n  - user: admin\n    password: adminpw\n`
  const viewer = `    users:\n      - user: viewer\n        password: viewerpw\n        actions: [read]\n`
  // van: no source, a publisher pushes to it; recorded once it does.
  const van = `  van:\n    record:\n      path: ${dir}/van/%Y%m%d-%H%M%S-%f.mp4\n      segment: 2s\n`
  const first = `${users}paths:\n${pathBlock('cam1', gst.url('/h264'), dir, viewer)}${pathBlock('cam2', gst.url('/h264aac'), dir)}${pathBlock('cam3', gst.url('/h264'), dir)}${van}`
  await writeFile(cfg, first)

  const child = spawnCli(['serve', '--config', cfg, '--port', '0'])
  t.after(() => killChild(child))
  const m = await readUntil(child.stdout!, /listening on (rtsp:\/\/127\.0\.0\.1:\d+)/, 20_000)
  const base = m[1]!
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))

  const segmentsOf = async (name: string): Promise<Line[]> => (await indexOf(join(dir, name))).filter((l) => l.type === 'segment')
  await waitFor('a finished segment on each of the 3 paths', async () => {
    for (const name of ['cam1', 'cam2', 'cam3']) if ((await segmentsOf(name)).length === 0) return false
    return true
  })

  // A publisher on van (admin may publish anywhere) is recorded.
  const push = runCli(['push', 'assets/sample.mp4', base.replace('rtsp://', 'rtsp://admin:adminpw@') + '/van', '-t', '4', '-q'], { timeoutMs: 30_000 })
  await waitFor('a segment of the pushed path', async () => (await segmentsOf('van')).length > 0)
  assert.equal((await push).code, 0)

  // Per-path users: viewer may read cam1 only; admin everything; no login, nothing.
  const client = new RtspClient({ transport: 'tcp', timeoutMs: 5000 })
  const ok = await client.pull(base.replace('rtsp://', 'rtsp://viewer:viewerpw@') + '/cam1')
  await ok.close()
  await assert.rejects(client.pull(base.replace('rtsp://', 'rtsp://viewer:viewerpw@') + '/cam2'), (e: unknown) => e instanceof StatusError && e.status === 403)
  await assert.rejects(client.pull(`${base}/cam2`), (e: unknown) => e instanceof StatusError && e.status === 401)
  const admin = await client.pull(base.replace('rtsp://', 'rtsp://admin:adminpw@') + '/cam2')
  await admin.close()

  // Reload: cam1 unchanged, cam3 removed, cam4 added.
  const cam1Before = (await indexOf(join(dir, 'cam1'))).filter((l) => l.type === 'segment-start').length
  await writeFile(cfg, `${users}paths:\n${pathBlock('cam1', gst.url('/h264'), dir, viewer)}${pathBlock('cam2', gst.url('/h264aac'), dir)}${pathBlock('cam4', gst.url('/h264aac'), dir)}${van}`)
  child.kill('SIGHUP')
  await waitFor('the reload', async () => /reloaded .*added cam4.*removed cam3.*unchanged cam1, cam2, van/.test(stderr))
  await waitFor('cam4 recording', async () => (await segmentsOf('cam4')).length > 0)
  assert.equal((await segmentsOf('cam3')).at(-1)!.reason, 'stop')
  // cam1 went on cutting at its segment length: no segment of it was ended by the reload.
  assert.ok((await indexOf(join(dir, 'cam1'))).filter((l) => l.type === 'segment-start').length >= cam1Before)
  assert.ok((await segmentsOf('cam1')).every((s) => s.reason === 'segment'), JSON.stringify(await segmentsOf('cam1')))

  // A broken config on reload is reported and the running one kept.
  await writeFile(cfg, `paths:\n  cam1:\n    record: { path: x.mkv }\n`)
  child.kill('SIGHUP')
  await waitFor('the refused reload', async () => /not reloaded .*rtspkit\.yml:3: paths\.cam1\.record\.path: "x\.mkv" has no time conversion/.test(stderr))

  child.kill('SIGTERM')
  const exit = await waitForExit(child, 20_000)
  assert.equal(exit.code, 0, stderr)
  for (const name of ['cam1', 'cam2', 'cam3', 'cam4', 'van']) {
    const segs = await segmentsOf(name)
    assert.ok(segs.length > 0, name)
    for (const s of segs) assert.equal(await decodeErrors(join(dir, name, s.file)), '', s.file)
  }
  assert.doesNotMatch(stderr, /adminpw|viewerpw/)
})

test('serve --config logins: a path without users is closed to anonymous readers; "user: any" opens one path, for reading only, over RTSP and HTTP', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-serve-any-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const cfg = join(dir, 'rtspkit.yml')
  await writeFile(
    cfg,
    `users:\n  - user: admin\n    password: adminpw\npaths:\n  cam:\n    source: assets/sample.mp4\n  lobby:\n    source: assets/sample.mp4\n    users:\n      - user: any\n        actions: [read]\n`,
  )
  const child = spawnCli(['serve', '--config', cfg, '--port', '0', '--http', '0'])
  t.after(() => killChild(child))
  const m = await readUntil(child.stdout!, /listening on (rtsp:\/\/127\.0\.0\.1:\d+)[\s\S]*watch in a browser at (http:\/\/127\.0\.0\.1:\d+)/, 20_000)
  const base = m[1]!
  const web = m[2]!
  const client = new RtspClient({ transport: 'tcp', timeoutMs: 5000 })
  const lobby = await client.pull(`${base}/lobby`)
  await lobby.close()
  await assert.rejects(client.pull(`${base}/cam`), (e: unknown) => e instanceof StatusError && e.status === 401)
  const admin = await client.pull(base.replace('rtsp://', 'rtsp://admin:adminpw@') + '/cam')
  await admin.close()
  // Publishing to the open path still needs a login.
  const push = await runCli(['push', 'assets/sample.mp4', `${base}/lobby`, '-t', '1', '-q'], { timeoutMs: 30_000 })
  assert.notEqual(push.code, 0)
  assert.match(push.stderr, /401/)
  // The browser side follows the same rule.
  assert.equal((await fetch(`${web}/lobby/`)).status, 200)
  assert.equal((await fetch(`${web}/cam/`)).status, 401)
  assert.equal((await fetch(`${web}/cam/`, { headers: { authorization: `Basic ${Buffer.from('admin:adminpw').toString('base64')}` } })).status, 200)
})
