#!/usr/bin/env bash
# Builds the npm package into client-wasm/pkg (and a copy for the demo page
# in www/pkg) and the bridge. `--release` builds the bridge optimised.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

profile=()
[ "${1:-}" = "--release" ] && profile=(--release)

# The command table, JS methods and types, from the committed snapshot.
node client-wasm/gen/generate.mjs
wasm-pack build client-wasm --release --target web --mode no-install --out-dir pkg
node client-wasm/finish-pkg.mjs
rm -rf www/pkg
cp -r client-wasm/pkg www/pkg
cargo build -p redis-ws-bridge "${profile[@]}"
