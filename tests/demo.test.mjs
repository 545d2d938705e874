// The GUI's console, pub/sub and live panels, driven as a person would,
// against a real Redis through the real bridge: history, completion,
// trees, binary, pipelines, the bridge's refusals and the export of a
// session; live pub/sub; the chart's axes, p50/p99 and commands/s; panels
// by keyboard; light and dark; both page sizes; and the connection
// indicator across a Redis restart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { guiStack, openGui, screenshot, until } from './gui-kit.mjs';

let stack;
let page;
let problems;
const redis = (...words) => stack.redis(...words);

before(async () => {
  stack = await guiStack();
  for (const words of [
    ['SET', 'demo:greeting', 'hello'],
    ['HSET', 'demo:user:1', 'name', 'Ada Lovelace', 'born', '1815'],
    ['RPUSH', 'demo:queue', 'resize', 'email', 'backup'],
    ['ZADD', 'demo:scores', '10', 'ada', '20', 'grace'],
  ]) await redis(...words);
  ({ page, problems } = await openGui(stack, { hash: 'console' }));
});

after(async () => {
  await stack?.stop();
});

const text = (selector) => page.locator(selector).textContent();

/** Types `command` into the console and presses Enter; resolves to the new entries' `.reply` texts. */
async function run(command, on = page) {
  const before = await on.locator('.entry').count();
  const lines = command.split('\n').length;
  await on.fill('#command', command);
  await on.press('#command', 'Enter');
  await on.locator('.entry').nth(before + lines - 1).waitFor({ timeout: 10_000 });
  return on.locator('.entry .reply').evaluateAll((replies, from) => replies.slice(from).map((r) => r.textContent), before);
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

  const [wrong] = await run('INCR demo:greeting');
  assert.match(wrong, /^\(error\) ERR value is not an integer/);
  assert.match(await page.locator('.entry .reply').last().getAttribute('class'), /\berror\b/);
});

