#!/usr/bin/env bash
# Installs everything building, testing and the demo need, skipping whatever
# is already there, so it is safe to run on every build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

# The CLI must match the wasm-bindgen crate exactly: read the pin from the crate.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' client-wasm/Cargo.toml)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
# Forms the test clusters (`redis-cli --cluster create`); redis-server's package brings it.
command -v redis-cli >/dev/null || packages+=(redis-tools)
command -v chromium >/dev/null || packages+=(chromium)
command -v node >/dev/null || packages+=(nodejs npm)
command -v python3 >/dev/null || packages+=(python3)
# Shrinks the GUI screenshots (scripts/screenshots.sh).
command -v pngquant >/dev/null || packages+=(pngquant)
# The browsers beside Chromium that the conformance suite runs in
# (tests/browsers.mjs): Firefox ESR, and WebKitGTK's WebDriver (which brings
# its MiniBrowser) with an X server of its own, since MiniBrowser has no
# headless mode.
command -v firefox-esr >/dev/null || packages+=(firefox-esr)
command -v WebKitWebDriver >/dev/null || packages+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || packages+=(xvfb)
if [ ${#packages[@]} -gt 0 ]; then
  echo "setup: installing ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

if ! wasm-bindgen --version 2>/dev/null | grep -qF "$WASM_BINDGEN_VERSION"; then
  echo "setup: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
command -v wasm-pack >/dev/null || cargo install wasm-pack --locked

# `npm ci` in a folder only when its lock file changed since the last install.
npm_ci() {
  local dir=$1
  shift
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json" 2>/dev/null; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "$@")
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json"
  fi
}
npm_ci tests
# Node 22 and 24, Deno and Bun for the conformance suite: npm packages that
# carry the binaries, pinned with their checksums by tests/runtimes's own
# lock file, so that they download once (about 150 MB) and stay cached when
# the test tools change. (Two of them ship a `node` bin: no bin links.)
npm_ci tests/runtimes --bin-links=false
