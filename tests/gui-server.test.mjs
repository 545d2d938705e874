// The GUI's server panel against a real Redis: the overview's numbers
// match INFO read over a side connection and follow it live, the slowlog
// and the client list show what Redis has, and a bridge that refuses
// INFO, SLOWLOG and CLIENT gets "not allowed by this bridge" instead.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TRUSTED, guiStack, openGui, redisEval, screenshot, until } from './gui-kit.mjs';

let stack;

before(async () => {
  stack = await guiStack();
  await redisEval(stack.redisPort, `
    for i = 1, 40 do redis.call('SET', 'srv:' .. i, i) end
    redis.call('SELECT', 2)
    for i = 1, 7 do redis.call('SET', 'other:' .. i, i, 'EX', 3600) end`);
});

after(async () => {
  await stack?.stop();
});

/** INFO over a side connection, as `Map` field → value. */
async function info() {
  const text = await stack.redis('INFO');
  return new Map(text.split('\r\n').filter((line) => line.includes(':')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]));
}

const metric = (page, name) => page.locator(`#server-overview [data-metric="${name}"]`);
const value = async (page, name) => (await metric(page, name).locator('.value').textContent());
const sub = async (page, name) => (await metric(page, name).locator('.sub').textContent());
/** `1.08M` → bytes. */
const human = (text) => Number.parseFloat(text) * { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[text.at(-1)] || Number.parseFloat(text);

test('the overview matches INFO and follows it live', async () => {
  const { page, problems } = await openGui(stack, { hash: 'server' });
  await metric(page, 'version').waitFor();
  const first = await info();
  assert.equal(await value(page, 'version'), first.get('redis_version'));
  assert.match(await sub(page, 'version'), /^standalone · up /);

  // Keys per database, from the Keyspace section.
  assert.equal(await page.locator('#server-overview tr[data-db="db0"] .keys').textContent(), '40');
  assert.equal(await page.locator('#server-overview tr[data-db="db2"] .keys').textContent(), '7');
  assert.match(await page.locator('#server-overview tr[data-db="db2"]').textContent(), /^db277(3,5\d\d|3,600) s$/);
  assert.equal(await value(page, 'keys'), '47');
  assert.equal(await sub(page, 'keys'), 'in 2 databases');

  // Hits and misses: 3 hits and 2 misses more, made beside the page.
  for (const key of ['srv:1', 'srv:2', 'srv:3', 'nope:1', 'nope:2']) await stack.redis('GET', key);
  await until(async () => {
    const now = await info();
    const hits = Number(now.get('keyspace_hits'));
    const misses = Number(now.get('keyspace_misses'));
    const ratio = `${((hits * 100) / (hits + misses)).toFixed(1)} %`;
    return (await sub(page, 'hit-ratio')) === `${hits} hits · ${misses} misses` && (await value(page, 'hit-ratio')) === ratio;
  }, 'the hit ratio of INFO');
  assert.ok(Number((await sub(page, 'hit-ratio')).split(' ')[0]) >= 3);

  // Clients: the side connection that reads INFO counts itself too.
  await until(async () => Number(await value(page, 'clients')) === Number((await info()).get('connected_clients')) - 1, 'the client count of INFO');
  // Memory moves a little with every connection: within 10 %.
  const used = human(await value(page, 'memory'));
  const side = Number((await info()).get('used_memory'));
  assert.ok(Math.abs(used - side) / side < 0.1, `memory ${used} against INFO's ${side}`);
  assert.match(await sub(page, 'memory'), /^peak \d+(\.\d+)?[KMG]/);
  assert.match(await value(page, 'ops'), /^[\d,]+$/);

  // Live: a key added beside the page shows without a click.
  await stack.redis('SET', 'srv:new', 'x');
  await until(async () => (await value(page, 'keys')) === '48', 'the new key counted', 6000);
  await screenshot(page, 'server');
  assert.deepEqual(problems, []);
  await page.close();
});

test('slowlog and client list', async () => {
  assert.equal(await stack.redis('CONFIG', 'SET', 'slowlog-log-slower-than', '0'), '+OK\r\n');
  try {
    await stack.redis('SET', 'slow:key', 'value');
    const { page } = await openGui(stack, { hash: 'server' });
    await until(async () => /SET slow:key value/.test(await page.locator('#server-slowlog').textContent()), 'SET slow:key in the slowlog');
    assert.equal(await page.locator('#server-slowlog').getAttribute('data-state'), 'shown');
    // The client list: this page's connections, each with its address.
    await page.locator('#server-clients table.clients').waitFor();
    const rows = await page.locator('#server-clients tbody tr').allTextContents();
    assert.ok(rows.length >= 2, `${rows.length} clients`);
    assert.ok(rows.every((row) => /127\.0\.0\.1:\d+/.test(row)), rows.join('\n'));
    const phone = await stack.browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${stack.url}#server`);
    await phone.locator('#server-overview [data-metric="version"]').waitFor();
    await screenshot(phone, 'server');
    await phone.close();
    await page.close();
  } finally {
    await stack.redis('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
  }
});

test('a bridge that refuses INFO, SLOWLOG and CLIENT: "not allowed by this bridge"', async () => {
  const strict = await stack.bridge([...TRUSTED, '--deny-command', 'INFO', '--deny-command', 'SLOWLOG', '--deny-command', 'CLIENT']);
  const { page, problems } = await openGui(stack, { url: strict.url, hash: 'server' });
  const part = (id) => page.locator(`#server-${id}`);
  await until(async () => (await part('overview').getAttribute('data-state')) === 'refused', 'the overview refused');
  assert.match(await part('overview').textContent(), /^INFO is not allowed by this bridge \(.*redis-ws-bridge.*\)$/);
  assert.equal(await part('slowlog').getAttribute('data-state'), 'refused');
  assert.match(await part('slowlog').textContent(), /^SLOWLOG( GET)? is not allowed by this bridge/);
  assert.equal(await part('clients').getAttribute('data-state'), 'refused');
  assert.match(await part('clients').textContent(), /^CLIENT( LIST)? is not allowed by this bridge/);
  // The chart says why it has no commands/s; the round trip still shows.
  await page.click('#tab-live');
  await until(async () => /^Commands\/s needs INFO: INFO is not allowed by this bridge/.test(await page.locator('#chart-note').textContent()), 'the chart note');
  await until(async () => /^\d+\.\d\d ms$/.test(await page.locator('#p50-now').textContent()), 'the p50 round trip');
  assert.equal(await page.locator('#ops-now').textContent(), '—');
  assert.deepEqual(problems, []);
  await page.close();
});
