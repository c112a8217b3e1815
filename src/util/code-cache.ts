/**
 * A CommonJS file compiled through a V8 code cache (`vm.Script` with `cachedData`), for the
 * one large file rtspkit loads, mediabunny's bundle (util/mediabunny.ts). Node 20 has no
 * `module.enableCompileCache()` (22.1+); where Node's own compile cache is on, plain
 * `require` is used and Node caches the file itself.
 *
 * The cache is written at the exit of the first process that finds none (or finds it
 * rejected by V8: another V8, other flags), so it holds the functions that run compiled
 * lazily, not just the top level: for `rtspkit push`, the MP4/MPEG-TS demuxer. It lives in
 * the user's cache directory (XDG_CACHE_HOME, ~/.cache, ~/Library/Caches, %LOCALAPPDATA%;
 * else the temp directory), keyed by the file's path, size and mtime and Node's version
 * and architecture. Code cache is code to run: a directory not owned by this user, or
 * writable by others, is not read nor written. Writes go to a temporary file renamed into
 * place, so concurrent processes never read half a cache. Any failure falls back to plain
 * `require`, silently; NODE_DISABLE_COMPILE_CACHE (Node's own switch) turns it off.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import Module, { createRequire } from 'node:module'
import { homedir, tmpdir } from 'node:os'
import path from 'node:path'
import { Script } from 'node:vm'

type CompiledModule = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void

/** `require(specifier)` (resolved with `require`), compiled through the code cache when it can be. */
export function loadCommonJs(require: NodeJS.Require, specifier: string): unknown {
  if (process.env['NODE_DISABLE_COMPILE_CACHE'] !== undefined || nodeCompileCacheOn()) return require(specifier)
  let file: string
  let source: string
  let key: string
  try {
    file = require.resolve(specifier)
    const st = statSync(file)
    source = readFileSync(file, 'utf8')
    key = hash(`${file}\n${st.size}\n${st.mtimeMs}\n${process.version}\n${process.arch}`)
  } catch {
    return require(specifier)
  }
  const dir = cacheDir()
  const cacheFile = dir === undefined ? undefined : path.join(dir, `${path.basename(file)}-${key}.v8`)
  let cached: Buffer | undefined
  if (cacheFile !== undefined && ownedByUs(dir!)) {
    try {
      cached = readFileSync(cacheFile)
    } catch {
      // None yet.
    }
  }
  let script: Script
  try {
    // The CommonJS wrapper (Node's own, as module.wrap gives it): same arguments, same scope.
    script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename: file, ...(cached !== undefined ? { cachedData: cached } : {}) })
  } catch {
    return require(specifier)
  }
  const mod = { exports: {} as unknown }
  ;(script.runInThisContext() as CompiledModule).call(mod.exports, mod.exports, createRequire(file), mod, file, path.dirname(file))
  if (cacheFile !== undefined && (cached === undefined || script.cachedDataRejected === true)) {
    process.once('exit', () => save(script, dir!, cacheFile))
  }
  return mod.exports
}

function nodeCompileCacheOn(): boolean {
  const getDir = (Module as unknown as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir
  return getDir !== undefined && getDir() !== undefined
}

function cacheDir(): string | undefined {
  const env = process.env
  let base = env['XDG_CACHE_HOME']
  try {
    if (base === undefined || base === '') {
      if (process.platform === 'win32') base = env['LOCALAPPDATA']
      else base = path.join(homedir(), process.platform === 'darwin' ? 'Library/Caches' : '.cache')
    }
  } catch {
    base = undefined
  }
  if (base === undefined || base === '' || !path.isAbsolute(base)) {
    return path.join(tmpdir(), `rtspkit-${process.getuid?.() ?? 'user'}`, 'v8')
  }
  return path.join(base, 'rtspkit', 'v8')
}

/** POSIX: the directory is ours and nobody else may write in it (Windows: per-user already). */
function ownedByUs(dir: string): boolean {
  try {
    const st = statSync(dir)
    if (!st.isDirectory()) return false
    const uid = process.getuid?.()
    return uid === undefined || (st.uid === uid && (st.mode & 0o022) === 0)
  } catch {
    return false
  }
}

function save(script: Script, dir: string, cacheFile: string): void {
  try {
    const data = script.createCachedData()
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!ownedByUs(dir)) return
    const tmp = `${cacheFile}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`
    try {
      writeFileSync(tmp, data, { mode: 0o600 })
      renameSync(tmp, cacheFile)
    } catch {
      // A full disk, say: leave no partial file behind.
      rmSync(tmp, { force: true })
      return
    }
    prune(dir, cacheFile)
  } catch {
    // An unwritable cache only costs the next start-up its compile time.
  }
}

/**
 * Each new key (another install path, an upgrade, another Node) writes a new file and no
 * process reads the old ones again: keep the newest MAX_CACHE_FILES, so the directory stays
 * bounded (a few MB) however many versions come and go. Several installs in use at once
 * each rewrite their own file when it was pruned, at the cost of one compile.
 */
const MAX_CACHE_FILES = 8

function prune(dir: string, kept: string): void {
  try {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.v8'))
      .map((f) => path.join(dir, f))
      .filter((f) => f !== kept)
      .map((f) => ({ f, mtime: statSync(f).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime)
    for (const { f } of files.slice(MAX_CACHE_FILES - 1)) rmSync(f, { force: true })
  } catch {
    // A file another process pruned meanwhile: the next save prunes again.
  }
}

/** 53-bit string hash (cyrb53), as hex: a file name, not a check (V8 checks what it loads). */
function hash(s: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16)
}