test('console: the bridge\'s refusal reads as a refusal, also inside a pipeline', async () => {
  const [denied] = await run('DEBUG SLEEP 0');
  assert.match(denied, /^\(refused by the bridge\) DEBUG: [^']*redis-ws-bridge/);
  assert.doesNotMatch(denied, /unknown command/);
  assert.match(await page.locator('.entry .reply').last().getAttribute('class'), /\brefused\b/);
  // A refused command keeps its place in a pipeline.
  const replies = await run('SET demo:around 1\nFLUSHALL\nINCR demo:around');
  assert.equal(replies[0], '"OK"');
  assert.match(replies[1], /^\(refused by the bridge\) FLUSHALL: /);
  assert.equal(replies[2], '(integer) 2');
  // A name Redis does not have: Redis's own error, or the bridge's refusal
  // where the bridge checks names against the server's command table.
  const [unknown] = await run('NOSUCHCOMMAND x');
  assert.match(unknown, /^\(error\) ERR unknown command 'NOSUCHCOMMAND'|^\(refused by the bridge\) unknown command: /);
});

test('console: several lines are sent as one pipeline, in one WebSocket message', async () => {
  const frames = [];
  // Playwright reports only the WebSockets opened after the listener is
  // attached, so this runs in a fresh page.
  const fresh = await stack.browser.newPage();
  fresh.on('websocket', (ws) => ws.on('framesent', ({ payload }) => frames.push(Buffer.from(payload))));
  await fresh.goto(`${stack.url}#console`);
  await fresh.locator('#status.connected').waitFor({ timeout: 10_000 });
  const replies = await run('SET demo:pipe 1\nINCR demo:pipe\nINCRBY demo:pipe 40\nGET demo:pipe', fresh);
  assert.deepEqual(replies, ['"OK"', '(integer) 2', '(integer) 42', '"42"']);
  assert.match(await fresh.locator('#output .note').last().textContent(), /^4 commands pipelined/);
  const carrying = frames.filter((frame) => frame.includes('demo:pipe'));
  assert.equal(carrying.length, 1, `the four commands went out in ${carrying.length} WebSocket messages`);
  for (const word of ['SET', 'INCR', 'INCRBY', 'GET']) assert.ok(carrying[0].includes(`\r\n${word}\r\n`), word);
  await fresh.close();
});

test('console: the session\'s history exports as JSON', async () => {
  await run('HGETALL demo:user:1\nZRANGE demo:scores 0 -1 WITHSCORES');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#console-export')]);
  assert.match(download.suggestedFilename(), /^redis-console-\d{8}T\d{6}\.json$/);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.connection, `ws://${new URL(stack.url).host}/`);
  assert.equal(exported.db, 0);
  const commands = exported.entries.map((e) => e.command);
  assert.deepEqual(commands.slice(0, 2), ['ECHO first', 'ECHO second']);
  const byCommand = new Map(exported.entries.map((e) => [e.command, e]));
  assert.equal(byCommand.get('GET demo:pipe'), undefined, 'another page\'s commands are not in this session');
  assert.equal(byCommand.get('DEBUG SLEEP 0').kind, 'refused');
  assert.equal(byCommand.get('INCR demo:greeting').kind, 'error');
  assert.equal(byCommand.get('HGETALL demo:user:1').reply, '1) "name"\n2) "Ada Lovelace"\n3) "born"\n4) "1815"');
  assert.ok(exported.entries.every((e) => typeof e.ms === 'number' && !Number.isNaN(Date.parse(e.at))));
  await screenshot(page, 'console');
});

test('pub/sub: messages published by another connection arrive; publish from the page', async () => {
  await page.click('#tab-pubsub');
  await page.fill('#sub-channel', 'news');
  await page.click('#sub-form button');
  await page.locator('#sub-list .chip[data-name="news"]').waitFor();
  await page.fill('#sub-channel', 'alerts.*');
  await page.click('#sub-form button');
  await page.locator('#sub-list .chip.pattern[data-name="alerts.*"]').waitFor();
  assert.equal(await redis('PUBSUB', 'NUMSUB', 'news'), '*2\r\n$4\r\nnews\r\n:1\r\n');

  assert.equal(await redis('PUBLISH', 'news', 'hello from redis-cli'), ':1\r\n');
  const first = page.locator('#messages .message').first();
  await until(async () => (await first.locator('.payload').textContent()) === 'hello from redis-cli', 'the message on news');
  assert.equal(await first.locator('.channel').textContent(), 'news');
  await redis('PUBLISH', 'alerts.disk', 'disk 91% full');
  await until(async () => (await first.locator('.payload').textContent()) === 'disk 91% full', 'the message on alerts.disk');
  assert.equal(await first.locator('.pattern').textContent(), 'via alerts.*');

  await page.fill('#pub-channel', 'alerts.cpu');
  await page.fill('#pub-message', 'load 4.2');
  await page.click('#pub-form button');
  await until(async () => (await text('#pub-result')) === 'delivered to 1 subscriber', 'the publish result');
  await until(async () => (await page.locator('#messages .message').count()) === 3, 'three messages');
  await screenshot(page, 'pubsub');

  await page.locator('#sub-list .chip[data-name="news"] button').click();
  await page.locator('#sub-list .chip[data-name="news"]').waitFor({ state: 'detached' });
  assert.equal(await redis('PUBSUB', 'NUMSUB', 'news'), '*2\r\n$4\r\nnews\r\n:0\r\n');
});

test('live chart: time, latency and commands/s axes with ticks and units; p50, p99, commands/s', async () => {
  await page.click('#tab-live');
  await until(async () => Number(await page.locator('#chart').getAttribute('data-points')) >= 3, 'three points on the chart');
  const ticks = (cls) => page.locator(`#chart text.tick.${cls}`).allTextContents();
  assert.deepEqual(await ticks('time'), ['now', '−10 s', '−20 s', '−30 s', '−40 s', '−50 s', '−60 s']);
  const latency = await ticks('latency');
  assert.ok(latency.length >= 3 && latency.every((t) => / ms$/.test(t)), latency.join(', '));
  assert.equal(latency[0], '0 ms');
  const ops = await ticks('ops');
  assert.ok(ops.length >= 3 && ops[0] === '0', ops.join(', '));
  assert.deepEqual(await page.locator('#chart text.axis-title').allTextContents(), ['latency (ms)', 'commands/s', 'time (seconds ago)']);
  for (const id of ['p50-line', 'p99-line', 'ops-line']) {
    assert.ok(/L/.test(await page.locator(`#chart #${id}`).getAttribute('d')), id);
  }
  const p50 = Number.parseFloat(await text('#p50-now'));
  const p99 = Number.parseFloat(await text('#p99-now'));
  assert.ok(p50 > 0 && p99 >= p50, `p50 ${p50}, p99 ${p99}`);
  assert.match(await text('#ops-now'), /^[\d,]+ cmd\/s$/);
  // The axis maximum is a tick at or above every p99.
  assert.ok(Number(await page.locator('#chart').getAttribute('data-latency-max')) >= p99);

  await page.click('#burst');
  await until(async () => /^10,000 INCR in \d+ ms/.test(await text('#burst-result')), 'the burst result');
  assert.equal(await redis('GET', 'demo:burst'), '$5\r\n10000\r\n');
  // The burst shows on the commands/s axis.
  await until(async () => Number(await page.locator('#chart').getAttribute('data-ops-max')) >= 1000, 'the burst on the chart', 5000);
  await screenshot(page, 'live');
});

test('keyboard: arrow keys move between tabs, Alt+digit jumps to a panel', async () => {
  await page.focus('#tab-live');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-connection');
  assert.equal(await page.locator('#panel-connection').isVisible(), true);
  assert.equal(await page.locator('#panel-live').isVisible(), false);
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.locator('#tab-keys').getAttribute('aria-selected'), 'true');
  await page.keyboard.press('End');
  assert.equal(await page.locator('#panel-live').isVisible(), true);
  await page.keyboard.press('Home');
  assert.equal(await page.locator('#panel-connection').isVisible(), true);
  await page.keyboard.press('Alt+3');
  assert.equal(await page.locator('#panel-server').isVisible(), true);
  assert.equal(new URL(page.url()).hash, '#server');
  // Only the selected tab is in the Tab order.
  assert.deepEqual(await page.locator('[role=tab]').evaluateAll((tabs) => tabs.map((t) => t.tabIndex)), [-1, -1, 0, -1, -1, -1]);
  await page.keyboard.press('Alt+4');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-console');
});

