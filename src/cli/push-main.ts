/**
 * `rtspkit push` as main.ts runs a command, its error report included. scripts/bundle-cli.sh
 * bundles this module on its own, into one file with everything a push loads: a push read
 * ~24 files of the CLI's shared chunks, and Node's ESM loader costs about 1 ms of CPU per file
 * (resolve, read, compile, link), ~0.03 CPU-s of a push's start-up (issue 14, bench/push.ts).
 * That file holds its own copy of errors.ts and common.ts, so an error a push throws is not an
 * instance of main.js's classes: it is formatted and given its exit code here, by the copy
 * it belongs to, exactly as main.ts does for the other commands.
 */
import { exitCodeOf, formatError, formatErrorJson } from './common.js'
import { push } from './push.js'

/** Run `rtspkit push argv`; `json` is the global --json flag (errors as JSON on stderr). */
export async function runPush(argv: string[], json: boolean): Promise<number> {
  try {
    return await push(argv)
  } catch (err) {
    process.stderr.write(`${json ? formatErrorJson(err) : formatError(err)}\n`)
    return exitCodeOf(err)
  }
}
