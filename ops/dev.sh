#!/usr/bin/env bash
# The first README command: install what is missing, build, and run the whole system on the embedded
# default (state in ./.nzila unless --state says otherwise). Extra arguments go to `nzila dev`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ops/install-deps.sh
swift build --product nzila
exec .build/debug/nzila dev "$@"
