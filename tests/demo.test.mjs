// The demo page's panels, driven as a person would, against a real Redis
// through the real bridge: the console (history, completion, trees, binary,
// pipelines, denied commands), the key browser (scan, view, edit, TTL,
// rename, delete, new keys), live pub/sub, the chart, and the connection
// indicator across a Redis restart. Screenshots of each panel and of the
// whole page go to docs/ for the README.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { openDemo, redisCommand, startStack } from './harness.mjs';

const DOCS = process.env.DOCS_DIR ?? resolve(import.meta.dirname, '../docs');

let stack;
let page;
let problems;
const redis = (...words) => redisCommand(stack.redisPort, ...words);

before(async () => {
  mkdirSync(DOCS, { recursive: true });
  stack = await startStack();
  for (const words of [
    ['SET', 'demo:greeting', 'hello'],
    ['HSET', 'demo:user:1', 'name', 'Ada Lovelace', 'born', '1815'],
    ['RPUSH', 'demo:queue', 'resize', 'email', 'backup'],
    ['SADD', 'demo:tags', 'redis', 'wasm', 'rust'],
    ['ZADD', 'demo:scores', '10', 'ada', '20', 'grace'],
    ['XADD', 'demo:events', '*', 'type', 'login', 'user', 'ada'],
    ['SET', 'demo:session', 'abc', 'EX', '3600'],
  ]) await redis(...words);
  for (let i = 0; i < 120; i++) await redis('SET', `bulk:${String(i).padStart(3, '0')}`, String(i));
  ({ page, problems } = await openDemo(stack, { viewport: { width: 1440, height: 1000 } }));
});

after(async () => {
  await stack?.stop();
});

