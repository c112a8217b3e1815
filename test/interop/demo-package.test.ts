/**
 * `npx rtspkit demo` from the packed package, as a user gets it: `npm pack` (dist/ built by
 * the test script), installed into an empty folder (dependencies from the npm cache), then run.
 * Proves the bin, the compiled code and the sample clip are really in the package, and
 * that the demo works offline.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT, runProcess } from '../helpers/cli.js'
import { decodeErrors, ffprobeFile, streamsOf } from '../helpers/media-check.js'

test('npx rtspkit demo works from the packed package, offline', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rtspkit-pack-'))
  t.after(() => rm(dir, { recursive: true, force: true }))

  // --ignore-scripts: dist/ is already built; `prepare` would only build it again.
  const pack = await runProcess('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { timeoutMs: 60_000 })
  assert.equal(pack.code, 0, pack.stderr)
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))
  assert.ok(tarball, `npm pack made no tarball: ${pack.stdout} ${pack.stderr}`)

  const app = join(dir, 'app')
  await runProcess('mkdir', ['-p', app])
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'demo-app', version: '1.0.0', private: true }))
  // Dependencies come from the npm cache `npm ci` filled (the registry is asked only for metadata).
  const install = await runProcess('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], { cwd: app, timeoutMs: 120_000 })
  assert.equal(install.code, 0, `npm install of the tarball failed:\n${install.stderr}`)
  assert.ok((await stat(join(app, 'node_modules/rtspkit/assets/sample.mp4'))).size > 10_000, 'the sample clip is shipped')

  const run = await runProcess('npx', ['--offline', 'rtspkit', 'demo', '-o', 'out.mp4', '--duration', '3'], { cwd: app, timeoutMs: 60_000 })
  assert.equal(run.code, 0, `demo failed:\n${run.stderr}`)
  assert.match(run.stderr, /TCP: H264 320x240/)
  assert.match(run.stderr, /UDP: H264 320x240/)
  assert.match(run.stderr, /recorded out\.mp4/)

  const file = join(app, 'out.mp4')
  const probe = await ffprobeFile(file)
  assert.equal(streamsOf(probe, 'video')[0]?.codec_name, 'h264')
  assert.equal(streamsOf(probe, 'audio')[0]?.codec_name, 'aac')
  assert.equal(await decodeErrors(file), '')
})
