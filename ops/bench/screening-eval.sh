#!/usr/bin/env bash
# Screening quality (issue 24), release build, nothing asserted:
# 1. precision, recall, F1 and false alerts per 100 non-matches, per category, per kind and overall, on the labelled
#    pairs of Benchmarks/Screening/pairs.csv (Benchmarks/ScreeningEval), at the platform's review line, with the lines
#    a threshold sweep would choose;
# 2. the alert rate on 10,000 made-up customers (Benchmarks/Screening/customers.csv, make_customers.py) screened
#    against the whole OFAC SDN list of 2 May 2024 (Benchmarks/Screening/ofac/, public domain), per locale.
#   ops/bench/screening-eval.sh [--review 0.85] [--show-misses]
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 Benchmarks/Screening/check_pairs.py Benchmarks/Screening/pairs.csv >/dev/null
swift build -c release --product ScreeningEval --scratch-path .build-release 2>&1 | tail -1
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr)"
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT
gunzip -c Benchmarks/Screening/ofac/sdn.csv.gz > "$lists/sdn.csv"
gunzip -c Benchmarks/Screening/ofac/alt.csv.gz > "$lists/alt.csv"
.build-release/release/ScreeningEval --ofac "$lists" "$@"
echo
.build-release/release/ScreeningEval --customers Benchmarks/Screening/customers.csv --ofac "$lists" "$@"