test('light and dark follow prefers-color-scheme; every panel fits 1280×720 and 390×844', async () => {
  const background = async (colorScheme) => {
    const other = await stack.browser.newPage({ colorScheme });
    await other.goto(`${stack.url}#keys`);
    const colour = await other.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await other.close();
    return colour;
  };
  assert.equal(await background('light'), 'rgb(243, 244, 246)');
  assert.equal(await background('dark'), 'rgb(15, 17, 21)');

  for (const viewport of [{ width: 1280, height: 720 }, { width: 390, height: 844 }]) {
    const sized = await stack.browser.newPage({ viewport });
    await sized.goto(`${stack.url}#keys`);
    await sized.locator('#status.connected').waitFor();
    for (const panel of ['connection', 'keys', 'server', 'console', 'pubsub', 'live']) {
      await sized.click(`#tab-${panel}`);
      // Nothing wider than the window, and the panel within it.
      const { scroll, box } = await sized.evaluate((id) => ({
        scroll: document.documentElement.scrollWidth,
        box: document.getElementById(`panel-${id}`).getBoundingClientRect().toJSON(),
      }), panel);
      assert.ok(scroll <= viewport.width, `${panel} at ${viewport.width}: the page is ${scroll} px wide`);
      assert.ok(box.right <= viewport.width && box.bottom <= viewport.height + 1, `${panel} at ${viewport.width}: ${JSON.stringify(box)}`);
    }
    if (viewport.width === 390) {
      for (const panel of ['console', 'pubsub', 'live']) {
        await sized.click(`#tab-${panel}`);
        if (panel === 'console') await run('HGETALL demo:user:1\nDEBUG SLEEP 0', sized);
        if (panel === 'pubsub') {
          await sized.fill('#sub-channel', 'orders.*');
          await sized.click('#sub-form button');
          await sized.locator('#sub-list .chip').waitFor();
          await redis('PUBLISH', 'orders.new', '{"id":1042,"total":25}');
          await redis('PUBLISH', 'orders.paid', '{"id":1042}');
          await until(async () => (await sized.locator('#messages .message').count()) === 2, 'two messages');
        }
        if (panel === 'live') {
          await until(async () => Number(await sized.locator('#chart').getAttribute('data-points')) >= 5, 'five points', 15_000);
          assert.deepEqual(await sized.locator('#chart text.tick.time').allTextContents(), ['now', '−10 s', '−20 s', '−30 s']);
        }
        await screenshot(sized, panel);
      }
    }
    await sized.close();
  }
  const dark = await stack.browser.newPage({ colorScheme: 'dark', viewport: { width: 1280, height: 720 } });
  await dark.goto(`${stack.url}#keys`);
  await dark.locator('#key-tree li.folder[data-prefix="demo:"] > .row').click();
  await dark.locator('#key-tree li.leaf[data-key="demo:greeting"] > .row').click();
  await dark.locator('#key-view .string-value').waitFor();
  await screenshot(dark, 'keys-dark');
  await dark.close();
});

test('connection indicator: reconnecting while Redis is down, connected once it is back', async () => {
  assert.deepEqual(problems, [], 'no uncaught errors on the page so far');
  const { page: fresh, problems: freshProblems } = await openGui(stack, { hash: 'console' });
  await stack.killRedis();
  await fresh.locator('#status.reconnecting').waitFor({ timeout: 10_000 });
  assert.equal(await fresh.locator('#status').textContent(), 'reconnecting…');
  await stack.restartRedis();
  await fresh.locator('#status.connected').waitFor({ timeout: 15_000 });
  assert.deepEqual(await run('SET after:restart yes\nGET after:restart', fresh), ['"OK"', '"yes"']);
  assert.deepEqual(freshProblems, [], 'no uncaught errors on the page');
  // The first page's pub/sub subscriber lived through the restart too.
  assert.deepEqual(problems, [], 'no uncaught errors on the subscribed page');
  await fresh.close();
});
