#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, builds, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --test
pnpm -s lint
mkdir -p .artifacts
status=0
pnpm -s exec vitest run --reporter=default --reporter=json --outputFile.json=.artifacts/vitest-results.json "$@" || status=$?
# One plain closing line with the totals, whatever the reporter printed above it.
node -e '
  const fs = require("node:fs");
  const file = ".artifacts/vitest-results.json";
  if (!fs.existsSync(file)) process.exit(0);
  const r = JSON.parse(fs.readFileSync(file, "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
'
exit "$status"
