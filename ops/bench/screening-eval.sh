#!/usr/bin/env bash
# Screening quality (issue 24): precision, recall, F1 and false alerts per 100 non-matches, per category, per kind
# and overall, on the labelled pairs of Benchmarks/Screening/pairs.csv (Benchmarks/ScreeningEval), at the platform's
# review line, with the lines a threshold sweep would choose. Nothing is asserted.
#   ops/bench/screening-eval.sh [--review 0.85] [--show-misses]
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 Benchmarks/Screening/check_pairs.py >/dev/null
swift build -c release --product ScreeningEval --scratch-path .build-release 2>&1 | tail -1
.build-release/release/ScreeningEval "$@"