/** Resolves once `check()` is truthy (polled), or fails saying `what`. */
async function until(check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

const text = (selector) => page.locator(selector).textContent();

/** Types `command` into the console and presses Enter; resolves to the new entries' `.reply` texts. */
async function run(command) {
  const before = await page.locator('.entry').count();
  const lines = command.split('\n').length;
  await page.fill('#command', command);
  await page.press('#command', 'Enter');
  await page.locator('.entry').nth(before + lines - 1).waitFor({ timeout: 10_000 });
  return page.locator('.entry .reply').evaluateAll((replies, from) => replies.slice(from).map((r) => r.textContent), before);
}

test('console: history, Tab completion with a syntax hint, trees, binary, errors', async () => {
  await run('ECHO first');
  await run('ECHO second');
  await page.press('#command', 'ArrowUp');
  assert.equal(await page.inputValue('#command'), 'ECHO second');
  await page.press('#command', 'ArrowUp');
  assert.equal(await page.inputValue('#command'), 'ECHO first');
  await page.press('#command', 'ArrowDown');
  assert.equal(await page.inputValue('#command'), 'ECHO second');
  await page.press('#command', 'ArrowDown');
  assert.equal(await page.inputValue('#command'), '');

  // Completion needs the command names (COMMAND LIST), fetched at start.
  await until(async () => {
    await page.fill('#command', 'hgeta');
    await page.press('#command', 'Tab');
    return (await page.inputValue('#command')) === 'HGETALL ';
  }, 'Tab to complete HGETALL');
  await until(async () => (await text('#hint')).startsWith('HGETALL key'), 'the HGETALL syntax hint');
  await page.fill('#command', 'ZRANGEB');
  await page.press('#command', 'Tab');
  assert.equal(await page.inputValue('#command'), 'ZRANGEBY');
  assert.match(await text('#hint'), /ZRANGEBYLEX\s+ZRANGEBYSCORE/);

  const [tree] = await run(`EVAL "return {1,{2,3},'x'}" 0`);
  assert.equal(tree, '1) (integer) 1\n2) 1) (integer) 2\n2) (integer) 3\n3) "x"');
  const branch = page.locator('.entry').last().locator('.row.branch');
  await branch.locator('> .idx').click();
  assert.match(await branch.getAttribute('class'), /\bfolded\b/);
  assert.equal(await branch.locator('> .val').evaluate((val) => getComputedStyle(val, '::after').content), '"(2 items)"');
  await branch.locator('> .idx').click();
  assert.doesNotMatch(await branch.getAttribute('class'), /\bfolded\b/);

  assert.deepEqual(await run('SET demo:png "\\x89PNG\\r\\n\\x1a\\n"'), ['"OK"']);
  assert.equal(await redis('STRLEN', 'demo:png'), ':8\r\n');
  const [binary] = await run('GET demo:png');
  assert.match(binary, /^\(binary, 8 bytes\)\n00000000 {2}89 50 4e 47 0d 0a 1a 0a .*\|\.PNG\.\.\.\.\|$/);

  const [denied] = await run('DEBUG SLEEP 0');
  assert.match(denied, /^\(error\) ERR unknown command 'DEBUG: denied by redis-ws-bridge'/);
  assert.match(await page.locator('.entry .reply').last().getAttribute('class'), /\berror\b/);
});

test('console: several lines are sent as one pipeline, in one WebSocket message', async () => {
  const frames = [];
  // Playwright reports only the WebSockets opened after the listener is
  // attached, so this runs in a fresh page of the demo.
  const fresh = await stack.browser.newPage();
  fresh.on('websocket', (ws) => ws.on('framesent', ({ payload }) => frames.push(Buffer.from(payload))));
  await fresh.goto(stack.url);
  await fresh.locator('#status.connected').waitFor({ timeout: 10_000 });
  await fresh.fill('#command', 'SET demo:pipe 1\nINCR demo:pipe\nINCRBY demo:pipe 40\nGET demo:pipe');
  await fresh.press('#command', 'Enter');
  await fresh.locator('.entry').nth(3).waitFor({ timeout: 10_000 });
  const replies = await fresh.locator('.entry .reply').allTextContents();
  assert.deepEqual(replies, ['"OK"', '(integer) 2', '(integer) 42', '"42"']);
  assert.match(await fresh.locator('#output .note').last().textContent(), /^4 commands pipelined/);
  const carrying = frames.filter((frame) => frame.includes('demo:pipe'));
  assert.equal(carrying.length, 1, `the four commands went out in ${carrying.length} WebSocket messages`);
  for (const word of ['SET', 'INCR', 'INCRBY', 'GET']) assert.ok(carrying[0].includes(`\r\n${word}\r\n`), word);
  await fresh.close();

  await page.locator('#console').screenshot({ path: join(DOCS, 'console.png') });
});

/** The key browser's row for `key`. */
const keyRow = (key) => page.locator(`#key-list tbody tr[data-key="${key}"]`);

/** Clicks a key-browser button and waits until the viewer shows the result (it is `aria-busy` meanwhile). */
async function click(locator) {
  await (typeof locator === 'string' ? page.locator(locator) : locator).click();
  await page.locator('#key-view[aria-busy="false"]').waitFor();
}

async function scanFor(pattern) {
  await page.fill('#key-pattern', pattern);
  await page.click('#key-search button');
}

test('key browser: SCAN a page at a time, with type, TTL and memory', async () => {
  await scanFor('bulk:*');
  await until(async () => (await page.locator('#key-list tbody tr').count()) === 50, 'the first page of 50 keys');
  assert.match(await text('#key-count'), /^50 keys so far$/);
  await page.click('#key-more');
  await until(async () => (await page.locator('#key-list tbody tr').count()) === 100, 'the second page');
  await page.click('#key-more');
  await until(async () => (await page.locator('#key-list tbody tr').count()) === 120, 'the rest');
  assert.equal(await text('#key-count'), '120 keys');
  assert.equal(await page.locator('#key-more').isHidden(), true);

  await scanFor('demo:*');
  await keyRow('demo:user:1').waitFor();
  const expected = { 'demo:greeting': 'string', 'demo:user:1': 'hash', 'demo:queue': 'list', 'demo:tags': 'set', 'demo:scores': 'zset', 'demo:events': 'stream' };
  for (const [key, type] of Object.entries(expected)) {
    assert.equal(await keyRow(key).locator('.type').textContent(), type, key);
    assert.equal(await keyRow(key).locator('.ttl').textContent(), 'no expiry', key);
    assert.match(await keyRow(key).locator('.mem').textContent(), /^\d+(\.\d)? (B|KiB)$/, key);
  }
  assert.match(await keyRow('demo:session').locator('.ttl').textContent(), /^(59m \d+s|1h 0m)$/);
});

test('key browser: view and edit each type', async () => {
  await scanFor('demo:*');

  await click(keyRow('demo:greeting'));
  await page.locator('#key-view .string-value').waitFor();
  assert.equal(await page.inputValue('#key-view .string-value'), 'hello');
  await page.fill('#key-view .string-value', 'hello, world');
  await click('#key-view button.save');
  await until(async () => (await redis('GET', 'demo:greeting')) === '$12\r\nhello, world\r\n', 'the string saved');

  await click(keyRow('demo:user:1'));
  const field = page.locator('#key-view tr[data-field="name"]');
  await field.waitFor();
  assert.equal(await field.locator('input').inputValue(), 'Ada Lovelace');
  await field.locator('input').fill('Grace Hopper');
  await click(field.locator('button.save'));
  await until(async () => (await redis('HGET', 'demo:user:1', 'name')) === '$12\r\nGrace Hopper\r\n', 'the hash field saved');
  await page.fill('#key-view .adder input >> nth=0', 'lang');
  await page.fill('#key-view .adder input >> nth=1', 'COBOL');
  await click('#key-view .adder button');
  await page.locator('#key-view tr[data-field="lang"]').waitFor();
  assert.equal(await redis('HGET', 'demo:user:1', 'lang'), '$5\r\nCOBOL\r\n');
  await click(page.locator('#key-view tr[data-field="born"] button.remove'));
  await until(async () => (await redis('HEXISTS', 'demo:user:1', 'born')) === ':0\r\n', 'the hash field deleted');
  await page.locator('#keys').screenshot({ path: join(DOCS, 'keys.png') });

  await click(keyRow('demo:queue'));
  const item = page.locator('#key-view tr[data-index="1"]');
  await item.waitFor();
  assert.equal(await item.locator('input').inputValue(), 'email');
  await item.locator('input').fill('notify');
  await click(item.locator('button.save'));
  await until(async () => (await redis('LINDEX', 'demo:queue', '1')) === '$6\r\nnotify\r\n', 'the list item saved');
  await page.fill('#key-view .adder input', 'archive');
  await click('#key-view .adder button');
  await page.locator('#key-view tr[data-index="3"]').waitFor();
  assert.equal(await redis('RPOP', 'demo:queue'), '$7\r\narchive\r\n');

  await click(keyRow('demo:tags'));
  await page.locator('#key-view tr[data-member="wasm"]').waitFor();
  await click(page.locator('#key-view tr[data-member="rust"] button.remove'));
  await until(async () => (await redis('SISMEMBER', 'demo:tags', 'rust')) === ':0\r\n', 'the set member removed');
  await page.fill('#key-view .adder input', 'browser');
  await click('#key-view .adder button');
  await page.locator('#key-view tr[data-member="browser"]').waitFor();

  await click(keyRow('demo:scores'));
  const score = page.locator('#key-view tr[data-member="ada"]');
  await score.waitFor();
  assert.equal(await score.locator('input').inputValue(), '10');
  await score.locator('input').fill('36.5');
  await click(score.locator('button.save'));
  await until(async () => (await redis('ZSCORE', 'demo:scores', 'ada')) === '$4\r\n36.5\r\n', 'the score saved');

  await click(keyRow('demo:events'));
  await until(async () => /1 entries \(read-only\)/.test(await text('#key-view')), 'the stream entries');
  assert.match(await text('#key-view table.items tbody'), /type = login, user = ada/);
});

test('key browser: create a key, find it, set its TTL, rename it, delete it', async () => {
  await page.selectOption('#new-key-type', 'hash');
  await page.fill('#new-key-name', 'demo:created');
  await page.fill('#new-key-extra', 'colour');
  await page.fill('#new-key-value', 'blue');
  await click('#key-new button');
  await page.locator('#key-view tr[data-field="colour"]').waitFor();
  assert.equal(await redis('HGET', 'demo:created', 'colour'), '$4\r\nblue\r\n');

  await scanFor('demo:cre*');
  await until(async () => (await page.locator('#key-list tbody tr').count()) === 1, 'the one key matching demo:cre*');
  assert.equal(await keyRow('demo:created').locator('.type').textContent(), 'hash');

  await click(keyRow('demo:created'));
  await page.locator('#key-view tr[data-field="colour"]').waitFor();
  await page.fill('#key-view .ttl', '120');
  await click('#key-view .ttl-button');
  await until(async () => /^:(11\d|120)\r\n$/.test(await redis('TTL', 'demo:created')), 'the TTL set');
  await until(async () => /^(2m 0s|1m 59s|1m 58s)$/.test(await keyRow('demo:created').locator('.ttl').textContent()), 'the TTL shown');

  await page.fill('#key-view .rename', 'demo:renamed');
  await click('#key-view .rename-button');
  await keyRow('demo:renamed').waitFor();
  assert.equal(await redis('EXISTS', 'demo:created'), ':0\r\n');
  assert.equal(await redis('HGET', 'demo:renamed', 'colour'), '$4\r\nblue\r\n');
  assert.equal(await keyRow('demo:created').count(), 0);
  assert.equal(await text('#key-view .key-name'), 'demo:renamed');

  await page.click('#key-view button.delete');
  await keyRow('demo:renamed').waitFor({ state: 'detached' });
  assert.equal(await redis('EXISTS', 'demo:renamed'), ':0\r\n');
  assert.match(await text('#key-view'), /Select a key/);
});

test('pub/sub: messages published by another connection arrive; publish from the page', async () => {
  await page.fill('#sub-channel', 'news');
  await page.click('#sub-form button');
  await page.locator('#sub-list .chip[data-name="news"]').waitFor();
  await page.fill('#sub-channel', 'alerts.*');
  await page.click('#sub-form button');
  await page.locator('#sub-list .chip.pattern[data-name="alerts.*"]').waitFor();
  assert.equal(await redis('PUBSUB', 'NUMSUB', 'news'), '*2\r\n$4\r\nnews\r\n:1\r\n');

  // Another connection (straight to Redis over TCP) publishes.
  assert.equal(await redis('PUBLISH', 'news', 'hello from redis-cli'), ':1\r\n');
  const first = page.locator('#messages .message').first();
  await until(async () => (await first.locator('.payload').textContent()) === 'hello from redis-cli', 'the message on news');
  assert.equal(await first.locator('.channel').textContent(), 'news');
  assert.equal(await first.locator('.pattern').count(), 0);

  await redis('PUBLISH', 'alerts.disk', 'disk 91% full');
  await until(async () => (await first.locator('.payload').textContent()) === 'disk 91% full', 'the message on alerts.disk');
  assert.equal(await first.locator('.channel').textContent(), 'alerts.disk');
  assert.equal(await first.locator('.pattern').textContent(), 'via alerts.*');

  await page.fill('#pub-channel', 'alerts.cpu');
  await page.fill('#pub-message', 'load 4.2');
  await page.click('#pub-form button');
  await until(async () => (await text('#pub-result')) === 'delivered to 1 subscriber', 'the publish result');
  await until(async () => (await first.locator('.payload').textContent()) === 'load 4.2', 'the page\'s own message');
  await page.fill('#pub-channel', 'news');
  await page.fill('#pub-message', 'pipelining in the browser, 100k commands/s');
  await page.click('#pub-form button');
  await until(async () => (await page.locator('#messages .message').count()) === 4, 'four messages');
  await page.locator('#pubsub').screenshot({ path: join(DOCS, 'pubsub.png') });

  await page.locator('#sub-list .chip[data-name="news"] button').click();
  await page.locator('#sub-list .chip[data-name="news"]').waitFor({ state: 'detached' });
  assert.equal(await redis('PUBSUB', 'NUMSUB', 'news'), '*2\r\n$4\r\nnews\r\n:0\r\n');
});

test('live chart: latency and commands/s points; a pipelined burst', async () => {
  await until(async () => Number(await page.locator('#chart').getAttribute('data-points')) >= 4, 'four points on the chart');
  const path = await page.locator('#chart #latency-line').getAttribute('d');
  assert.ok((path.match(/L/g) ?? []).length >= 3, `the latency line: ${path}`);
  assert.ok(/L/.test(await page.locator('#chart #ops-line').getAttribute('d')), 'the commands/s line');
  assert.match(await text('#latency-now'), /^\d+\.\d\d ms$/);
  assert.match(await text('#ops-now'), /^[\d,]+ cmd\/s$/);

  await page.click('#burst');
  await until(async () => /^10,000 INCR in \d+ ms/.test(await text('#burst-result')), 'the burst result');
  assert.equal(await redis('GET', 'demo:burst'), '$5\r\n10000\r\n');
  // Let the burst show on the chart before the screenshots.
  await page.waitForTimeout(1200);
  await page.locator('#stats').screenshot({ path: join(DOCS, 'chart.png') });

  await scanFor('demo:*');
  await click(keyRow('demo:user:1'));
  await run('HGETALL demo:user:1\nZRANGE demo:scores 0 -1 WITHSCORES');
  await page.screenshot({ path: join(DOCS, 'demo.png') });
  assert.deepEqual(problems, [], 'no uncaught errors on the page');
});

test('connection indicator: reconnecting while Redis is down, connected once it is back', async () => {
  await stack.killRedis();
  await page.locator('#status.reconnecting').waitFor({ timeout: 10_000 });
  assert.equal(await text('#status'), 'reconnecting…');
  await stack.restartRedis();
  await page.locator('#status.connected').waitFor({ timeout: 15_000 });
  assert.deepEqual(await run('SET after:restart yes\nGET after:restart'), ['"OK"', '"yes"']);
});
