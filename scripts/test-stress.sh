#!/usr/bin/env bash
# The whole suite (scripts/test.sh) several times in a row while stress-ng keeps the CPUs
# busy (issue 11): races between the server's fan-out, its sockets and real peers show up
# on a loaded 2-core machine and nowhere else. Stops at the first failing run and says which;
# stress-ng is stopped at the end, on a failure and on Ctrl-C.
#   scripts/test-stress.sh                  5 runs of everything
#   scripts/test-stress.sh test/interop/x.test.ts ...   5 runs of these files or folders
# Env: STRESS_RUNS (default 5), STRESS_CPU (stress-ng --cpu workers, default 4), and
#      scripts/test.sh's own (TEST_TIMEOUT_MS, TEST_CONCURRENCY, SKIP_BUILD).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${STRESS_RUNS:-5}
cpu=${STRESS_CPU:-4}
if ! [[ $runs =~ ^[1-9][0-9]*$ && $cpu =~ ^[1-9][0-9]*$ ]]; then
  echo "test-stress.sh: STRESS_RUNS and STRESS_CPU must be positive integers (got ${runs}, ${cpu})" >&2
  exit 2
fi

bash scripts/ensure-peers.sh
# One build for every run (as `npm test` would do first); each run then uses that dist/.
if [[ -z "${SKIP_BUILD:-}" ]]; then npm run build; fi

stress_pid=''
stop_stress() {
  if [[ -n $stress_pid ]]; then
    kill "$stress_pid" 2>/dev/null || true
    wait "$stress_pid" 2>/dev/null || true
    stress_pid=''
  fi
}
trap stop_stress EXIT
trap 'stop_stress; exit 130' INT
trap 'stop_stress; exit 143' TERM

stress-ng --cpu "$cpu" --quiet &
stress_pid=$!

for ((run = 1; run <= runs; run++)); do
  echo "test-stress.sh: run ${run} of ${runs} (stress-ng --cpu ${cpu})"
  start=$SECONDS
  if ! SKIP_BUILD=1 bash scripts/test.sh "$@"; then
    echo "test-stress.sh: run ${run} of ${runs} FAILED after $((SECONDS - start)) s (see the failing tests above)" >&2
    exit 1
  fi
  echo "test-stress.sh: run ${run} of ${runs} passed in $((SECONDS - start)) s"
done
echo "test-stress.sh: ${runs} of ${runs} runs passed under stress-ng --cpu ${cpu}"
