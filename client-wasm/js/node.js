// redis-wasm for Node and Bun: their `fetch` refuses `file:` URLs, so the
// .wasm is read from the package with fs and initialised synchronously on
// import. Otherwise the same package as index.js.
import { readFileSync } from 'node:fs';
import { initSync } from './manual.js';

initSync(readFileSync(new URL('./redis_wasm_bg.wasm', import.meta.url)));

export * from './manual.js';
