#!/usr/bin/env bash
# Chat fan-out benchmark: WeatherWise's alert rooms (STOMP 1.2 over WebSocket) in the embedded
# mode and as two scaled instances (PostgreSQL, Redis, Kafka), beside RabbitMQ's Web-STOMP under
# the identical open-loop load, step by step in the same run, and the resident memory each holds
# per idle subscribed connection (measured first, before any load). The load tool is
# bench/chat-load, a crate of its own. Figures go to bench/results/chat-<date>.md.
#   bash bench/chat.sh
#   (ROOMS=10 SUBSCRIBERS=20 RATES="10 25 50 75 100 150 200" DURATION=10 WARMUP=2 IDLE=1000
#    SCALED=1 by default; SCALED=0 leaves the two-instance deployment out)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOMS=${ROOMS:-10}
SUBSCRIBERS=${SUBSCRIBERS:-20}
RATES=${RATES:-10 25 50 75 100 150 200}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
IDLE=${IDLE:-1000}
PORT=${PORT:-18090}
SCALED=${SCALED:-1}
# Sustained: a step with no message lost and a p99 latency at or under this.
P99_LIMIT_MS=${P99_LIMIT_MS:-60}
STARTED=$(date -u +%FT%TZ)
OUT=bench/results/chat-$(date -u +%Y-%m-%dT%H%M).md
RAW=$(mktemp)
WORK=$(mktemp -d)
SERVER='' SCALED_SERVERS='' TOOL_PID='' BENCH_DB=''
cleanup() {
  local status=$?
  for pid in $TOOL_PID $SERVER $SCALED_SERVERS; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$status" != 0 ]; then
    for log in "$WORK"/server*.log; do [ -s "$log" ] && { echo "$log:" >&2; tail -20 "$log" >&2; }; done
  fi
  [ -n "$BENCH_DB" ] && psql -h 127.0.0.1 -U postgres -qc "drop database if exists $BENCH_DB" >/dev/null 2>&1
  rm -rf "$WORK" "$RAW"
}
trap cleanup EXIT
mkdir -p bench/results
[ "$ROOMS" -le 17 ] || { echo "ROOMS is at most 17: one room per province" >&2; exit 2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 150); do port_open "$2" && return 0; sleep 0.2; done; echo "$1 is not listening on :$2" >&2; exit 1; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

port_open 5672 || { echo "RabbitMQ is not running on 127.0.0.1:5672" >&2; exit 1; }
rabbitmq-plugins enable rabbitmq_web_stomp >/dev/null
wait_port "RabbitMQ Web-STOMP" 15674
RABBIT_STATUS=$(rabbitmqctl status --formatter json 2>/dev/null)
BEAM=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "$RABBIT_STATUS")
RABBIT_VERSION=$(rabbitmqctl version 2>/dev/null)
# The broker leaves connections past its socket limit (set from its file-descriptor limit at
# boot) unaccepted, so both sides are measured with a number under it.
SOCKETS_LIMIT=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["file_descriptors"]["sockets_limit"])' "$RABBIT_STATUS")
IDLE_ASKED=$IDLE
if [ $((IDLE + IDLE / 4)) -gt $((SOCKETS_LIMIT - 32)) ]; then IDLE=$(((SOCKETS_LIMIT - 32) * 4 / 5)); fi

cargo build --release -q -p weatherwise --bin weatherwise
CARGO_TARGET_DIR=target/chat-load cargo build --release -q --manifest-path bench/chat-load/Cargo.toml
BIN=target/release/weatherwise
TOOL=target/chat-load/release/chat-load

# The API hub's current-warnings text with a cold-wave warning in each of the first ROOMS
# provinces: one room each.
PROVINCES=(서울특별시 부산광역시 대구광역시 인천광역시 광주광역시 대전광역시 울산광역시 세종특별자치시 경기도
           강원특별자치도 충청북도 충청남도 전북특별자치도 전라남도 경상북도 경상남도 제주특별자치도)
NOW_KST=$(TZ=Asia/Seoul date +%Y%m%d%H%M)
{
  echo '#START7777'
  echo '# REG_UP, REG_UP_KO, REG_ID, REG_KO, TM_FC, TM_EF, WRN, LVL, CMD, ED_TM'
  for i in $(seq 0 $((ROOMS - 1))); do
    printf 'L10%02d000, %s, L10%02d100, %s, %s, %s, 한파, 경보, 발표, ,=\n' \
      "$i" "${PROVINCES[$i]}" "$i" "${PROVINCES[$i]}" "$NOW_KST" "$NOW_KST"
  done
  echo '#7777END'
} > "$WORK/warnings.txt"

