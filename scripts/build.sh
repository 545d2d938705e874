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
# Stripped: the function-name section is a sixth of the wasm and only names
# frames in a profiler (build with CARGO_PROFILE_RELEASE_STRIP=false for one).
CARGO_PROFILE_RELEASE_STRIP=${CARGO_PROFILE_RELEASE_STRIP:-true} \
  wasm-pack build client-wasm --release --target web --mode no-install --out-dir pkg
scripts/wasm-opt.sh client-wasm/pkg/redis_wasm_bg.wasm
node client-wasm/finish-pkg.mjs
rm -rf www/pkg
cp -r client-wasm/pkg www/pkg
cargo build -p redis-ws-bridge "${profile[@]}"
