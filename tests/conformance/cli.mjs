// Runs the conformance suite in a JavaScript runtime (Node, Deno, Bun):
//   <runtime> cli.mjs <entry module URL> <bridge ws:// URL> <token> [ws]
// imports the package's entry, runs every test through the bridge with the
// token (these runtimes send no Origin), prints the results as one JSON
// line, and then simply returns: with every connection closed, nothing may
// keep the process alive, and the host checks that it exits by itself.
// `ws` hands the client the ws package's WebSocket (Node 20 has no global one).
import { runSuite } from './run.mjs';

const [entry, url, token, websocket] = globalThis.Deno?.args ?? process.argv.slice(2);
const m = await import(entry);
const options = { url, token };
if (websocket === 'ws') options.WebSocket = (await import('ws')).WebSocket;
const results = await runSuite(m, options);
console.log(JSON.stringify({ results }));
