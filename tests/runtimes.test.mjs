// The conformance suite in the JavaScript runtimes beside the browsers:
// Node 20 with the ws package's WebSocket handed in (it has no global one),
// Node 22 and 24, Deno and Bun with their global WebSocket, all through a
// bridge token (they send no Origin), each exiting by itself afterwards.
// The runtimes come from tests/runtimes (installed by scripts/setup.sh).
// Plus: such a client is refused without a token.
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { startRedis, startTokenBridge, stopProcess, TOKEN, TRUSTED, WWW_DIR } from './harness.mjs';
import { conformance, inRuntime } from './hosts.mjs';

const RUNTIMES = join(import.meta.dirname, 'runtimes/node_modules');
const entry = (file) => pathToFileURL(join(WWW_DIR, 'pkg', file)).href;

conformance('node 20 with ws', inRuntime(process.execPath, [], entry('node.js'), ['ws']));
conformance('node 22', inRuntime(join(RUNTIMES, 'node22/bin/node'), [], entry('node.js')));
conformance('node 24', inRuntime(join(RUNTIMES, 'node24/bin/node'), [], entry('node.js')));
conformance('deno', inRuntime(join(RUNTIMES, 'deno/deno'), ['run', '--allow-read', '--allow-net=127.0.0.1'], entry('index.js')));
conformance('bun', inRuntime(join(RUNTIMES, 'bun/bin/bun'), [], entry('node.js')));

test('a client that sends no Origin is refused without a token and accepted with one', async () => {
  const redis = await startRedis();
  try {
    const bridge = await startTokenBridge(redis.port, TRUSTED);
    try {
      // The handshake itself, as any non-browser client sends it: no Origin.
      const status = await new Promise((done, fail) => {
        const request = http.get(`http://${bridge.addr}/`, {
          headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'redis-wasm' },
        });
        request.once('response', (response) => { response.resume(); done(response.statusCode); });
        request.once('upgrade', (response, socket) => { socket.destroy(); done(response.statusCode); });
        request.once('error', fail);
      });
      assert.equal(status, 401, 'no Origin and no token');
      const m = await import(entry('node.js'));
      const url = `ws://${bridge.addr}/`;
      await assert.rejects(m.Connection.create({ url, WebSocket, connectTimeout: 1000 }), m.NotConnectedError);
      await assert.rejects(m.Connection.create({ url, WebSocket, token: 'not-the-token', connectTimeout: 1000 }), m.NotConnectedError);
      const conn = await m.Connection.create({ url, WebSocket, token: TOKEN });
      try {
        assert.equal((await conn.ping()).status, 'PONG');
      } finally {
        conn.close();
      }
    } finally {
      await stopProcess(bridge.proc);
    }
  } finally {
    await stopProcess(redis.proc);
  }
});
