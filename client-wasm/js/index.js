// redis-wasm for browsers, workers, Deno and bundlers: importing this module
// fetches the .wasm found next to it through import.meta.url and initialises
// it (top-level await), so users never call an init function themselves.
// Node and Bun load node.js instead (package.json's conditional exports).
import { init } from './manual.js';

await init();

export * from './manual.js';
