#!/usr/bin/env bash
# The whole test suite: real peers present, a fresh build, no import cycles, then every
# *.test.ts under test/unit, test/fuzz and test/interop (two files at a time).
#   scripts/test.sh                 everything
#   scripts/test.sh test/unit ...   only these folders or files
# Env: TEST_TIMEOUT_MS (per test, default 120000), TEST_CONCURRENCY (default 2),
#      SKIP_BUILD=1 (use the dist/ already there).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-peers.sh
if [[ -z "${SKIP_BUILD:-}" ]]; then npm run build; fi
# Runtime and type-only import cycles (dpdm, a few seconds), for the whole suite only, so a
# cycle in unfinished work does not block running one file; publint, attw and the pack list
# are checked by test/unit/package.test.ts.
if [[ $# -eq 0 ]]; then bash scripts/check-cycles.sh; fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then targets=(test/unit test/fuzz test/interop); fi

files=()
for target in "${targets[@]}"; do
  if [[ -f "$target" ]]; then
    files+=("$target")
  elif [[ -d "$target" ]]; then
    while IFS= read -r f; do files+=("$f"); done < <(find "$target" -name '*.test.ts' -type f | sort)
  elif [[ $# -gt 0 ]]; then
    echo "test.sh: no such file or folder: $target" >&2
    exit 2
  fi
done

if [[ ${#files[@]} -eq 0 ]]; then
  echo "test.sh: no *.test.ts files found in ${targets[*]}" >&2
  exit 1
fi

exec node --import tsx --test \
  --test-concurrency="${TEST_CONCURRENCY:-2}" \
  --test-timeout="${TEST_TIMEOUT_MS:-120000}" \
  --test-reporter=spec \
  "${files[@]}"
