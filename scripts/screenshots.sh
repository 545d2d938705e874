#!/usr/bin/env bash
# Takes the GUI's screenshots for docs/ (every panel at 1280x720 and
# 390x844, a few more views at 1280x720): the GUI tests write them when
# SCREENSHOT_DIR is set. pngquant then shrinks them (a 256-colour
# palette keeps UI pictures sharp at a third of the size).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"

cd "$ROOT/tests"
SCREENSHOT_DIR="$ROOT/docs" BRIDGE_BIN="$ROOT/target/debug/redis-ws-bridge" WWW_DIR="$ROOT/www" \
  node --test gui-connection.test.mjs gui-keys.test.mjs gui-server.test.mjs gui-cluster.test.mjs demo.test.mjs
rm -rf /tmp/org.chromium.* 2>/dev/null || true

for png in "$ROOT"/docs/*-1280.png "$ROOT"/docs/*-390.png; do
  # Exit 98/99: the result would be larger or worse than asked; the original stays.
  pngquant --force --strip --skip-if-larger --quality 60-95 --ext .png "$png" || [ $? -ge 98 ]
done
ls -l "$ROOT"/docs/*.png
