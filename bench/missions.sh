#!/usr/bin/env bash
# Missions benchmark, both run modes: the generator component's share of the first
# "today's missions" request (weather, the component, storage), and upload→verdict throughput
# with a fake model that answers at once. Figures go to bench/results/missions.txt.
#   bash bench/missions.sh        (USERS=400 MODES="embedded scaled" by default)
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${USERS:-400}
MODES=${MODES:-embedded scaled}
OUT=${OUT:-bench/results/missions.txt}
mkdir -p bench/results
bash scripts/services.sh >/dev/null
cargo build --release -q -p weatherwise-tests --example missions_bench
{
  echo "# missions benchmark $(date -u +%FT%TZ) on $(nproc) cores, $USERS users, 16 requests in flight"
  echo "# load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
for MODE in $MODES; do
  echo "## $MODE" | tee -a "$OUT"
  target/release/examples/missions_bench "$MODE" "$USERS" | tee -a "$OUT"
done
