#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { probe } from './probe.js'
import { pull } from './pull.js'
import { push } from './push.js'
import { relay } from './relay.js'
import { serve } from './serve.js'
import { demo } from './demo.js'
import { USAGE, UsageError, formatError } from './common.js'
import { RtspError } from '../errors.js'

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { probe, pull, push, relay, serve, demo }

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  const run = COMMANDS[command]
  if (run === undefined) throw new UsageError(`unknown command "${command}"; see rtspkit --help`)
  return run(rest)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    // Everything should be released by now; never hang on a stray handle.
    setTimeout(() => process.exit(code), 3000).unref()
  },
  (err: unknown) => {
    process.stderr.write(`${formatError(err)}\n`)
    const code =
      err instanceof UsageError || (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
        ? 2
        : err instanceof RtspError && err.code === 'RTSP_ERR_ABORTED'
          ? 130
          : 1
    process.exitCode = code
    setTimeout(() => process.exit(code), 3000).unref()
  },
)
