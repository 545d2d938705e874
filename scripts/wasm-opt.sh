#!/usr/bin/env bash
# Optimises a wasm-bindgen output in place with Binaryen's wasm-opt -O3 (the
# npm `binaryen` package that scripts/setup.sh installs with the tests'
# tools; Debian's older binaryen breaks wasm-bindgen output). -O3, not -Oz:
# the gzipped size is within a few hundred bytes either way (wasm-opt's
# smaller output compresses worse), and -O3 keeps the decoder's speed.
# The features are those rustc enables for wasm32-unknown-unknown: the
# wasm-bindgen output no longer lists them, and wasm-opt refuses an
# instruction of a feature it was not told about. The function names stay
# when the build keeps them (CARGO_PROFILE_RELEASE_STRIP=false, for a
# profiler).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WASM_OPT="$ROOT/tests/node_modules/.bin/wasm-opt"
if [ ! -x "$WASM_OPT" ]; then
  echo "wasm-opt.sh: $WASM_OPT is missing; run scripts/setup.sh" >&2
  exit 1
fi
names=(--strip-debug --strip-producers)
[ "${CARGO_PROFILE_RELEASE_STRIP:-true}" = false ] && names=(--debuginfo)
for wasm in "$@"; do
  "$WASM_OPT" -O3 "${names[@]}" \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$wasm" -o "$wasm.opt"
  mv "$wasm.opt" "$wasm"
done
