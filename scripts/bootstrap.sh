#!/usr/bin/env bash
# Installs what smtp-slots needs on a fresh Debian + Node 20 machine, and nothing that is already there.
#   bootstrap.sh            pnpm, workspace dependencies, redis-server
#   bootstrap.sh --test     also Chromium (browser test) and promtool (metrics lint)
#   bootstrap.sh --bench    also Postfix (the relay ingest bench runs it beside the agent)
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION="10.34.9"
want_test_tools=false
want_bench_tools=false
[[ "${1:-}" == "--test" ]] && want_test_tools=true
[[ "${1:-}" == "--bench" ]] && want_bench_tools=true

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if (( node_major < 20 )); then
  echo "smtp-slots needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

apt_updated=false
apt_install() {
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  if ! $apt_updated; then
    log "apt-get update"
    $sudo apt-get update -qq >/dev/null
    apt_updated=true
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server
if $want_test_tools; then
  command -v chromium >/dev/null 2>&1 || apt_install chromium || log "chromium could not be installed: browser tests will fail"
  command -v promtool >/dev/null 2>&1 || apt_install prometheus || log "promtool unavailable: the metrics lint test is skipped"
fi
if $want_bench_tools; then
  # Only the binaries are used: the bench runs its own Postfix instance; stop the package's default one.
  if [[ ! -x /usr/sbin/postfix ]]; then
    echo "postfix postfix/main_mailer_type select No configuration" | { [[ $(id -u) -eq 0 ]] && debconf-set-selections || sudo debconf-set-selections; } 2>/dev/null || true
    apt_install postfix || log "postfix could not be installed: the ingest bench skips its Postfix row"
  fi
fi

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  log "installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || corepack enable pnpm
fi

log "pnpm install"
pnpm install --frozen-lockfile --reporter=silent
log "build"
pnpm -s build
