#!/usr/bin/env bash
# Screening benchmark (issue 7): one name against a generated, realistic 50,000-entry list (Benchmarks/ScreeningBench):
# p50/p90/p99 latency per name and names per second on one core, beside the aim (p99 < 5 ms). Release build.
#   ops/bench/screening.sh [--entries 50000] [--queries 5000]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product ScreeningBench --scratch-path .build-release 2>&1 | tail -1
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
.build-release/release/ScreeningBench "$@"
