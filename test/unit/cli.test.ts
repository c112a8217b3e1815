/**
 * The built CLI's own flags (dist/, built by the test script): help for every command,
 * the version, errors as JSON, and -v / -vv diagnostics on stderr against RtspServer with
 * Digest auth — without a password anywhere.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RtspClient, RtspServer } from '../../src/index.js'
import { REPO_ROOT, killChild, readUntil, runCli, spawnCli } from '../helpers/cli.js'

const COMMANDS = ['probe', 'pull', 'push', 'relay', 'serve', 'demo', 'view', 'talk']
const SAMPLE = fileURLToPath(new URL('../../assets/sample.mp4', import.meta.url))
const PASSWORD = 'cli-Pw#9/secret'

async function digestServer(t: { after(fn: () => unknown): void }): Promise<{ url: string; bare: string }> {
  const server = new RtspServer({ host: '127.0.0.1', port: 0, credentials: { username: 'viewer', password: PASSWORD }, log: () => {} })
  t.after(() => server.close())
  await server.addFile('cam', SAMPLE)
  const { port } = await server.listen()
  return { url: `rtsp://viewer:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/cam`, bare: `rtsp://127.0.0.1:${port}/cam` }
}

function assertNoSecrets(text: string): void {
  assert.ok(!text.includes(PASSWORD) && !text.includes(encodeURIComponent(PASSWORD)), 'the password appears')
  assert.ok(!text.includes('viewer:'), 'user info appears')
  assert.doesNotMatch(text, /response\s*=/i, 'a Digest response appears')
}

describe('rtspkit CLI flags', () => {
  it('--help lists every command and exits 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await runCli(args)
      assert.equal(r.code, 0, r.stderr)
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`rtspkit ${c}\\b`), `${args.join(' ')} lists ${c}`)
      assert.match(r.stdout, /rtspkit <command> --help/)
      assert.match(r.stdout, /-v, --verbose/)
      assert.equal(r.stderr, '')
    }
  })

  it('<command> --help prints that command\'s usage and exits 0 (before or after the command, with other arguments)', async () => {
    // Every command the summary lists, so a new one cannot come without its own usage.
    const summary = (await runCli(['--help'])).stdout
    const listed = [...new Set([...summary.matchAll(/^ {2}rtspkit ([a-z]+)\b/gm)].map((m) => m[1]!))]
    for (const c of COMMANDS) assert.ok(listed.includes(c), `${c} is in the summary`)
    // Every command once; the other spellings on one command (each case is a CLI start-up,
    // and the parsing of the spellings does not depend on the command).
    const cases: Array<[string, string[]]> = listed.map((c) => [c, [c, '--help']])
    for (const args of [['pull', '-h'], ['--help', 'pull'], ['help', 'pull'], ['pull', 'rtsp://x/y', '--bogus', '--help']]) cases.push(['pull', args])
    for (const [c, args] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stdout, new RegExp(`^Usage: rtspkit ${c}\\b`), args.join(' '))
      assert.match(r.stdout, /--verbose/)
      assert.equal(r.stderr, '')
    }
  })

  it('--version and -V print the package version; -v alone is not the version any more', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag])
      assert.equal(r.code, 0)
      assert.equal(r.stdout, `${version}\n`)
    }
    const v = await runCli(['-v'])
    assert.equal(v.code, 2)
    assert.match(v.stderr, /-v is --verbose.*--version/)
  })

  it('no command: the usage on stderr, exit 2; an unknown command or option: one line, exit 2', async () => {
    const none = await runCli([])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /Usage:/)
    assert.equal(none.stdout, '')
    const unknown = await runCli(['fly'])
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stderr, 'rtspkit: unknown command "fly"; see rtspkit --help\n')
  })

  it('--json: errors are one {code, message} object on stderr, with the usual exit status', async () => {
    const cases: Array<{ args: string[]; code: string; status: number }> = [
      { args: ['pull', '--json'], code: 'RTSP_ERR_INVALID_ARGUMENT', status: 2 },
      { args: ['--json', 'pull', 'rtsp://x/y', '-o', 'a.mp4', '--bogus'], code: 'RTSP_ERR_INVALID_ARGUMENT', status: 2 },
      { args: ['fly', '--json'], code: 'RTSP_ERR_INVALID_ARGUMENT', status: 2 },
      // Port 1 on loopback: nothing listens.
      { args: ['probe', `rtsp://viewer:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/cam`, '--json'], code: 'RTSP_ERR_CONNECT', status: 1 },
      { args: ['pull', `rtsp://viewer:${encodeURIComponent(PASSWORD)}@127.0.0.1:1/cam`, '-o', '-', '--format', 'ts', '--json'], code: 'RTSP_ERR_CONNECT', status: 1 },
    ]
    for (const c of cases) {
      const r = await runCli(c.args)
      assert.equal(r.code, c.status, `${c.args.join(' ')}: ${r.stderr}`)
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      const err = JSON.parse(lines[0]!) as Record<string, unknown>
      assert.deepEqual(Object.keys(err), ['code', 'message'])
      assert.equal(err.code, c.code, r.stderr)
      assert.equal(typeof err.message, 'string')
      assertNoSecrets(r.stderr)
    }
  })

  it('probe --json still prints its result as JSON on stdout', { timeout: 30_000 }, async (t) => {
    const { url } = await digestServer(t)
    const r = await runCli(['probe', url, '--json', '--transport', 'tcp'])
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout) as { tracks: Array<{ codec: string }> }
    assert.deepEqual(
      out.tracks.map((x) => x.codec),
      ['H264', 'AAC'],
    )
  })

  it('-v: requests, replies, transport and states on stderr, redacted; no bodies', { timeout: 30_000 }, async (t) => {
    const { url, bare } = await digestServer(t)
    const r = await runCli(['-v', 'probe', url, '--transport', 'tcp'])
    assert.equal(r.code, 0, r.stderr)
    const e = r.stderr
    assert.match(e, new RegExp(`rtspkit: \\[#\\d+\\] > DESCRIBE ${bare.replace(/[.]/g, '\\.')}\\n {4}CSeq: \\d+`))
    assert.match(e, /rtspkit: \[#\d+\] < 401 Unauthorized \(DESCRIBE, [\d.]+ ms\)\n {4}CSeq: \d+/)
    assert.match(e, /\n {4}WWW-Authenticate: Digest /)
    assert.match(e, /\n {4}Authorization: Digest <redacted>\n/)
    assert.match(e, /rtspkit: session \d+: transport tcp \(asked for tcp\)/)
    assert.match(e, /rtspkit: pull \d+ rtsp:\/\/127\.0\.0\.1:\d+\/cam: starting -> playing/)
    assert.match(e, /\(\d+ byte body\)/)
    assert.doesNotMatch(e, /\| m=video/)
    assertNoSecrets(e + r.stdout)
  })

  it('-vv: also SDP bodies and per-second RTP counters of each track', { timeout: 30_000 }, async (t) => {
    const { url } = await digestServer(t)
    const dir = await mkdtemp(join(tmpdir(), 'rtspkit-cli-'))
    t.after(() => rm(dir, { recursive: true, force: true }))
    const r = await runCli(['pull', url, '-o', join(dir, 'out.ts'), '--duration', '2.5', '--transport', 'tcp', '--quiet', '-vv'])
    assert.equal(r.code, 0, r.stderr)
    const e = r.stderr
    assert.match(e, /\n {4}\| v=0\n/)
    assert.match(e, /\n {4}\| m=video \d+ RTP\/AVP \d+/)
    assert.match(e, /rtspkit: pull \d+ track 0: \d+ pkt\/s, \d+ kbit\/s, \d+ frames\/s, lost 0, dropped 0, jitter [\d.]+ ms, RTCP in \d+, out \d+/)
    assert.match(e, /rtspkit: pull \d+ track 1: \d+ pkt\/s/)
    // RtspServer sends a sender report as each track starts.
    assert.match(e, /track 0: .*RTCP in [1-9]/)
    assertNoSecrets(e + r.stdout)
  })

  it('push -vv: ANNOUNCE with its SDP, push states and per-second send counters', { timeout: 30_000 }, async (t) => {
    const server = new RtspServer({ host: '127.0.0.1', port: 0, log: () => {} })
    t.after(() => server.close())
    const { port } = await server.listen()
    const r = await runCli(['-vv', 'push', SAMPLE, `rtsp://127.0.0.1:${port}/live`, '--duration', '2.5', '--quiet'])
    assert.equal(r.code, 0, r.stderr)
    const e = r.stderr
    assert.match(e, /rtspkit: \[#\d+\] > ANNOUNCE rtsp:\/\/127\.0\.0\.1:\d+\/live\n {4}CSeq: \d+/)
    assert.match(e, /\n {4}\| m=video \d+ RTP\/AVP \d+/)
    assert.match(e, /rtspkit: push \d+ rtsp:\/\/127\.0\.0\.1:\d+\/live: starting -> recording/)
    assert.match(e, /rtspkit: push \d+ track 0: \d+ pkt\/s, \d+ kbit\/s, \d+ frames\/s, dropped 0/)
    assert.match(e, /rtspkit: push \d+ rtsp:\/\/127\.0\.0\.1:\d+\/live: recording -> closing/)
  })

  it('serve -v: the server\'s requests, replies and sessions on stderr, redacted', { timeout: 30_000 }, async (t) => {
    const serve = spawnCli(['serve', '-v', '--port', '0', '--user', 'viewer', `cam=${SAMPLE}`], { env: { RTSPKIT_PASSWORD: PASSWORD } })
    t.after(() => killChild(serve))
    let log = ''
    serve.stderr!.on('data', (b: Buffer) => (log += b.toString()))
    const m = await readUntil(serve.stdout!, /(rtsp:\/\/127\.0\.0\.1:\d+)\/cam\s/, 15_000)
    const session = await new RtspClient({ transport: 'tcp' }).pull(`${m[1]!.replace('rtsp://', `rtsp://viewer:${encodeURIComponent(PASSWORD)}@`)}/cam`)
    await session.close()
    for (const started = Date.now(); !/server session \w+ closed/.test(log) && Date.now() - started < 10_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.match(log, /rtspkit: server \[127\.0\.0\.1:\d+\] < DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/cam\n {4}CSeq: \d+/)
    assert.match(log, /rtspkit: server \[127\.0\.0\.1:\d+\] > 401 Unauthorized \(DESCRIBE\)/)
    assert.match(log, /\n {4}Authorization: Digest <redacted>\n/)
    assert.match(log, /rtspkit: server session \w+ opened: reader of \/cam from 127\.0\.0\.1 over tcp/)
    assert.match(log, /rtspkit: server session \w+ closed: reader of \/cam from 127\.0\.0\.1 over tcp \(teardown\)/)
    assertNoSecrets(log)
  })
})
