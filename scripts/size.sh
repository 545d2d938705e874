#!/usr/bin/env bash
# Prints what the npm package weighs as a page downloads it: each file the
# browser loads (the wasm, its glue, the entry index.js with manual.js, and
# the snippet modules; not node.js, which only Node and Bun load, nor
# shared*.js, which load with the first SharedConnection: they are listed
# after the total), raw and gzip -9.
# Reads client-wasm/pkg (scripts/build.sh first).
set -euo pipefail
cd "$(dirname "$0")/../client-wasm/pkg"
total_raw=0
total_gz=0
row() {
  raw=$(stat -c %s "$1")
  gz=$(gzip -9c "$1" | wc -c)
  printf '%-28s %10d %10d\n' "${1#snippets/*/}" "$raw" "$gz"
}
printf '%-28s %10s %10s\n' file bytes 'gzip -9'
while IFS= read -r file; do
  row "$file"
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
done < <(find . \( -name '*.wasm' -o -name '*.js' \) ! -name node.js ! -name 'shared*.js' | sed 's|^\./||' | sort)
printf '%-28s %10d %10d\n' total "$total_raw" "$total_gz"
echo 'with the first SharedConnection:'
for file in shared.js shared-host.js shared-worker.js shared-leader.js; do row "$file"; done
