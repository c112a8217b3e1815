/**
 * Issue 11: the CLI refuses bad options and URLs before connecting, with exit status 2 and
 * one line naming the option and the allowed values (the library's InvalidArgumentError
 * and the command line's own checks alike).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { runCli } from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'rtspkit-cli-args-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const out = join(dir, 'out.mp4')

describe('rtspkit: invalid arguments exit 2 with one line', { concurrency: true }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['pull --transport quic', ['pull', 'rtsp://127.0.0.1:9/x', '-o', out, '--transport', 'quic'], /--transport must be auto, tcp, udp, http or multicast, not "quic"/],
    ['pull --timeout -5', ['pull', 'rtsp://127.0.0.1:9/x', '-o', out, '--timeout=-5'], /--timeout must be a positive number/],
    ['pull --timeout NaN', ['pull', 'rtsp://127.0.0.1:9/x', '-o', out, '--timeout', 'abc'], /--timeout must be a positive number/],
    ['pull of an http:// URL (password not echoed)', ['pull', 'http://u:hunter2@127.0.0.1:9/x', '-o', out], /url must be rtsp:\/\/ or rtsps:\/\//],
    ['probe of a bare host', ['probe', '127.0.0.1/stream'], /url must be rtsp:\/\/ or rtsps:\/\//],
    ['relay to a non-rtsp URL', ['relay', 'rtsp://127.0.0.1:9/x', 'http://127.0.0.1:9/y'], /url must be rtsp:\/\/ or rtsps:\/\//],
    ['relay --transport auto (push side takes tcp|udp)', ['relay', 'rtsp://127.0.0.1:9/x', 'rtsp://127.0.0.1:9/y', '--transport', 'auto'], /--transport must be tcp or udp/],
  ]
  for (const [name, args, pattern] of cases) {
    test(name, async () => {
      const r = await runCli(args, { timeoutMs: 20_000 })
      assert.equal(r.code, 2, r.stderr)
      const lines = r.stderr.trim().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      assert.match(lines[0]!, /^rtspkit: /)
      assert.match(lines[0]!, pattern)
      assert.doesNotMatch(r.stderr, /hunter2/)
    })
  }
})
