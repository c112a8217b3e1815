#!/usr/bin/env bash
# Benchmarks (not part of CI): build, then run each benchmark entry in bench/.
# An entry is every bench/*.ts file except helpers, which carry a line `// @bench-lib`
# (lib.ts, h264-stream.ts, replay-server.ts).
#   scripts/bench.sh            every entry
#   scripts/bench.sh ingest     only bench/ingest.ts
# Env for bench/ingest.ts: BENCH_SECONDS, BENCH_RUNS, BENCH_MBPS, BENCH_CONTENDERS, BENCH_UNPACED.
# bench/scale.ts: BENCH_SESSIONS (100,500,1000), BENCH_SECONDS, BENCH_RUNS; bench/startup.ts: BENCH_REPEAT.
# Each file's header gives its command line; BENCHMARKS.md records the results.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-peers.sh
npm run build

entries=()
if [[ $# -gt 0 ]]; then
  for name in "$@"; do
    f="bench/${name%.ts}.ts"
    [[ -f "$f" ]] || { echo "bench.sh: no $f" >&2; exit 2; }
    entries+=("$f")
  done
else
  while IFS= read -r f; do
    if ! grep -q '^// @bench-lib' "$f"; then entries+=("$f"); fi
  done < <(find bench -maxdepth 1 -name '*.ts' -type f | sort)
fi

status=0
for f in "${entries[@]}"; do
  echo "## $f"
  echo
  node --import tsx "$f" || { echo "bench.sh: $f failed" >&2; status=1; }
  echo
done
exit $status
