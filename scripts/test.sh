#!/usr/bin/env bash
# The test command: starts what the suite needs, then runs every test of the workspace in both
# run modes (tests named `embedded::…` and `scaled::…`, plus the adapter contract suites).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi

cargo nextest run --workspace --no-fail-fast "$@"
