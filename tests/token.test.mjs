// A bridge that authenticates with tokens mapped to Redis ACL users: the
// client presents its token in the handshake, never in the URL.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, redisCommand, startBridge, startRedis, TRUSTED } from './harness.mjs';

let redis;
let bridge;
let browser;
let dir;

before(async () => {
  redis = await startRedis();
  assert.equal(await redisCommand(redis.port, 'ACL', 'SETUSER', 'alice', 'on', '>alice-pw', '~*', '&*', '+@all'), '+OK\r\n');
  // A token bridge wants Redis to refuse connections without credentials.
  assert.equal(await redisCommand(redis.port, 'ACL', 'SETUSER', 'default', 'off'), '+OK\r\n');
  dir = mkdtempSync(join(tmpdir(), 'redis-wasm-tokens-'));
  const tokens = join(dir, 'tokens.toml');
  writeFileSync(tokens, '[[token]]\ntoken = "t0ken-for-älice"\nuser = "alice"\npassword = "alice-pw"\n');
  // The trusted profile denies ACL; WHOAMI is what this test asks.
  bridge = await startBridge(redis.port, [...TRUSTED, '--tokens', tokens, '--allow-command', 'ACL|WHOAMI']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const proc of [bridge?.proc, redis?.proc]) if (proc && proc.exitCode === null) proc.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the token logs in as its ACL user; no token or a wrong one is refused', async () => {
  const page = await browser.newPage();
  await page.goto(`http://${bridge.addr}/style.css`);
  const result = await page.evaluate(async () => {
    const m = await import('/pkg/index.js');
    const url = `ws://${location.host}/`;
    const conn = await m.Connection.create({ url, token: 't0ken-for-älice' });
    const whoami = await conn.call('ACL', 'WHOAMI');
    const refusal = (options) => m.Connection.create({ url, ...options }).then(() => 'connected', (e) => e.constructor.name);
    return { whoami, none: await refusal({}), wrong: await refusal({ token: 'nope' }) };
  });
  assert.deepEqual(result, { whoami: 'alice', none: 'NotConnectedError', wrong: 'NotConnectedError' });
});
