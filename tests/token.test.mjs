// A bridge that authenticates with tokens mapped to Redis ACL users: the
// client presents its token in the handshake, never in the URL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, startRedis, startTokenBridge, TOKEN, TRUSTED } from './harness.mjs';

let redis;
let bridge;
let browser;

before(async () => {
  redis = await startRedis();
  // The trusted profile denies ACL; WHOAMI is what this test asks.
  bridge = await startTokenBridge(redis.port, [...TRUSTED, '--allow-command', 'ACL|WHOAMI']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const proc of [bridge?.proc, redis?.proc]) if (proc && proc.exitCode === null) proc.kill('SIGTERM');
});

test('the token logs in as its ACL user; no token or a wrong one is refused', async () => {
  const page = await browser.newPage();
  await page.goto(`http://${bridge.addr}/style.css`);
  const result = await page.evaluate(async (token) => {
    const m = await import('/pkg/index.js');
    const url = `ws://${location.host}/`;
    const conn = await m.Connection.create({ url, token });
    const whoami = await conn.call('ACL', 'WHOAMI');
    const refusal = (options) => m.Connection.create({ url, ...options }).then(() => 'connected', (e) => e.constructor.name);
    return { whoami, none: await refusal({}), wrong: await refusal({ token: 'nope' }) };
  }, TOKEN);
  assert.deepEqual(result, { whoami: 'alice', none: 'NotConnectedError', wrong: 'NotConnectedError' });
});
