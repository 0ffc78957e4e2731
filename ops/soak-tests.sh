#!/usr/bin/env bash
# Runs the whole test suite N times, each run on its own fresh PostgreSQL + PgBouncer (ops/test.sh),
# after one build, and prints a line per run and a final "N passed, M failed". A flaky test is a bug:
# this is how we look for one.
#
#   bash ops/soak-tests.sh 10            # ten runs on a quiet machine
#   bash ops/soak-tests.sh --busy 1 5    # five runs while one core is kept busy (a spinning process per core)
#
# Each run's output is kept in $SOAK_LOGS (default: a temporary folder, printed at the start).
set -euo pipefail
cd "$(dirname "$0")/.."

busy=0
if [ "${1:-}" = "--busy" ]; then
  busy=${2:?--busy needs a number of cores}
  shift 2
fi
runs=${1:?usage: ops/soak-tests.sh [--busy CORES] RUNS}
logs=${SOAK_LOGS:-$(mktemp -d /tmp/nzila-soak.XXXXXX)}
mkdir -p "$logs"

bash ops/install-deps.sh
echo "building once (swift build --build-tests) ..."
swift build --build-tests 2>&1 | tail -n 3

spinners=()
stop_spinners() { for pid in "${spinners[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done; }
trap stop_spinners EXIT
for _ in $(seq 1 "$busy"); do
  ( while :; do :; done ) &
  spinners+=("$!")
done
[ "$busy" -gt 0 ] && echo "keeping $busy core(s) busy (pids ${spinners[*]})"
echo "logs in $logs"

passed=0
failed=0
for run in $(seq 1 "$runs"); do
  log="$logs/run-$run.log"
  started=$(date +%s%3N)
  if bash ops/test.sh --skip-build >"$log" 2>&1; then status=passed; passed=$((passed + 1)); else status=FAILED; failed=$((failed + 1)); fi
  elapsed=$(( $(date +%s%3N) - started ))
  # swift-testing's and XCTest's own summaries: how many tests, and the test time (build excluded).
  summary=$(grep -E "Test run with [0-9]+ tests? .* (passed|failed) after" "$log" | tail -n 1 | sed -E 's/^.*Test run with //' || true)
  printf 'run %2d/%d  %-6s  %4d.%d s wall (stack + tests)  %s\n' "$run" "$runs" "$status" $((elapsed / 1000)) $((elapsed % 1000 / 100)) "${summary:-no summary}"
  if [ "$status" = FAILED ]; then grep -E "✘|recorded an issue|Fatal error|error:" "$log" | head -n 20 | sed 's/^/    /'; fi
done
echo "$runs runs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
