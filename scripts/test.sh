#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust unit, property and
# integration tests, the client in headless Chromium through the real bridge,
# and the end-to-end demo test with Playwright.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
step() { printf '\n=== %s ===\n' "$*"; }

step setup
scripts/setup.sh

step "format and lints"
# The generated command table must match its snapshot and generator.
node client-wasm/gen/generate.mjs --check
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p redis-wasm --target wasm32-unknown-unknown --all-targets --features bench -- -D warnings

step "command table: the generated JS methods and types, in node against redis-server"
node --test client-wasm/test/*.test.mjs

step "Rust tests (codec, client core, bridge) and benchmark smoke run"
cargo test --workspace --all-targets

step "build the npm package and the bridge"
scripts/build.sh

# shellcheck source=lib.sh
source scripts/lib.sh

step "client in headless Chromium through the bridge"
start_redis
# The test page is served by wasm-bindgen's runner: pin its address so the
# bridge can allow exactly that origin.
TEST_PAGE_ADDR="127.0.0.1:$(free_port)"
# Messages over 1 MiB are refused, so the large-value test shows the client
# splitting its writes; the trusted profile lets the seed API's SELECT and
# administration through.
start_bridge target/debug/redis-ws-bridge 127.0.0.1:0 --allow-origin "http://$TEST_PAGE_ADDR" \
  --max-message-size 1048576 --profile trusted
export REDIS_WASM_TEST_BRIDGE="ws://$BRIDGE_ADDR/"
WASM_BINDGEN_TEST_ADDRESS=$TEST_PAGE_ADDR CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver} \
  wasm-pack test --headless --chrome --mode no-install client-wasm

step "end to end: the demo page in Chromium (Playwright)"
(cd tests && BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" WWW_DIR="$ROOT/www" node --test)

step "benchmark smoke run (bench/run --quick; speeds are reported, never asserted)"
BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" bench/run --quick

rm -rf /tmp/org.chromium.* 2>/dev/null || true
