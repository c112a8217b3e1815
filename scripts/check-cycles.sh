#!/usr/bin/env bash
# Import cycles (STYLE.md: imports go down the layers; shared types live below both users).
# Two passes over every module under src/ (the package and CLI entries reach nearly all of
# them; the glob also covers barrels such as src/rtsp/index.ts that no entry imports):
#   -T  runtime imports only: a cycle here can hand a module an uninitialised binding;
#       plain  type-only imports too: a type cycle is a layering mistake all the same.
# Both must find nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

entries=('src/**/*.ts' 'src/**/*.js')
status=0
for mode in -T ''; do
  out="$(node_modules/.bin/dpdm --no-warning --no-tree --no-progress --exit-code circular:1 ${mode} "${entries[@]}" 2>&1)" || {
    status=1
    echo "check-cycles: import cycles ($([[ -n $mode ]] && echo 'runtime imports' || echo 'type-only imports included')):" >&2
    sed -n '/Circular Dependencies/,$p' <<<"$out" >&2
  }
done
if [[ $status -eq 0 ]]; then echo "check-cycles: no import cycles"; fi
exit "$status"
