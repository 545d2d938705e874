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

start_redis
# The demo page is an operator's tool (key browser, MEMORY USAGE, INFO stats,
# the server panel, any command in the console): the trusted profile, on
# loopback only.
start_bridge "$ROOT/target/release/redis-ws-bridge" "127.0.0.1:${PORT:-7379}" --profile trusted --static "$ROOT/www"
echo
echo "redis-server on 127.0.0.1:$REDIS_PORT, bridge on $BRIDGE_ADDR"
echo "Open http://$BRIDGE_ADDR/ (Ctrl-C to stop)"
wait "${PIDS[@]}"
