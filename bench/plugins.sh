#!/usr/bin/env bash
# Plugin call benchmark (release build); figures go to bench/results/plugins.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
cargo build --release -q -p weatherwise --example plugin_bench
# The Python example plugin (tests/build.rs builds it with the pinned componentize-py).
bash scripts/python-tools.sh
cargo check -q -p weatherwise-tests
{
  echo "# plugin benchmark $(date -u +%FT%TZ) on $(nproc) cores (release; production limits)"
  target/release/examples/plugin_bench target/plugins/wasm32-wasip2/plugin/minimal_generator.wasm \
    target/plugins/python/generator_python.wasm
} | tee bench/results/plugins.txt
