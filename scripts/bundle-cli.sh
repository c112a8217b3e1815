#!/usr/bin/env bash
# Bundle the CLI built by tsc (DIST/cli/main.js and the modules it imports) into a few files,
# in place: DIST/cli/main.js becomes the entry and DIST/cli/chunk-*.js hold the code it loads,
# one chunk per set of commands sharing it, so a command still loads only what it runs
# (`rtspkit --version` loads none). Node's ESM loader costs ~1 ms of CPU per module (resolve,
# read, compile, link); a pull loaded ~75 of ours, and the bundle cuts a pull's start-up by
# several hundredths of a CPU second (issue 14, BENCHMARKS.md).
#   - From tsc's JavaScript, not from src/: the code that runs is the code the library ships.
#   - Packages stay outside (--packages=external): mediabunny, ws and werift load as before.
#   - The chunks sit beside main.js, one folder under dist/ like every module the bundle
#     replaces, so their `new URL('../…', import.meta.url)` paths resolve as before.
#   - --keep-names: errors take their name from their class (RtspError's new.target.name).
#   - `rtspkit push` is bundled apart, DIST/cli/push-main.js with all it loads in that one file
#     (main.js imports it as an external): as chunks a push read ~24 files, ~0.03 CPU-s of
#     its start-up, and the push cost is measured whole-run beside ffmpeg (bench/push.ts).
#     It holds its own copy of errors.js and common.js, so it reports its own errors
#     (src/cli/push-main.ts). Whitespace and comments go (--minify-whitespace; names stay)
#     and --charset=ascii escapes the rest: one smaller, one-byte source for V8 to scan.
# The library (dist/index.js and the rest) is left as tsc wrote it.
# Usage: scripts/bundle-cli.sh DIST
set -euo pipefail
cd "$(dirname "$0")/.."
dist="${1:?usage: bundle-cli.sh DIST}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/rtspkit-bundle-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
common=(--bundle --format=esm --platform=node --target=node20.11 --packages=external --keep-names --log-level=warning)
node_modules/.bin/esbuild "$dist/cli/main.js" "${common[@]}" --splitting --external:./push-main.js \
  --outdir="$tmp/main" --entry-names='[name]' --chunk-names='chunk-[hash]'
node_modules/.bin/esbuild "$dist/cli/push-main.js" "${common[@]}" --minify-whitespace --charset=ascii \
  --outfile="$tmp/push-main.js"
rm -f "$dist"/cli/chunk-*.js
mv "$tmp"/main/chunk-*.js "$dist/cli/" 2>/dev/null || true
mv -f "$tmp/main/main.js" "$dist/cli/main.js"
mv -f "$tmp/push-main.js" "$dist/cli/push-main.js"
chmod 755 "$dist/cli/main.js"