# Starts `weatherwise serve` on port $1 with data directory $2, log $3, and the environment
# after them; sets LAST_PID.
serve() {
  local port=$1 data=$2 log=$3
  shift 3
  env WEATHERWISE_LOG__FILTER=warn \
      WEATHERWISE_ALERTS__FIXTURE="$WORK/warnings.txt" \
      WEATHERWISE_CHAT__SENDS_PER_USER__LIMIT=1000000 \
      WEATHERWISE_CHAT__SENDS_PER_USER__WINDOW_SECS=1 \
      WEATHERWISE_AUTH__ACCESS_TTL_SECS=86400 \
      "$@" "$BIN" serve --listen "127.0.0.1:$port" --data-dir "$data" > "$log" 2>&1 &
  LAST_PID=$!
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server on :$port did not start" >&2; exit 1; }
}
# Signs up a user on the server at port $1 and prints its access token (every connection
# presents it: the server allows many per user).
token() {
  curl -fs -XPOST "http://127.0.0.1:$1/api/v1/auth/signup" -H 'content-type: application/json' \
    -d '{"email":"chat-bench@example.com","password":"bench password 1","nickname":"bench"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
# Prints the ids of the open rooms of the server at port $1 (token $2) once ROOMS are open: they
# open when the warning feed has been read, which the server does as it starts.
room_ids() {
  local ids=''
  for _ in $(seq 1 100); do
    ids=$(curl -fs "http://127.0.0.1:$1/api/v1/chat/rooms?limit=50" -H "Authorization: Bearer $2" |
      python3 -c 'import json,sys; print(",".join(r["id"] for r in json.load(sys.stdin)["rooms"] if r["status"] == "open"))')
    [ "$(tr ',' '\n' <<<"$ids" | grep -c .)" -ge "$ROOMS" ] && { echo "$ids"; return 0; }
    sleep 0.2
  done
  echo "only rooms [$ids] opened on :$1" >&2
  exit 1
}

serve "$PORT" "$WORK/data" "$WORK/server.log"
SERVER=$LAST_PID
TOKEN=$(token "$PORT")
ROOM_IDS=$(room_ids "$PORT" "$TOKEN")

WW=(--target weatherwise --url "ws://127.0.0.1:$PORT/ws" --token "$TOKEN" --room-ids "$ROOM_IDS")
RMQ=(--target rabbitmq --url ws://127.0.0.1:15674/ws)

# Two instances of one scaled deployment, on a database, key prefix and topic prefix of their own.
if [ "$SCALED" = 1 ]; then
  bash scripts/services.sh >/dev/null
  STAMP=$(date +%s)
  BENCH_DB=ww_bench_chat_$STAMP
  psql -h 127.0.0.1 -U postgres -qc "create database $BENCH_DB" >/dev/null
  SCALED_ENV=(WEATHERWISE_DATABASE__URL="postgres://postgres@127.0.0.1:5432/$BENCH_DB"
              WEATHERWISE_STATE__URL=redis://127.0.0.1:6379 WEATHERWISE_STATE__KEY_PREFIX="wwbench:$STAMP:"
              WEATHERWISE_BUS__URL=kafka://127.0.0.1:9092 WEATHERWISE_BUS__TOPIC_PREFIX="wwbench.$STAMP.")
  for n in 1 2; do
    serve $((PORT + n)) "$WORK/data-$n" "$WORK/server-$n.log" "${SCALED_ENV[@]}"
    SCALED_SERVERS="$SCALED_SERVERS $LAST_PID"
  done
  SCALED_TOKEN=$(token $((PORT + 1)))
  WW2=(--target weatherwise --label weatherwise-2 --url "ws://127.0.0.1:$((PORT + 1))/ws,ws://127.0.0.1:$((PORT + 2))/ws"
       --token "$SCALED_TOKEN" --room-ids "$(room_ids $((PORT + 1)) "$SCALED_TOKEN")")
fi

# Idle memory first, while neither side has served any load: sets $1 to "<before KiB> <after KiB>",
# process $2's resident set before and after IDLE more connections (tool options after). A first
# IDLE/4 connections are opened and held beforehand: both allocators keep freed memory resident
# (and the server's heap grows in huge pages), which the first connections would use up
# without raising the RSS.
idle_rss() {
  local var=$1 pid=$2 before
  shift 2
  hold "$((IDLE / 4))" "$@"
  before=$(rss_kib "$pid")
  hold "$IDLE" "$@"
  printf -v "$var" '%s %s' "$before" "$(rss_kib "$pid")"
  kill $TOOL_PID; wait $TOOL_PID 2>/dev/null || true; TOOL_PID=''
}
# Opens $1 idle subscribed connections in the background (tool options after) and waits for them.
hold() {
  local count=$1 out
  out=$(mktemp -p "$WORK")
  shift
  "$TOOL" "$@" --rooms "$ROOMS" --idle "$count" > "$out" & TOOL_PID="$TOOL_PID $!"
  for _ in $(seq 1 300); do grep -q ready "$out" && break; kill -0 "$!" 2>/dev/null || break; sleep 0.1; done
  grep -q ready "$out" || { echo "could not open $count idle connections ($*)" >&2; exit 1; }
  sleep 2
}
# The blocking-pool thread that hashed the sign-up password keeps its memory until it has been
# idle for 10 s.
sleep 11
idle_rss IDLE_WW "$SERVER" "${WW[@]}"
idle_rss IDLE_RMQ "$BEAM" "${RMQ[@]}"

busy_ticks() {
  local total=0 pid
  for pid in $SERVER $SCALED_SERVERS $BEAM; do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}
# Waits (up to 30 s) until the servers and the broker together use under 5% of a core: after an
# overloaded step any may still be working off what it had queued.
quiesce() {
  local before after
  for _ in $(seq 1 30); do
    before=$(busy_ticks)
    sleep 1
    after=$(busy_ticks)
    [ $((after - before)) -lt $(( $(getconf CLK_TCK) / 20 )) ] && return 0
  done
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
step() {
  quiesce
  "$TOOL" "$@" --rooms "$ROOMS" --subscribers "$SUBSCRIBERS" --rate "$RATE" \
    --seconds "$DURATION" --warmup-seconds "$WARMUP" | tee -a "$RAW"
}
for RATE in $RATES; do
  step "${WW[@]}"
  [ "$SCALED" = 1 ] && step "${WW2[@]}"
  step "${RMQ[@]}"
done

CORES=$(nproc)
export ROOMS SUBSCRIBERS DURATION WARMUP IDLE IDLE_ASKED SOCKETS_LIMIT P99_LIMIT_MS IDLE_WW IDLE_RMQ \
  LOAD_BEFORE RABBIT_VERSION STARTED CORES
python3 bench/chat_report.py "$RAW" > "$OUT"
echo
cat "$OUT"
