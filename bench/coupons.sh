#!/usr/bin/env bash
# Coupon claim storm, in both run modes: claims/s and latency under a storm of CONNECTIONS
# connections (wrk, a random seeded claimant and a fresh Idempotency-Key per request); GET /me's
# rate in the same run; the p99 of GET /me and GET /missions/today during the storm against
# idle; and the claim path's two stages straight on their backends, without HTTP (the Redis
# gate's Lua admission, the issuing transaction on SQLite and PostgreSQL), as ceilings.
# Figures go to bench/results/coupons.txt.
#   bash bench/coupons.sh   (CONNECTIONS=1000 DURATION=10 USERS=5000 QUANTITY=2500 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-1000}
DURATION=${DURATION:-10}
USERS=${USERS:-5000}
QUANTITY=${QUANTITY:-2500}
PORT=${PORT:-18180}
OUT=bench/results/coupons.txt
export BENCH_JWT_SECRET=bench-secret-bench-secret-bench-secret-0123
mkdir -p bench/results
ulimit -n 20000 2>/dev/null || true

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
bash scripts/services.sh >/dev/null
cargo build --release -q -p weatherwise --bin weatherwise --example coupon_bench
BIN=target/release/weatherwise
TOOL=target/release/examples/coupon_bench
WORK=$(mktemp -d)
SERVER='' DBS=''
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
  wait 2>/dev/null || true
  for db in $DBS; do psql -h 127.0.0.1 -U postgres -qc "drop database if exists $db" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

API=http://127.0.0.1:$PORT/api/v1
SEOUL=(lat=37.5665 lon=126.9780)
wait_up() { for _ in $(seq 1 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "no server at $1" >&2; exit 1; }
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
# wrk's 99th percentile in milliseconds.
p99_ms() {
  awk '$1=="99%" { v=$2
    if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v) }
    else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
    print v }' "$1"
}
ratio() { python3 -c "print(round($1 / $2, 3) if $2 else 'n/a')"; }
new_database() {
  local name="ww_bench_coupons_$1_$$"
  psql -h 127.0.0.1 -U postgres -qc "drop database if exists $name" -c "create database $name" >/dev/null
  DBS="$DBS $name"
  echo "postgres://postgres@127.0.0.1:5432/$name"
}

{
  echo "# coupon claim benchmark $(date -u +%FT%TZ) on $(nproc) cores"
  echo "# storm: wrk -t2 -c$CONNECTIONS -d${DURATION}s, $USERS seeded claimants (each with a mission approved today), $QUANTITY coupons a day"
  echo "# neighbours: wrk -t1 -c4 on GET /me and GET /missions/today, idle and during the storm; server, databases and wrk share the cores"
} | tee "$OUT"

