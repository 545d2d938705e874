#!/usr/bin/env node
// The command table generator: turns the snapshot of what redis-server
// says about its commands (client-wasm/commands/redis-commands.json, written
// by scripts/gen-commands) into the committed sources the client is built
// from. `--check` writes nothing and fails when a committed output is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderJsMethods } from './js-methods.mjs';
import { loadSeed, methods } from './methods.mjs';
import { renderRustTable } from './rust-table.mjs';
import { renderTypes } from './ts-types.mjs';
import { loadSnapshot } from './snapshot.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const snapshot = loadSnapshot(ROOT);
const all = methods(snapshot, loadSeed(ROOT));

const outputs = {
  'client-wasm/src/core/table.rs': renderRustTable(snapshot),
  'client-wasm/js/commands.js': renderJsMethods(snapshot, all),
  'client-wasm/js/methods.d.ts': renderTypes(snapshot, all),
};

const check = process.argv.includes('--check');
const stale = [];
for (const [path, text] of Object.entries(outputs)) {
  let committed = null;
  try {
    committed = readFileSync(join(ROOT, path), 'utf8');
  } catch {
    // a missing output is stale
  }
  if (committed === text) continue;
  if (check) stale.push(path);
  else writeFileSync(join(ROOT, path), text);
}
if (stale.length) {
  console.error(`stale generated files (run node client-wasm/gen/generate.mjs): ${stale.join(', ')}`);
  process.exit(1);
}
