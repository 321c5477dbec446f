#!/usr/bin/env bash
# Loopback HTTP benchmark of the auth hot paths, in both run modes, beside a hello-world axum
# route measured in the same run. Figures go to bench/results/auth.txt.
#   bash bench/auth.sh            (DURATION=10s CONNECTIONS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
OUT=bench/results/auth.txt
mkdir -p bench/results

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
bash scripts/services.sh >/dev/null
cargo build --release -q -p weatherwise --bin weatherwise --example hello_axum --example argon2_rate
BIN=target/release/weatherwise
HELLO=target/release/examples/hello_axum

wait_up() { for _ in $(seq 1 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "no server at $1" >&2; exit 1; }

# "Requests/sec" and the 99% latency from wrk --latency output.
summarise() {
  local label=$1 file=$2
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$file")
  p50=$(awk '$1=="50%" {print $2}' "$file")
  p99=$(awk '$1=="99%" {print $2}' "$file")
  printf '%-34s %12s req/s   p50 %-9s p99 %s\n' "$label" "$rps" "$p50" "$p99" | tee -a "$OUT"
}

run_wrk() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@"; }

{
  echo "# auth benchmark $(date -u +%FT%TZ) on $(nproc) cores; wrk -t2 -c$CONNECTIONS -d$DURATION --latency"
  echo "# server and wrk share the machine's cores"
} | tee "$OUT"

"$HELLO" 127.0.0.1:18999 & HELLO_PID=$!
trap 'kill $HELLO_PID 2>/dev/null || true' EXIT
wait_up http://127.0.0.1:18999/
run_wrk http://127.0.0.1:18999/ > /tmp/ww-bench-hello.txt
summarise "hello-world axum GET /" /tmp/ww-bench-hello.txt
HELLO_RPS=$(awk '/Requests\/sec/ {print $2}' /tmp/ww-bench-hello.txt)
kill $HELLO_PID; wait $HELLO_PID 2>/dev/null || true

for MODE in embedded scaled; do
  DATA=$(mktemp -d)
  ENVS=(WEATHERWISE_LOG__FILTER=warn
        WEATHERWISE_RATE_LIMITS__LOGIN_PER_IP__LIMIT=1000000000
        WEATHERWISE_RATE_LIMITS__LOGIN_PER_ACCOUNT__LIMIT=1000000000
        WEATHERWISE_RATE_LIMITS__LOGIN_PER_ACCOUNT_FROM_IP__LIMIT=1000000000
        WEATHERWISE_RATE_LIMITS__SIGNUP_PER_IP__LIMIT=1000000000)
  if [ "$MODE" = scaled ]; then
    DB="ww_bench_$$"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $DB" -c "create database $DB" >/dev/null
    ENVS+=(WEATHERWISE_DATABASE__URL="postgres://postgres@127.0.0.1:5432/$DB"
           WEATHERWISE_STATE__URL=redis://127.0.0.1:6379/
           WEATHERWISE_STATE__KEY_PREFIX="wwbench:$$:"
           WEATHERWISE_BUS__URL=kafka://127.0.0.1:9092
           WEATHERWISE_BUS__TOPIC_PREFIX="wwbench.$$.")
  fi
  env "${ENVS[@]}" "$BIN" serve --listen 127.0.0.1:18080 --data-dir "$DATA" & SERVER=$!
  wait_up http://127.0.0.1:18080/healthz
  TOKEN=$(curl -fs -XPOST http://127.0.0.1:18080/api/v1/auth/signup -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"bench password 1","nickname":"bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  # The middleware stack alone, without storage or authentication.
  run_wrk http://127.0.0.1:18080/healthz > /tmp/ww-bench-healthz.txt
  summarise "$MODE GET /healthz" /tmp/ww-bench-healthz.txt
  HEALTHZ_RPS=$(awk '/Requests\/sec/ {print $2}' /tmp/ww-bench-healthz.txt)
  run_wrk -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18080/api/v1/me > /tmp/ww-bench-me.txt
  summarise "$MODE GET /api/v1/me" /tmp/ww-bench-me.txt
  ME_RPS=$(awk '/Requests\/sec/ {print $2}' /tmp/ww-bench-me.txt)
  run_wrk -s bench/login.lua http://127.0.0.1:18080/api/v1/auth/login > /tmp/ww-bench-login.txt
  summarise "$MODE POST /api/v1/auth/login" /tmp/ww-bench-login.txt
  non2xx=$(awk '/Non-2xx/ {print $NF}' /tmp/ww-bench-login.txt /tmp/ww-bench-me.txt | paste -sd+ | bc 2>/dev/null || echo 0)
  ratio() { python3 -c "print(round($1/$HELLO_RPS, 3))"; }
  echo "  $MODE: /healthz at $(ratio "$HEALTHZ_RPS")x, GET /me at $(ratio "$ME_RPS")x hello-world; non-2xx answers: ${non2xx:-0}" | tee -a "$OUT"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  rm -rf "$DATA"
done

# The login ceiling: argon2id verifications alone, one thread per core.
target/release/examples/argon2_rate | tee -a "$OUT"
