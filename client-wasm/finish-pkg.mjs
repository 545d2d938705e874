// Turns wasm-pack's output in pkg/ into the `redis-wasm` npm package: adds
// the entry module (which initialises the wasm on import) and its types
// (js/index.d.ts with the command methods generated from the Rust command
// table by gen-types.mjs), and writes the package's manifest fields.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { commandDeclarations } from './gen-types.mjs';

const pkg = new URL('./pkg/', import.meta.url);
copyFileSync(new URL('./js/index.js', import.meta.url), new URL('index.js', pkg));

const MARKER = '  /* @generated commands */';
const types = readFileSync(new URL('./js/index.d.ts', import.meta.url), 'utf8');
if (types.split(MARKER).length !== 2) throw new Error(`finish-pkg: js/index.d.ts must contain the line '${MARKER}' once`);
writeFileSync(new URL('index.d.ts', pkg), types.replace(MARKER, commandDeclarations().text));

const manifestUrl = new URL('package.json', pkg);
const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8'));
// wasm-pack fills name, version, description, license and repository from
// Cargo.toml; the rest describes the entry module and what is published.
const { name, version, description, license, repository } = manifest;
const finished = {
  name,
  version,
  description,
  license,
  repository,
  keywords: ['redis', 'resp', 'websocket', 'webassembly', 'wasm', 'browser'],
  type: 'module',
  main: './index.js',
  module: './index.js',
  types: './index.d.ts',
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './package.json': './package.json',
  },
  // The wasm-bindgen glue's own redis_wasm.d.ts is not published: its types
  // are all `any`; index.d.ts replaces it.
  files: ['index.js', 'index.d.ts', 'redis_wasm.js', 'redis_wasm_bg.wasm', 'snippets'],
  // Importing the entry instantiates the wasm (top-level await).
  sideEffects: ['./index.js', './redis_wasm.js', './snippets/*'],
};
for (const [field, value] of Object.entries(finished)) {
  if (value === undefined) throw new Error(`finish-pkg: package.json has no ${field}`);
}
writeFileSync(manifestUrl, `${JSON.stringify(finished, null, 2)}\n`);
