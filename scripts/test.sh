#!/usr/bin/env bash
# `make test`: install what the suite drives (npm packages, the Temporal CLI, Chromium), build,
# then run every test against real parts. Ends with "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export FLUXBURST_SKIP_BUILD=1 # setup.sh just built
# Static checks first, each fails the run: types of everything the tests and benches compile
# (test/, bench/, testkit/ with the product), the lint rules (eslint.config.js), formatting.
npx tsc -p tsconfig.test.json
npx eslint .
bash scripts/format-check.sh
npx vitest run
