#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, builds, lints, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --test
pnpm -s lint
exec pnpm -s exec vitest run "$@"
