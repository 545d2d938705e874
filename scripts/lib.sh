# Shared by the demo and test scripts: start a redis-server and the bridge on
# free loopback ports, and stop them by PID when the calling script exits.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/redis-wasm.XXXXXX")
PIDS=()

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$RUN_DIR"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis: sets REDIS_PORT.
start_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$RUN_DIR/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUN_DIR/redis" \
    >"$RUN_DIR/redis.log" 2>&1 &
  PIDS+=($!)
  local _
  for _ in $(seq 100); do
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "redis-server did not start:" >&2
  cat "$RUN_DIR/redis.log" >&2
  return 1
}

# start_bridge BINARY LISTEN [FLAGS...]: sets BRIDGE_ADDR (host:port).
start_bridge() {
  local binary=$1 listen=$2
  shift 2
  "$binary" --listen "$listen" --redis "127.0.0.1:$REDIS_PORT" "$@" \
    >"$RUN_DIR/bridge.out" 2>"$RUN_DIR/bridge.log" &
  PIDS+=($!)
  local _
  for _ in $(seq 100); do
    BRIDGE_ADDR=$(sed -n 's/^listening on //p' "$RUN_DIR/bridge.out" | head -n 1)
    if [ -n "$BRIDGE_ADDR" ]; then return 0; fi
    sleep 0.1
  done
  echo "the bridge did not start:" >&2
  cat "$RUN_DIR/bridge.log" >&2
  return 1
}
