/**
 * Every ```ts / ```js block of README.md runs, as written, on this Node (20 here) against a
 * local rtspkit server. The only rewrites are the ones a reader makes in their head:
 * - `'rtspkit'` is the built package (dist/index.js; `npm run build` first);
 * - every rtsp:// URL in a string is the local server's stream (H.264 + AAC); a free
 *   port replaces fixed ones (`port: 8554`, `.listen(8080`); media file names
 *   (`'clip.mp4'`) are a real clip;
 * - names a block uses without defining get a value: `url` (a path that takes a publisher),
 *   `sps`, `pps`, `idrNal` (a real H.264 picture), `signal`; package exports it uses
 *   without importing are imported (a block continuing an earlier one).
 * A block must finish its top-level code and then exit by itself (no handle left open).
 * Markers in an HTML comment on the line before a block:
 * - `<!-- readme-test: skip (reason) -->` — not run (browser code, an excerpt);
 * - `<!-- readme-test: keeps-running -->` — a service: it must reach its end without an
 *   error and is then stopped.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, before, describe, test } from 'node:test'
import { REPO_ROOT } from '../helpers/cli.js'
import { makeFixtureClip } from '../helpers/media-fixture.js'
import { RtspServer } from '../../src/index.js'
import * as rtspkit from '../../src/index.js'

interface Block {
  line: number
  lang: string
  code: string
  skip?: string
  keepsRunning: boolean
}

/** Fenced code blocks of a Markdown text in ts/js, with the marker comment before each. */
export function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|js|javascript|mjs)\s*$/.exec(lines[i]!)
    if (open === null) {
      // Skip over other fenced blocks (their contents are not Markdown).
      if (/^```/.test(lines[i]!)) while (++i < lines.length && !/^```\s*$/.test(lines[i]!));
      continue
    }
    let prev = i - 1
    while (prev >= 0 && lines[prev]!.trim() === '') prev--
    const marker = prev >= 0 ? /^<!--\s*readme-test:\s*([\w-]+)\s*(?:\((.*)\))?\s*-->$/.exec(lines[prev]!.trim()) : null
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++
    blocks.push({
      line: i + 1,
      lang: open[1]!,
      code: lines.slice(start, end).join('\n'),
      skip: marker?.[1] === 'skip' ? (marker[2] ?? 'marked skip') : undefined,
      keepsRunning: marker?.[1] === 'keeps-running',
    })
    i = end
  }
  return blocks
}

const DIST = pathToFileURL(join(REPO_ROOT, 'dist/index.js')).href
const EXPORTS = Object.keys(rtspkit)

let dir: string
let server: RtspServer
let clipPath: string
let fixture: { sps: string; pps: string; idr: string[] }

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rtspkit-readme-'))
  const clip = await makeFixtureClip({ seconds: 2, fps: 25, gop: 25, size: '160x120' })
  const idr = clip.videoFrames.find((f) => f.keyFrame)!.data.filter((n) => (n[0]! & 0x1f) === 5)
  fixture = { sps: clip.sps.toString('hex'), pps: clip.pps.toString('hex'), idr: idr.map((n) => n.toString('hex')) }
  // A clip on disk for the blocks that serve files.
  const { createRecorder } = await import('../../src/output/index.js')
  clipPath = join(dir, 'clip.mp4')
  const rec = await createRecorder({ format: 'mp4', tracks: clip.tracks, sink: clipPath })
  for (const f of clip.frames) await rec.write(f)
  await rec.finalize()
  server = new RtspServer({ host: '127.0.0.1', port: 0 })
  await server.addFile('stream', clipPath)
  await server.listen()
})
after(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The block as a module that runs here (see the header for every rewrite). */
function rewrite(block: Block, index: number): string {
  let code = block.code
  const source = server.url('stream')
  // Module specifiers first, so that later rewrites of strings leave them alone.
  code = code.replace(/from\s+(['"])rtspkit\1/g, `from '${DIST}'`)
  code = code.replace(/(['"`])rtsps?:\/\/[^'"`\s]*\1/g, `'${source}'`)
  code = code.replace(/(['"])[\w./-]+\.(?:mp4|mov|mkv|m4v)\1/g, `'${clipPath}'`)
  code = code.replace(/(['"])(?!\/)[\w-]+\.ts\1(?=\s*[),])/g, `'${clipPath}'`)
  code = code.replace(/\bport:\s*\d+/g, 'port: 0').replace(/\.listen\(\s*\d+/g, '.listen(0')
  const declared = (name: string) => new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|import\\s[^;]*\\b${name}\\b[^;]*from`).test(code)
  const uses = (name: string) => new RegExp(`(?<![.\\w$])${name}\\b`).test(code)
  const prelude: string[] = []
  const missing = EXPORTS.filter((n) => uses(n) && !declared(n))
  if (missing.length > 0) prelude.push(`import { ${missing.join(', ')} } from '${DIST}'`)
  const given: Record<string, string> = {
    url: `const url = '${server.url(`readme-${index}`)}'`,
    sps: `const sps = Buffer.from('${fixture.sps}', 'hex')`,
    pps: `const pps = Buffer.from('${fixture.pps}', 'hex')`,
    idrNal: `const idrNal = Buffer.from('${fixture.idr[0]}', 'hex')`,
    signal: 'const signal = AbortSignal.timeout(60_000)',
  }
  for (const [name, decl] of Object.entries(given)) if (uses(name) && !declared(name)) prelude.push(decl)
  return `${prelude.join('\n')}\n${code}\n;console.log('README_BLOCK_DONE')\n`
}

function run(file: string, keepsRunning: boolean): Promise<{ code: number | null; stdout: string; stderr: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let hung = false
    let exitTimer: NodeJS.Timeout | undefined
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
      if (exitTimer === undefined && stdout.includes('README_BLOCK_DONE')) {
        // Its code has run: it must now exit by itself (a service is stopped here).
        exitTimer = setTimeout(() => {
          hung = !keepsRunning
          child.kill('SIGKILL')
        }, keepsRunning ? 500 : 5000)
      }
    })
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const limit = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, 60_000)
    child.on('exit', (code) => {
      clearTimeout(limit)
      clearTimeout(exitTimer)
      resolve({ code, stdout, stderr, hung })
    })
  })
}

describe('README examples run as written', () => {
  const blocks = readmeBlocks(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'))
  test('the README has code blocks to run', () => assert.ok(blocks.length >= 3, `${blocks.length} blocks`))
  blocks.forEach((block, index) => {
    const name = `README.md:${block.line} (${block.lang}) ${block.code.split('\n').find((l) => l.trim() !== '' && !l.startsWith('import'))?.trim().slice(0, 60) ?? ''}`
    test(name, { skip: block.skip }, async () => {
      const file = join(dir, `block-${block.line}.${block.lang.startsWith('j') || block.lang === 'mjs' ? 'mjs' : 'mts'}`)
      writeFileSync(file, rewrite(block, index))
      const r = await run(file, block.keepsRunning)
      assert.ok(r.stdout.includes('README_BLOCK_DONE'), `the block did not finish (exit ${r.code}):\n${r.stderr.slice(0, 2000)}`)
      assert.ok(!r.hung, `the block finished but did not exit within 5 s: something is left open\n${r.stderr.slice(0, 2000)}`)
      if (!block.keepsRunning) assert.equal(r.code, 0, r.stderr.slice(0, 2000))
    })
  })
})
