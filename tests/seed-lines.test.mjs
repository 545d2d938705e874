// The built package's own seed methods, in node (no browser): each seed
// case sends exactly the command line, or rejects with exactly the
// TypeError, recorded in client-wasm/test/seed-lines.json, which was taken
// from the Rust ArgReader. The package's WebSocket is a recorder here: the
// lines are read back from what the client would send.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { BY_DESIGN, comparable, seedCases } from '../client-wasm/test/cases.mjs';
import { runPackage } from '../client-wasm/test/package-lines.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const PKG = process.env.PKG_DIR ?? join(ROOT, 'client-wasm/pkg');

test('the package sends exactly the recorded seed lines', { timeout: 120_000 }, async () => {
  const golden = JSON.parse(readFileSync(join(ROOT, 'client-wasm/test/seed-lines.json'), 'utf8'));
  const cases = seedCases();
  const results = await runPackage(PKG, cases);
  assert.equal(results.length, golden.length);
  for (const [i, result] of results.entries()) {
    // The builders' deliberate departures from the Rust ArgReader.
    const expected = BY_DESIGN[golden[i].id] ? { id: golden[i].id, ...BY_DESIGN[golden[i].id] }
      : golden[i].line ? { id: golden[i].id, line: golden[i].line } : golden[i];
    const actual = result.line ? { id: result.id, line: comparable(result.line) } : result;
    assert.deepEqual(actual, expected, result.id);
  }
});
