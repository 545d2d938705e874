// The conformance suite in the JavaScript runtimes beside the browsers:
// Node 20 with the ws package's WebSocket handed in (it has no global one),
// Node 22 and 24, Deno and Bun with their global WebSocket, all through a
// bridge token (they send no Origin), each exiting by itself afterwards.
// The runtimes come from tests/runtimes (installed by scripts/setup.sh).
// Plus: such a client is refused without a token.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { conformance, inRuntime } from './hosts.mjs';
import { WWW_DIR } from './harness.mjs';

const RUNTIMES = join(import.meta.dirname, 'runtimes/node_modules');
const entry = (file) => pathToFileURL(join(WWW_DIR, 'pkg', file)).href;

conformance('node 20 with ws', inRuntime(process.execPath, [], entry('node.js'), ['ws']));
conformance('node 22', inRuntime(join(RUNTIMES, 'node22/bin/node'), [], entry('node.js')));
conformance('node 24', inRuntime(join(RUNTIMES, 'node24/bin/node'), [], entry('node.js')));
conformance('deno', inRuntime(join(RUNTIMES, 'deno/deno'), ['run', '--allow-read', '--allow-net=127.0.0.1'], entry('index.js')));
conformance('bun', inRuntime(join(RUNTIMES, 'bun/bin/bun'), [], entry('node.js')));
