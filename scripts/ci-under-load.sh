#!/usr/bin/env bash
# Runs CI (.ci/run) in a fresh clone of the current commit while CPU-bound processes run beside it,
# several times, and prints how many runs passed. The test suite must hold on a busy machine; this
# is how to check it before saying so.
#
#   scripts/ci-under-load.sh [runs] [burners]      defaults: 5 runs, 4 burners (node -e "for(;;){}")
#
# Each run gets its own clone (so nothing built or cached by an earlier run helps a later one), and
# its full log is kept under $CI_LOAD_LOGS (default: a temporary directory, printed at the end).
# The burners are started and stopped by this script alone (by process id), also on Ctrl-C.
set -euo pipefail

runs="${1:-5}"
burners="${2:-4}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ && "$burners" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [runs ≥ 1] [burners ≥ 0]" >&2
  exit 2
fi

repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
commit="$(git -C "$repo" rev-parse HEAD)"
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
  echo "ci-under-load: uncommitted changes are not tested; the runs use commit ${commit:0:10}" >&2
fi
logs="${CI_LOAD_LOGS:-$(mktemp -d -t ci-under-load.XXXXXX)}"
mkdir -p "$logs"

burner_pids=()
workdir=""
ci_pid=""
cleanup() {
  for pid in "${burner_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # The CI run in progress, if any, runs in its own process group: stop all of it (servers included).
  if [[ -n "$ci_pid" ]]; then kill -- "-$ci_pid" 2>/dev/null || true; wait "$ci_pid" 2>/dev/null || true; fi
  if [[ -n "$workdir" ]]; then rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ((i = 0; i < burners; i++)); do
  node -e "for(;;){}" &
  burner_pids+=("$!")
done

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "ci-under-load: commit ${commit:0:10}, ${runs} runs, ${burners} CPU-bound processes beside each, $(nproc) cores, load average $(load)"

passed=0
failed=0
results=()
for ((run = 1; run <= runs; run++)); do
  workdir="$(mktemp -d -t ci-under-load-clone.XXXXXX)"
  git clone --quiet --no-checkout "$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir)" "$workdir/repo"
  git -C "$workdir/repo" checkout --quiet --detach "$commit"
  log="$logs/run-$run.log"
  started=$SECONDS
  load_before="$(load)"
  (cd "$workdir/repo" && exec setsid .ci/run) >"$log" 2>&1 &
  ci_pid=$!
  if wait "$ci_pid"; then
    ci_pid=""
    outcome=pass
    passed=$((passed + 1))
  else
    ci_pid=""
    outcome=FAIL
    failed=$((failed + 1))
  fi
  summary="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1 || true)"
  line="run $run/$runs: $outcome (${summary:-no summary line}) in $((SECONDS - started)) s, load average before $load_before, after $(load)"
  results+=("$line")
  echo "$line"
  if [[ "$outcome" == FAIL ]]; then
    grep -E '^ *(FAIL|×)|AssertionError|Error:' "$log" | head -20 | sed 's/^/    /' || true
  fi
  rm -rf "$workdir"
  workdir=""
done

echo
echo "ci-under-load: ${passed} of ${runs} runs passed, ${failed} failed (${burners} CPU-bound processes beside each; logs in $logs)"
[[ "$failed" -eq 0 ]]
