#!/usr/bin/env bash
# `make test`: install what the suite drives (npm packages, the Temporal CLI, Chromium), build,
# then run every test against real parts. Ends with "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export FLUXBURST_SKIP_BUILD=1 # setup.sh just built
npx vitest run
