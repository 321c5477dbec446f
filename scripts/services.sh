#!/usr/bin/env bash
# Makes sure the services the scaled-mode tests need are up on loopback: PostgreSQL, Redis, a
# Kafka-protocol broker (tansu, pinned, installed once per machine) and an S3-compatible object
# store (moto's server, pinned, installed by scripts/python-tools.sh). Fails if one cannot be
# reached: a test run without them would prove nothing about the scaled mode.
set -euo pipefail

TANSU_VERSION=0.6.0
KAFKA_PORT=${WEATHERWISE_TEST_KAFKA_PORT:-9092}
S3_PORT=${WEATHERWISE_TEST_S3_PORT:-9000}
LOG_DIR=${WEATHERWISE_LOG_DIR:-/tmp/weatherwise-services}
mkdir -p "$LOG_DIR"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "error: $name is not reachable on 127.0.0.1:$port" >&2
  exit 1
}

if ! port_open 5432; then
  echo "starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
fi
wait_port PostgreSQL 5432

if ! port_open 6379; then
  echo "starting Redis"
  if command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi
wait_port Redis 6379

# Storage engines: memory for the shared broker (fast, forgotten at exit) and SQLite for a
# broker a test restarts, which must remember its topics and offsets as a real one does.
TANSU_FEATURES=dynostore,libsql
tansu_installed() {
  command -v tansu >/dev/null &&
    grep -o "\"tansu $TANSU_VERSION [^}]*" "${CARGO_HOME:-$HOME/.cargo}/.crates2.json" 2>/dev/null |
    grep -q '"libsql"'
}
if ! tansu_installed; then
  echo "installing tansu $TANSU_VERSION (a Kafka-protocol broker; about 20 minutes on two cores)"
  cargo install tansu --version "$TANSU_VERSION" --locked --features "$TANSU_FEATURES"
fi
if ! port_open "$KAFKA_PORT"; then
  echo "starting tansu on 127.0.0.1:$KAFKA_PORT"
  nohup tansu broker \
    --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
    --storage-engine memory://tansu/ >"$LOG_DIR/tansu.log" 2>&1 &
fi
wait_port "the Kafka broker (tansu)" "$KAFKA_PORT"

if ! port_open "$S3_PORT"; then
  bash "$(dirname "$0")/python-tools.sh"
  echo "starting moto (S3) on 127.0.0.1:$S3_PORT"
  nohup "$(dirname "$0")/../target/tools/python/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" \
    >"$LOG_DIR/moto.log" 2>&1 &
fi
wait_port "the S3-compatible server (moto)" "$S3_PORT"

# Databases left behind by earlier test runs.
psql -h 127.0.0.1 -U postgres -d postgres -Atc \
  "select datname from pg_database where datname like 'ww_test_%'" 2>/dev/null |
  while read -r db; do psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db" >/dev/null 2>&1 || true; done
echo "services ready: PostgreSQL :5432, Redis :6379, Kafka (tansu) :$KAFKA_PORT, S3 (moto) :$S3_PORT"
