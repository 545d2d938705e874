// Turns wasm-pack's output in pkg/ into the `redis-wasm` npm package: adds
// the entry module (which initialises the wasm on import) and points the
// package's entry fields at it.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = new URL('./pkg/', import.meta.url);
copyFileSync(new URL('./js/index.js', import.meta.url), new URL('index.js', pkg));

const manifestUrl = new URL('package.json', pkg);
const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8'));
manifest.type = 'module';
manifest.main = 'index.js';
manifest.module = 'index.js';
manifest.exports = { '.': { default: './index.js' }, './package.json': './package.json' };
manifest.files = [...new Set([...(manifest.files ?? []), 'index.js', 'snippets'])];
manifest.sideEffects = ['./index.js', './redis_wasm.js', './snippets/*'];
writeFileSync(manifestUrl, `${JSON.stringify(manifest, null, 2)}\n`);
