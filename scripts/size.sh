#!/usr/bin/env bash
# Prints what the npm package weighs as a page downloads it: each file the
# browser loads (the wasm, its glue, the entry index.js with manual.js, and
# the snippet modules; not node.js, which only Node and Bun load), raw and
# gzip -9, and the total. Reads client-wasm/pkg (scripts/build.sh first).
set -euo pipefail
cd "$(dirname "$0")/../client-wasm/pkg"
total_raw=0
total_gz=0
printf '%-28s %10s %10s\n' file bytes 'gzip -9'
while IFS= read -r file; do
  raw=$(stat -c %s "$file")
  gz=$(gzip -9c "$file" | wc -c)
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
  printf '%-28s %10d %10d\n' "${file#snippets/*/}" "$raw" "$gz"
done < <(find . \( -name '*.wasm' -o -name '*.js' \) ! -name node.js | sed 's|^\./||' | sort)
printf '%-28s %10d %10d\n' total "$total_raw" "$total_gz"
