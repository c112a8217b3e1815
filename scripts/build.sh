#!/usr/bin/env bash
# npm run build: compile src/ into a fresh folder, mark the CLI executable, then swap it in
# for dist/ in one rename. A fresh folder means no stale output of a moved or deleted source
# file ends up in `npm pack`; the swap means tests running from dist/ meanwhile never see a
# half-written tree. tsc writes dist/cli/main.js without the execute bit, and `npx rtspkit`
# in a checkout whose bin npm has not re-linked fails with "Permission denied" without it.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(mktemp -d .build-XXXXXX)"
old="$out.old"
trap 'rm -rf "$out" "$old"' EXIT

chmod 755 "$out"
# Like plain tsc, type errors still leave the emitted output in place (tsc exits 2 when it
# emitted despite errors) and make the build fail.
status=0
node_modules/.bin/tsc -p tsconfig.build.json --outDir "$out" || status=$?
if [[ $status -ne 0 && $status -ne 2 ]]; then exit "$status"; fi
# The CLI as a few ESM files instead of ~100 modules (start-up, issue 14).
bash scripts/bundle-cli.sh "$out"
# The browser player (src/player, plain JS for the DOM) with declarations, into dist/player.
pstatus=0
node_modules/.bin/tsc -p tsconfig.player.json --outDir "$out/player" || pstatus=$?
if [[ $pstatus -ne 0 ]]; then status=$pstatus; fi

# Two builds at once each swap their own folder; -T refuses to move into an existing dist/.
for _ in 1 2 3 4 5; do
  rm -rf "$old"
  if [[ -e dist ]]; then mv -T dist "$old" 2>/dev/null || true; fi
  if mv -T "$out" dist 2>/dev/null; then exit "$status"; fi
  sleep 0.2
done
echo "build.sh: could not replace dist/ (another build kept it busy)" >&2
exit 1