for MODE in embedded scaled; do
  DATA="$WORK/data-$MODE"
  mkdir -p "$DATA"
  ENVS=(WEATHERWISE_LOG__FILTER=warn
        WEATHERWISE_AUTH__JWT_KEYS="[{kid=\"bench\", secret=\"$BENCH_JWT_SECRET\"}]")
  if [ "$MODE" = scaled ]; then
    DB_URL=$(new_database "$MODE")
    ENVS+=(WEATHERWISE_DATABASE__URL="$DB_URL"
           WEATHERWISE_STATE__URL=redis://127.0.0.1:6379/
           WEATHERWISE_STATE__KEY_PREFIX="wwbench:coupons:$$:"
           WEATHERWISE_BUS__URL=kafka://127.0.0.1:9092
           WEATHERWISE_BUS__TOPIC_PREFIX="wwbench.coupons.$$.")
  else
    DB_URL="sqlite://$DATA/weatherwise.db?mode=rwc"
  fi
  "$TOOL" seed "$DB_URL" "$USERS" "$WORK"
  env "${ENVS[@]}" "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" > "$WORK/server-$MODE.log" 2>&1 & SERVER=$!
  wait_up "http://127.0.0.1:$PORT/healthz"
  ADMIN=$(cat "$WORK/admin_token.txt")
  TOKEN=$(head -n1 "$WORK/tokens.txt")
  TODAY=$(TZ=Asia/Seoul date +%F)
  EVENT=$(curl -fs -XPOST "$API/admin/coupon-events" -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' \
    -d "{\"kind\":\"americano\",\"title\":\"bench\",\"starts_on\":\"$TODAY\",\"ends_on\":\"$TODAY\",\"opens_at\":\"00:00\",\"daily_quantity\":$QUANTITY}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  TODAY_URL="$API/missions/today?${SEOUL[0]}&${SEOUL[1]}"
  # The day's missions are made on the first request; the neighbours then read them.
  curl -fs "$TODAY_URL" -H "Authorization: Bearer $TOKEN" >/dev/null

  AUTH=(-H "Authorization: Bearer $TOKEN")
  wrk -t1 -c4 -d"${DURATION}s" --latency "${AUTH[@]}" "$API/me" > "$WORK/me-idle.txt"
  wrk -t1 -c4 -d"${DURATION}s" --latency "${AUTH[@]}" "$TODAY_URL" > "$WORK/today-idle.txt"
  wrk -t2 -c64 -d"${DURATION}s" --latency "${AUTH[@]}" "$API/me" > "$WORK/me-rate.txt"

  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency -s bench/coupon_claim.lua "$API" \
    -- "$WORK/tokens.txt" "$EVENT" "$MODE" > "$WORK/storm.txt" & STORM=$!
  sleep 1
  wrk -t1 -c4 -d"$((DURATION - 2))s" --latency "${AUTH[@]}" "$API/me" > "$WORK/me-storm.txt" & ME=$!
  wrk -t1 -c4 -d"$((DURATION - 2))s" --latency "${AUTH[@]}" "$TODAY_URL" > "$WORK/today-storm.txt"
  wait $STORM $ME

  read -r ISSUED REFUSED BUSY OTHER < <(awk '/^answers/ { for (i = 2; i <= 5; i++) { split($i, kv, "="); printf "%s ", kv[2] }; print "" }' "$WORK/storm.txt")
  CLAIMS_RPS=$(python3 -c "print(round(($ISSUED + $REFUSED) / $DURATION, 1))")
  ME_RPS=$(rps "$WORK/me-rate.txt")
  # Claims the gate admitted when wrk stopped may still be committing: the check is read again
  # (every 0.5 s, for up to 15 s) until it passes, and says how long that took.
  for ATTEMPT in $(seq 0 30); do
    CHECK=$(curl -fs "$API/admin/coupon-events/$EVENT/check?day=$TODAY" -H "Authorization: Bearer $ADMIN" |
      python3 -c 'import json,sys; c=json.load(sys.stdin); s=c["stored"]; print("ok %s: issued %s of %s, %s users, %s answers, %s without coupon, gate agrees %s" % (c["ok"], s["coupons"], s["quantity"], s["distinct_users"], s["answers"], s["answers_without_coupon"], c["gate_agrees"]))')
    case "$CHECK" in "ok True"*) break ;; esac
    sleep 0.5
  done
  CHECK="$CHECK (read $((ATTEMPT + 1)) times, 0.5 s apart, after the storm ended)"
  {
    echo "## $MODE"
    printf '  claims answered  %10s /s (issued %s, refused %s; plus %s busy 429/503, %s other) p50 %s p99 %s ms\n' \
      "$CLAIMS_RPS" "$ISSUED" "$REFUSED" "$BUSY" "$OTHER" "$(awk '$1=="50%" {print $2}' "$WORK/storm.txt")" "$(p99_ms "$WORK/storm.txt")"
    printf '  GET /me          %10s req/s (c=64, idle): claims at %sx GET /me\n' "$ME_RPS" "$(ratio "$CLAIMS_RPS" "$ME_RPS")"
    printf '  GET /me p99          idle %8s ms   storm %8s ms   ratio %s\n' \
      "$(p99_ms "$WORK/me-idle.txt")" "$(p99_ms "$WORK/me-storm.txt")" "$(ratio "$(p99_ms "$WORK/me-storm.txt")" "$(p99_ms "$WORK/me-idle.txt")")"
    printf '  GET /missions/today p99 idle %8s ms   storm %8s ms   ratio %s\n' \
      "$(p99_ms "$WORK/today-idle.txt")" "$(p99_ms "$WORK/today-storm.txt")" "$(ratio "$(p99_ms "$WORK/today-storm.txt")" "$(p99_ms "$WORK/today-idle.txt")")"
    echo "  end-of-day check: $CHECK"
  } | tee -a "$OUT"
  echo "$MODE $CLAIMS_RPS" >> "$WORK/claims.txt"
  kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=''
done

# The ceilings: each stage of a claim alone on its backend, 64 tasks for Redis, 16 for SQL.
{
  echo "## ceilings (no HTTP, ${DURATION}s each)"
  "$TOOL" gate-loop redis://127.0.0.1:6379/ "$DURATION" 64 | sed 's/^/  /'
  "$TOOL" issue-loop "sqlite://$WORK/ceiling.db?mode=rwc" "$DURATION" 16 | sed 's/^/  /'
  "$TOOL" issue-loop "$(new_database ceiling)" "$DURATION" 16 | sed 's/^/  /'
} | tee "$WORK/ceilings.txt" | tee -a "$OUT"
GATE=$(awk '/Redis gate/ {for (i=1;i<=NF;i++) if ($(i+1)=="claims/s") print $i}' "$WORK/ceilings.txt")
SQLITE=$(awk '/sqlite issuing/ {for (i=1;i<=NF;i++) if ($(i+1)=="claims/s") print $i}' "$WORK/ceilings.txt")
POSTGRES=$(awk '/postgres issuing/ {for (i=1;i<=NF;i++) if ($(i+1)=="claims/s") print $i}' "$WORK/ceilings.txt")
EMBEDDED=$(awk '$1=="embedded" {print $2}' "$WORK/claims.txt")
SCALED=$(awk '$1=="scaled" {print $2}' "$WORK/claims.txt")
{
  echo "## ratios"
  echo "  embedded claims/s against the SQLite issuing transaction: $(ratio "$EMBEDDED" "$SQLITE")x"
  echo "  scaled claims/s against the PostgreSQL issuing transaction: $(ratio "$SCALED" "$POSTGRES")x, against the Redis gate: $(ratio "$SCALED" "$GATE")x"
} | tee -a "$OUT"
