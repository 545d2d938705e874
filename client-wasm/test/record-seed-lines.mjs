#!/usr/bin/env node
// Records seed-lines.json: what the package in the given directory (built
// while the seed's methods were the Rust ArgReader's) sends for each seed
// case. `node client-wasm/test/record-seed-lines.mjs client-wasm/pkg`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { comparable, seedCases } from './cases.mjs';
import { runPackage } from './package-lines.mjs';

if (!process.argv[2]) {
  console.error('usage: node client-wasm/test/record-seed-lines.mjs <package directory>');
  process.exit(2);
}
const pkg = resolve(process.argv[2]);
const results = await runPackage(pkg, seedCases());
const rows = results.map(({ id, line, error }) => JSON.stringify(line ? { id, line: comparable(line) } : { id, error }));
writeFileSync(resolve(import.meta.dirname, 'seed-lines.json'), `[\n${rows.join(',\n')}\n]\n`);
console.log(`recorded ${rows.length} cases from ${pkg}`);
process.exit(0);
