#!/usr/bin/env bash
# The test command: starts what the suite needs, then runs every test of the workspace in both
# run modes (tests named `embedded::…` and `scaled::…`, plus the adapter contract suites).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh

# Plugins are WebAssembly components built for this target (host/build.rs builds them).
rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2
# The Python example plugin is built by tests/build.rs with the pinned componentize-py.
bash scripts/python-tools.sh

# The chat tests drive the stock STOMP client (@stomp/stompjs) in Node and, through
# playwright-core, in Debian's Chromium; the npm packages are pinned by their lock file.
npm ci --prefix tests/stompjs --no-audit --no-fund
if ! command -v chromium >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium || {
    apt-get update && apt-get install -y --no-install-recommends chromium
  }
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi

cargo nextest run --no-fail-fast "$@"
