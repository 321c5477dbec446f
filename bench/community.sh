#!/usr/bin/env bash
# Community benchmark, both run modes, on POSTS posts spread over South Korea (default
# 1,000,000): the nearby listing over HTTP against the same query as plain SQL (pgbench on
# PostgreSQL, a loop over the store on SQLite), and votes on one hot post against a hot-row
# counter update. Figures go to bench/results/community.txt.
#   bash bench/community.sh        (POSTS=1000000 DURATION=10 WARMUP=3 CONNECTIONS=16 MODES="embedded scaled" by default)
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS=${POSTS:-1000000}
VOTERS=${VOTERS:-2000}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-16}
OUT=${OUT:-bench/results/community.txt}
MODES=${MODES:-embedded scaled}
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)
export BENCH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
mkdir -p bench/results

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
bash scripts/services.sh >/dev/null
cargo build --release -q -p weatherwise --bin weatherwise --example community_bench
BIN=target/release/weatherwise
TOOL=target/release/examples/community_bench

wait_up() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no server at $1" >&2; exit 1; }
rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
summarise() {
  local label=$1 file=$2
  printf '%-34s %12s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$label" "$(rate "$file")" \
    "$(awk '$1=="50%" {print $2}' "$file")" "$(awk '$1=="99%" {print $2}' "$file")" \
    "$(awk '/Non-2xx/ {print $NF}' "$file" | grep . || echo 0)" | tee -a "$OUT"
}
pg_rate() { awk '/^tps/ {print $3; exit}' "$1"; }
pg_summarise() {
  local label=$1 file=$2
  printf '%-34s %12s req/s   latency average %s ms\n' "$label" "$(pg_rate "$file")" \
    "$(awk '/latency average/ {print $4}' "$file")" | tee -a "$OUT"
}
ratio() { python3 -c "print(round($1 / $2, 3))"; }

{
  echo "# community benchmark $(date -u +%FT%TZ) on $(nproc) cores; $POSTS posts uniform over 33.0-38.6N 124.6-131.0E"
  echo "# load before the run: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
  echo "# HTTP: wrk -t2 -c$CONNECTIONS -d${DURATION}s --latency after a ${WARMUP}s warm-up; radius 5 km, newest first, 20 a page; server, client and database share the cores"
} | tee "$OUT"

for MODE in $MODES; do
  WORK=$(mktemp -d)
  ENVS=(WEATHERWISE_LOG__FILTER=warn
        WEATHERWISE_AUTH__JWT_KEYS="[{kid=\"bench\", secret=\"$BENCH_JWT_SECRET\"}]")
  if [ "$MODE" = scaled ]; then
    DB="ww_bench_community_$$"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $DB" -c "create database $DB" >/dev/null
    URL="postgres://postgres@127.0.0.1:5432/$DB"
    ENVS+=(WEATHERWISE_DATABASE__URL="$URL"
           WEATHERWISE_STATE__URL=redis://127.0.0.1:6379/
           WEATHERWISE_STATE__KEY_PREFIX="wwbench:$$:"
           WEATHERWISE_BUS__URL=kafka://127.0.0.1:9092
           WEATHERWISE_BUS__TOPIC_PREFIX="wwbench.$$.")
  else
    URL="sqlite://$WORK/weatherwise.db?mode=rwc"
  fi
  echo "## $MODE" | tee -a "$OUT"
  "$TOOL" seed "$URL" "$POSTS" "$VOTERS" "$WORK" | tee -a "$OUT"
  if [ "$MODE" = scaled ]; then
    # Statistics for the planner, and the seeding's dirty pages written out now rather than by
    # a background checkpoint in the middle of a measurement.
    psql -h 127.0.0.1 -U postgres -d "$DB" -qc "vacuum analyze" -c "checkpoint" >/dev/null
  fi
  HOT=$(cat "$WORK/hot_post.txt")
  HOT_ROW=$(cat "$WORK/hot_row.txt")

  env "${ENVS[@]}" "$BIN" serve --listen 127.0.0.1:18081 --data-dir "$WORK" & SERVER=$!
  wait_up http://127.0.0.1:18081/healthz
  # Warm-up, not recorded: the database's caches are cold after seeding, and the plain SQL
  # runs that follow meet them warm.
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s bench/community_nearby.lua \
    http://127.0.0.1:18081 -- "$WORK/tokens.txt" > /dev/null
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/community_nearby.lua \
    http://127.0.0.1:18081 -- "$WORK/tokens.txt" > "$WORK/nearby.txt"
  summarise "$MODE GET /posts/nearby" "$WORK/nearby.txt"
  wrk -t2 -c"$CONNECTIONS" -d"${WARMUP}s" -s bench/community_vote.lua \
    http://127.0.0.1:18081 -- "$WORK/tokens.txt" "$HOT" > /dev/null
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/community_vote.lua \
    http://127.0.0.1:18081 -- "$WORK/tokens.txt" "$HOT" > "$WORK/vote.txt"
  summarise "$MODE PUT/DELETE /posts/{hot}/vote" "$WORK/vote.txt"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  "$TOOL" verify "$URL" "$HOT" | sed "s/^/  $MODE hot post: /" | tee -a "$OUT"

  if [ "$MODE" = scaled ]; then
    "$PGBENCH" -h 127.0.0.1 -U postgres -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
      -f bench/community_nearby.sql "$DB" > "$WORK/pg-nearby.txt" 2>&1
    pg_summarise "pgbench nearby (same query)" "$WORK/pg-nearby.txt"
    NEARBY_CEILING=$(pg_rate "$WORK/pg-nearby.txt")
    "$PGBENCH" -h 127.0.0.1 -U postgres -n -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" \
      -D hot="$HOT_ROW" -f bench/community_hot_row.sql "$DB" > "$WORK/pg-hot.txt" 2>&1
    pg_summarise "pgbench hot-row update" "$WORK/pg-hot.txt"
    VOTE_CEILING=$(pg_rate "$WORK/pg-hot.txt")
  else
    "$TOOL" nearby-loop "$URL" "$DURATION" "$CONNECTIONS" | tee "$WORK/sql-nearby.txt" | tee -a "$OUT"
    NEARBY_CEILING=$(awk '{for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i-1)}' "$WORK/sql-nearby.txt")
    "$TOOL" hot-row-loop "$URL" "$DURATION" "$CONNECTIONS" "$HOT_ROW" | tee "$WORK/sql-hot.txt" | tee -a "$OUT"
    VOTE_CEILING=$(awk '{for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i-1)}' "$WORK/sql-hot.txt")
  fi
  echo "  $MODE: nearby at $(ratio "$(rate "$WORK/nearby.txt")" "$NEARBY_CEILING")x the plain SQL rate;" \
       "votes at $(ratio "$(rate "$WORK/vote.txt")" "$VOTE_CEILING")x the hot-row update rate" | tee -a "$OUT"
  if [ "$MODE" = scaled ]; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $DB" >/dev/null
  fi
  rm -rf "$WORK"
done
