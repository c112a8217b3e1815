#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import nodeModule from 'node:module'

/**
 * common.ts (usage texts, error formatting) with errors.ts and util/url.ts, loaded only where
 * main.ts itself needs them: `rtspkit push` runs from its own bundle with its own copy of
 * them (push-main.ts), and loading these chunks too was ~5 ms of its start-up (issue 14).
 */
const common = () => import('./common.js')

type Command = (argv: string[]) => Promise<number>

// Node 22.1+: compiled code of the modules loaded from here on is cached on disk (issue 14;
// NODE_DISABLE_COMPILE_CACHE turns it off). Node 20 has no such call; there the one large
// file, mediabunny's bundle, goes through util/code-cache.ts instead.
;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()

// Each command is loaded when it runs: `rtspkit --version` or `--help` loads none of them.
const COMMANDS: Record<string, () => Promise<Command>> = {
  probe: async () => (await import('./probe.js')).probe,
  pull: async () => (await import('./pull.js')).pull,
  // Its own bundle, errors handled inside it (push-main.ts): main.ts only passes --json on.
  push: async () => {
    const { runPush } = await import('./push-main.js')
    return (argv) => runPush(argv, flags.json)
  },
  relay: async () => (await import('./relay.js')).relay,
  serve: async () => (await import('./serve.js')).serve,
  demo: async () => (await import('./demo.js')).demo,
  view: async () => (await import('./view.js')).view,
  talk: async () => (await import('./talk.js')).talk,
}

/** Commands with a --json option of their own (output as JSON): the flag is passed on to them. */
const OWN_JSON = new Set(['probe'])

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

interface GlobalFlags {
  /** 0, 1 (-v, --verbose) or 2 (-vv, or -v twice). */
  verbose: number
  json: boolean
  help: boolean
  /** argv without the flags above. */
  rest: string[]
}

/** Take the flags every command shares out of argv, before or after the command, up to a `--`. */
function takeGlobalFlags(argv: readonly string[]): GlobalFlags {
  const flags: GlobalFlags = { verbose: 0, json: false, help: false, rest: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      flags.rest.push(...argv.slice(i))
      break
    }
    if (arg === '--verbose') flags.verbose++
    else if (/^-v+$/.test(arg)) flags.verbose += arg.length - 1
    else if (arg === '--json') flags.json = true
    else if (arg === '--help' || arg === '-h') flags.help = true
    else flags.rest.push(arg)
  }
  flags.verbose = Math.min(flags.verbose, 2)
  return flags
}

async function main(flags: GlobalFlags): Promise<number> {
  const [command, ...rest] = flags.rest
  if (command === '--version' || command === '-V') {
    process.stdout.write(`${version()}\n`)
    return 0
  }
  if (command === 'help') {
    process.stdout.write((await common()).usageOf(rest[0] ?? ''))
    return 0
  }
  if (command === undefined) {
    const { USAGE, UsageError } = await common()
    if (flags.help) {
      process.stdout.write(USAGE)
      return 0
    }
    if (flags.verbose > 0) throw new UsageError('no command; -v is --verbose (--version or -V prints the version); see rtspkit --help')
    process.stderr.write(USAGE)
    return 2
  }
  const load = COMMANDS[command]
  if (load === undefined) {
    const { UsageError } = await common()
    throw new UsageError(command.startsWith('-') ? `unknown option "${command}"; see rtspkit --help` : `unknown command "${command}"; see rtspkit --help`)
  }
  if (flags.help) {
    process.stdout.write((await common()).usageOf(command))
    return 0
  }
  if (flags.verbose > 0) {
    const { enableVerbose } = await import('./verbose.js')
    enableVerbose(flags.verbose)
  }
  const run = await load()
  return run(flags.json && OWN_JSON.has(command) ? [...rest, '--json'] : rest)
}

const flags = takeGlobalFlags(process.argv.slice(2))
main(flags).then(
  (code) => {
    process.exitCode = code
    // Everything should be released by now; never hang on a stray handle.
    setTimeout(() => process.exit(code), 3000).unref()
  },
  async (err: unknown) => {
    const { exitCodeOf, formatError, formatErrorJson } = await common()
    process.stderr.write(`${flags.json ? formatErrorJson(err) : formatError(err)}\n`)
    const code = exitCodeOf(err)
    process.exitCode = code
    setTimeout(() => process.exit(code), 3000).unref()
  },
)
