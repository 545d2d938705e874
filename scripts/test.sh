#!/usr/bin/env bash
# Runs every check and test: formatting, lints, the Rust unit, property and
# integration tests, and the end-to-end tests through the real bridge: every
# suite in headless Chromium, the conformance suite also in Firefox,
# WebKitGTK, a Web Worker, Node 20/22/24, Deno and Bun.
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

step "end to end: Chromium (Playwright); the conformance suite in Firefox, WebKitGTK, a worker, Node, Deno, Bun"
(cd tests && BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" WWW_DIR="$ROOT/www" node --test)

step "benchmark smoke run (bench/run --quick; speeds are reported, never asserted)"
BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" bench/run --quick

rm -rf /tmp/org.chromium.* 2>/dev/null || true
