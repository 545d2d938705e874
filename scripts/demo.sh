#!/usr/bin/env bash
# Builds everything, starts a local redis-server and the bridge serving the
# demo page, and prints the URL to open. Ctrl-C stops both.
#   PORT=7379 ./scripts/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" --release
# shellcheck source=lib.sh
source "$ROOT/scripts/lib.sh"

BRIDGE="$ROOT/target/release/redis-ws-bridge"
# The GUI's server panel reads INFO, SLOWLOG and CLIENT LIST: a bridge
# with profiles serves this loopback demo with the operator's one.
profile=()
if [[ $("$BRIDGE" --help) == *--profile* ]]; then profile=(--profile trusted); fi

start_redis
start_bridge "$BRIDGE" "127.0.0.1:${PORT:-7379}" --static "$ROOT/www" "${profile[@]}"
echo
echo "redis-server on 127.0.0.1:$REDIS_PORT, bridge on $BRIDGE_ADDR"
echo "Open http://$BRIDGE_ADDR/ (Ctrl-C to stop)"
wait "${PIDS[@]}"
