#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust unit, property and
# integration tests, and the Playwright tests in headless Chromium through the
# real bridge.
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
scripts/size.sh

step "end to end: the demo page in Chromium (Playwright)"
(cd tests && BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" WWW_DIR="$ROOT/www" node --test)

step "benchmark smoke run (bench/run --quick; speeds are reported, never asserted)"
BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" bench/run --quick

rm -rf /tmp/org.chromium.* 2>/dev/null || true
