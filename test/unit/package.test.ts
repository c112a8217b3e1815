/**
 * The package as npm would publish it (dist/ built by the test script): what `npm pack`
 * puts in it, publint and "Are the Types Wrong?" on the tarball, the executable bin,
 * `require('rtspkit')` from CommonJS, and TypeDoc's check that every type a public
 * signature names is exported.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH, REPO_ROOT, runProcess } from '../helpers/cli.js'

interface PackedFile {
  path: string
  mode: number
}

let dir = ''
let tarball = ''
let files: PackedFile[] = []

before(async () => {
  await stat(join(REPO_ROOT, 'dist/index.js')).catch(() => {
    throw new Error('dist/ is missing: run npm run build (scripts/test.sh does) before this test')
  })
  dir = await mkdtemp(join(tmpdir(), 'rtspkit-package-'))
  // --ignore-scripts: dist/ is already built; `prepare` would build it again.
  const pack = await runProcess('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { timeoutMs: 60_000 })
  assert.equal(pack.code, 0, pack.stderr)
  const [info] = JSON.parse(pack.stdout) as [{ filename: string; files: PackedFile[] }]
  tarball = join(dir, info.filename)
  files = info.files
})

after(() => rm(dir, { recursive: true, force: true }))

test('npm pack: dist, assets, README, LICENSE, CHANGELOG; no sources, tests, benchmarks or maps', () => {
  const paths = files.map((f) => f.path)
  for (const required of [
    'package.json',
    'README.md',
    'LICENSE',
    'CHANGELOG.md',
    'assets/sample.mp4',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
  ]) {
    assert.ok(paths.includes(required), `${required} is not in the package`)
  }
  const unwanted = paths.filter(
    (p) =>
      /^(src|test|bench|scripts|docs|node_modules)\//.test(p) ||
      // Source maps would point at src/, which is not shipped.
      p.endsWith('.map') ||
      (p.endsWith('.ts') && !p.endsWith('.d.ts')) ||
      /^tsconfig|^typedoc|^\.|\.tgz$/.test(p),
  )
  assert.deepEqual(unwanted, [], 'files that should not be published')
  const outside = paths.filter((p) => !/^(dist|assets)\//.test(p) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(p))
  assert.deepEqual(outside, [], 'top-level files beyond the listed ones')
  // Every declaration has its module beside it.
  for (const p of paths.filter((x) => x.endsWith('.d.ts'))) {
    assert.ok(paths.includes(p.replace(/\.d\.ts$/, '.js')), `${p} has no .js`)
  }
})

test('the bin is executable, in dist/ and in the package, and starts with a node shebang', async () => {
  const bin = files.find((f) => f.path === 'dist/cli/main.js')
  assert.ok(bin)
  assert.ok((bin.mode & 0o111) === 0o111, `packed mode ${bin.mode.toString(8)}`)
  assert.ok(((await stat(CLI_PATH)).mode & 0o111) === 0o111, 'dist/cli/main.js is not executable')
  assert.match(await readFile(CLI_PATH, 'utf8'), /^#!\/usr\/bin\/env node\n/)
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  assert.equal(pkg.bin.rtspkit, './dist/cli/main.js')
  // Run it directly, as npm's link would: no "Permission denied".
  const run = await runProcess(CLI_PATH, ['--version'])
  assert.equal(run.code, 0, run.stderr)
  assert.match(run.stdout, /^\d+\.\d+\.\d+/)
})

test('package metadata: license, repository, homepage, bugs, keywords, exports', async () => {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>
  assert.equal(pkg.license, 'MIT')
  assert.match(await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} rtspkit contributors/)
  assert.ok(pkg.repository && pkg.homepage && pkg.bugs)
  assert.ok(Array.isArray(pkg.keywords) && pkg.keywords.includes('rtsp'))
  const exports = pkg.exports as Record<string, unknown>
  assert.equal(exports['./package.json'], './package.json')
  assert.deepEqual(Object.keys(exports['.'] as object), ['types', 'default'], 'types first, then one default for import and require')
})

test('publint finds nothing in the tarball', { timeout: 60_000 }, async () => {
  const r = await runProcess(join(REPO_ROOT, 'node_modules/.bin/publint'), ['run', tarball, '--strict'], { timeoutMs: 60_000 })
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /All good/)
})

// Profile node16: TypeScript's node16/nodenext and bundler resolution (which read `exports`);
// the old node10 resolution cannot see subpath exports such as rtspkit/player.
test('attw: types resolve for every entry point (CJSResolvesToESM accepted: require() loads the ESM build)', { timeout: 60_000 }, async () => {
  const r = await runProcess(
    join(REPO_ROOT, 'node_modules/.bin/attw'),
    [tarball, '--format', 'ascii', '--no-color', '--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm'],
    { timeoutMs: 60_000 },
  )
  assert.equal(r.code, 0, r.stdout + r.stderr)
})

test("require('rtspkit') from a .cjs file", { timeout: 30_000 }, async (t) => {
  if (!(process.features as { require_module?: boolean }).require_module) {
    t.skip(`Node ${process.version} has no require(esm) (Node >= 20.19 and 22.12 have it); use import()`)
    return
  }
  const app = join(dir, 'cjs-app')
  await mkdir(join(app, 'node_modules'), { recursive: true })
  await symlink(REPO_ROOT, join(app, 'node_modules', 'rtspkit'), 'dir')
  await writeFile(
    join(app, 'main.cjs'),
    `'use strict'
const rtspkit = require('rtspkit')
const { version } = require('rtspkit/package.json')
const names = ['RtspClient', 'RtspServer', 'createRecorder', 'RtspError', 'redactUrl', 'openFileSource']
process.stdout.write(JSON.stringify({ version, types: names.map((n) => typeof rtspkit[n]), redacted: rtspkit.redactUrl('rtsp://u:secret@h/x') }))
`,
  )
  const r = await runProcess(process.execPath, ['main.cjs'], { cwd: app })
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { version: string; types: string[]; redacted: string }
  assert.match(out.version, /^\d+\.\d+\.\d+/)
  assert.deepEqual(out.types, ['function', 'function', 'function', 'function', 'function', 'function'])
  assert.doesNotMatch(out.redacted, /secret/)
})

test('TypeDoc: every type a public signature names is exported (no internal type leaks)', { timeout: 120_000 }, async () => {
  const r = await runProcess(join(REPO_ROOT, 'node_modules/.bin/typedoc'), ['--emit', 'none'], { timeoutMs: 120_000 })
  assert.equal(r.code, 0, r.stdout + r.stderr)
})
