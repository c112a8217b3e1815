/**
 * util/code-cache.ts (issue 14): mediabunny's bundle loads the same through the V8 code cache;
 * the first process writes the cache at exit, atomically, into a directory only its user may
 * write; a later one uses it and leaves it as is; a directory others may write is not used.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const MODULE = fileURLToPath(new URL('../../../src/util/code-cache.ts', import.meta.url))

/** A child that loads mediabunny through loadCommonJs: 'compiled' (through the cache), 'required' (plain require), 'different' (not the same API). */
function load(cacheHome: string, extraEnv: Record<string, string> = {}): string {
  const script = `
    import { createRequire } from 'node:module'
    import { loadCommonJs } from ${JSON.stringify(MODULE)}
    const mb = loadCommonJs(createRequire(${JSON.stringify(MODULE)}), 'mediabunny')
    const plain = createRequire(${JSON.stringify(MODULE)})('mediabunny')
    const api = Object.keys(mb).sort().join(',') === Object.keys(plain).sort().join(',') && typeof mb.Input === 'function'
    // Compiled here (a copy of its own), or plain require's module.
    console.log(api ? (mb.Input === plain.Input ? 'required' : 'compiled') : 'different')
  `
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['NODE_TEST_CONTEXT']
  delete env['NODE_DISABLE_COMPILE_CACHE']
  Object.assign(env, { XDG_CACHE_HOME: cacheHome }, extraEnv)
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

test('the first run writes the cache at exit, the next one uses it unchanged', { skip: process.platform === 'win32' }, (t) => {
  const home = mkdtempSync(path.join(tmpdir(), 'rtspkit-cc-'))
  t.after(() => rmSync(home, { recursive: true, force: true }))
  const dir = path.join(home, 'rtspkit', 'v8')

  assert.equal(load(home), 'compiled')
  const files = readdirSync(dir)
  assert.equal(files.length, 1, `one cache file, no temporary left: ${files.join(' ')}`)
  assert.match(files[0]!, /^mediabunny\.node\.cjs-[0-9a-f]+\.v8$/)
  const file = path.join(dir, files[0]!)
  const first = statSync(file)
  assert.equal(first.mode & 0o777, 0o600)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.ok(first.size > 0)

  // Accepted by V8: not written again.
  assert.equal(load(home), 'compiled')
  assert.deepEqual(readdirSync(dir), files)
  assert.equal(statSync(file).mtimeMs, first.mtimeMs)
})

test('a cache directory others may write is neither read nor written; NODE_DISABLE_COMPILE_CACHE turns it off', { skip: process.platform === 'win32' }, (t) => {
  const home = mkdtempSync(path.join(tmpdir(), 'rtspkit-cc-'))
  t.after(() => rmSync(home, { recursive: true, force: true }))
  const dir = path.join(home, 'rtspkit', 'v8')

  assert.equal(load(home, { NODE_DISABLE_COMPILE_CACHE: '1' }), 'required')
  assert.throws(() => readdirSync(dir), /ENOENT/)

  assert.equal(load(home), 'compiled')
  chmodSync(dir, 0o777)
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f))
  assert.equal(load(home), 'compiled')
  assert.deepEqual(readdirSync(dir), [])
})

test('the cache directory keeps the newest 8 files: a new key prunes the oldest', { skip: process.platform === 'win32' }, (t) => {
  const home = mkdtempSync(path.join(tmpdir(), 'rtspkit-cc-'))
  t.after(() => rmSync(home, { recursive: true, force: true }))
  const dir = path.join(home, 'rtspkit', 'v8')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // Ten caches of earlier versions, oldest first; and a file that is not a cache.
  const old = Array.from({ length: 10 }, (_, i) => `mediabunny.node.cjs-old${i}.v8`)
  old.forEach((f, i) => {
    writeFileSync(path.join(dir, f), 'x', { mode: 0o600 })
    utimesSync(path.join(dir, f), 1_000_000 + i, 1_000_000 + i)
  })
  writeFileSync(path.join(dir, 'notes.txt'), 'kept')

  assert.equal(load(home), 'compiled')
  const left = readdirSync(dir).sort()
  const mine = left.filter((f) => f.endsWith('.v8') && !f.includes('-old'))
  assert.equal(mine.length, 1, left.join(' '))
  // Ours and the 7 newest of the old ones; other files untouched.
  assert.deepEqual(left.filter((f) => f.includes('-old')), old.slice(3).sort())
  assert.ok(left.includes('notes.txt'))
})
