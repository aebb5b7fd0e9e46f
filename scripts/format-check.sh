#!/usr/bin/env bash
# `npm run format:check`: Prettier (.prettierrc.json) checks the files listed here, without
# rewriting them. The list grows until the repository has been formatted once (`npm run format`);
# after that this becomes `prettier --check .`.
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=(
  .prettierrc.json
  eslint.config.js
  tsconfig.test.json
  test/unit/lint-rules.test.ts
  test/unit/error-codes.test.ts
  test/unit/selector-types.test.ts
  src/core/selector.ts
  src/sizing/catalog.ts
  testkit/plugins/faulty.ts
  test/unit/faulty-plugin.test.ts
  test/integration/faulty-plugin.test.ts
)
exec npx prettier --check --log-level warn "${FILES[@]}"
