#!/usr/bin/env bash
# Starts the whole system on local defaults and sends a batch of mail through it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec node packages/demo/dist/cli.js "$@"
