// The demo page, end to end: a command typed into the console reaches a real
// Redis through the real bridge, and its reply is shown.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openDemo, redisCommand, startStack } from './harness.mjs';

let stack;
let page;

before(async () => {
  stack = await startStack();
  ({ page } = await openDemo(stack));
  await page.click('#tab-console');
});

after(async () => {
  await stack?.stop();
});

async function run(command) {
  const before = await page.locator('.entry').count();
  await page.fill('#command', command);
  await page.press('#command', 'Enter');
  const entry = page.locator('.entry').nth(before);
  await entry.waitFor({ timeout: 10_000 });
  assert.equal(await entry.locator('.cmd').textContent(), command);
  return entry.locator('.reply');
}

test('SET typed in the console is stored in Redis, GET shows it', async () => {
  assert.equal(await (await run('SET greeting "hello world"')).textContent(), '"OK"');
  assert.equal(await redisCommand(stack.redisPort, 'GET', 'greeting'), '$11\r\nhello world\r\n');
  assert.equal(await (await run('GET greeting')).textContent(), '"hello world"');
});

test('integers, nil and nested arrays are rendered by type', async () => {
  await redisCommand(stack.redisPort, 'DEL', 'list');
  assert.equal(await (await run('RPUSH list a b')).textContent(), '(integer) 2');
  assert.equal(await (await run('LRANGE list 0 -1')).textContent(), '1) "a"\n2) "b"');
  assert.equal(await (await run('GET no-such-key')).textContent(), '(nil)');
});

test('an error reply is shown in red and the console keeps working', async () => {
  const reply = await run('INCR greeting');
  assert.match(await reply.textContent(), /^\(error\) ERR value is not an integer/);
  assert.match(await reply.getAttribute('class'), /\berror\b/);
  assert.equal(await (await run('PING')).textContent(), '"PONG"');
});
