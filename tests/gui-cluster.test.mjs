// The GUI on a Redis Cluster: a real 3-master, 3-replica cluster on
// loopback and the bridge in cluster mode serving the page. The page finds
// out that its bridge serves a cluster, the form connects in cluster mode,
// the key tree holds the keys of every master (seeded over TCP on each
// master, by CLUSTER KEYSLOT) with per-node counts, an edit lands on the
// key's master, the Nodes view's numbers match each master's INFO and
// DBSIZE, the chart has a line per master, bulk delete reaches every
// master, the console shows a CrossSlotError and a refused SELECT, and
// pub/sub hears what any master publishes.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { TRUSTED, launchBrowser, redisCommand, stopProcess } from './harness.mjs';
import { startCluster, startClusterBridge } from './cluster.mjs';
import { bulk, integer, openGui, screenshot, until } from './gui-kit.mjs';

const PER_MASTER = 300;
let cluster, bridge, stack;
/** The masters: `{ id, port, slots: [[start, end]] }`. */
let masters;
/** Which master's port holds each seeded key. */
const home = new Map();

/**
 * Sends `commands` (arrays of words) over one TCP connection as a
 * pipeline; resolves to the replies' first lines (simple replies only:
 * integers and +OK, which is all this file sends this way).
 */
function pipeline(port, commands) {
  const payload = commands.map((words) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`).join('');
  return new Promise((done, fail) => {
    let seen = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(payload));
    socket.setTimeout(10_000, () => socket.destroy(new Error('redis did not answer the pipeline')));
    socket.on('data', (data) => {
      seen += data;
      const lines = seen.split('\r\n');
      if (lines.length > commands.length) {
        socket.end();
        done(lines.slice(0, commands.length));
      }
    });
    socket.once('error', fail);
  });
}

/** The masters from CLUSTER NODES: id, port and slot ranges. */
async function readMasters() {
  const text = bulk(await redisCommand(cluster.nodes[0].port, 'CLUSTER', 'NODES'));
  return text.trim().split('\n').map((line) => line.split(' '))
    .filter((f) => f[2].includes('master') && f.length > 8)
    .map((f) => ({
      id: f[0],
      port: Number(f[1].split(':')[1].split('@')[0]),
      slots: f.slice(8).map((range) => range.split('-').map(Number)).map(([start, end = start]) => [start, end]),
      replicas: [],
    }));
}

/** Seeds `count` string keys `prefix<i>` on each master, each by its slot; fills `home`. */
async function seed(prefix, count) {
  const candidates = Array.from({ length: count * masters.length * 2 }, (_, i) => `${prefix}${i}`);
  const slots = (await pipeline(masters[0].port, candidates.map((key) => ['CLUSTER', 'KEYSLOT', key]))).map((line) => Number(line.slice(1)));
  const owner = (slot) => masters.find((m) => m.slots.some(([start, end]) => slot >= start && slot <= end));
  const byMaster = new Map(masters.map((m) => [m.port, []]));
  candidates.forEach((key, i) => {
    const keys = byMaster.get(owner(slots[i]).port);
    if (keys.length < count) keys.push(key);
  });
  for (const [port, keys] of byMaster) {
    assert.equal(keys.length, count, `${count} candidate keys for the master on ${port}`);
    const replies = await pipeline(port, keys.map((key) => ['SET', key, `value of ${key}`]));
    assert.deepEqual(new Set(replies), new Set(['+OK']));
    for (const key of keys) home.set(key, port);
  }
}

before(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1 });
  bridge = await startClusterBridge(cluster, [...TRUSTED, '--cluster-refresh', '1s']);
  const browser = await launchBrowser();
  stack = { url: `http://${bridge.addr}/`, browser };
  masters = await readMasters();
  assert.equal(masters.length, 3);
  const lines = bulk(await redisCommand(cluster.nodes[0].port, 'CLUSTER', 'NODES')).trim().split('\n').map((line) => line.split(' '));
  for (const f of lines.filter((fields) => fields[2].includes('slave'))) masters.find((m) => m.id === f[3]).replicas.push(f[0]);
  await seed('c:user:', PER_MASTER);
});

after(async () => {
  await stack?.browser.close();
  if (bridge) await stopProcess(bridge.proc);
  await cluster?.stop();
});

const dbsize = async (port) => integer(await redisCommand(port, 'DBSIZE'));
/** `1.08M` (used_memory_human) → bytes. */
const human = (text) => Number.parseFloat(text) * ({ K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[text.at(-1)] ?? 1);

async function scanFor(page, pattern) {
  await page.fill('#key-pattern', pattern);
  await page.click('#key-search button[type=submit]');
  await page.locator('#key-tree[aria-busy="false"]').waitFor();
  if ((await page.locator('#key-count').getAttribute('data-done')) !== 'true') {
    await page.click('#key-all');
    await until(async () => (await page.locator('#key-count').getAttribute('data-done')) === 'true', 'the whole scan');
  }
}

test('the page finds out that its bridge serves a cluster, and the form connects in cluster mode', async () => {
  // The page asks its own bridge whether it serves a cluster before it connects.
  const { page, problems } = await openGui(stack, { hash: 'connection' });
  assert.equal(await page.locator('#conn-cluster').isChecked(), true);
  assert.match(await page.locator('#conn-log').textContent(), /this bridge serves a Redis Cluster: connecting in cluster mode/);
  assert.match(await page.locator('#conn-state').textContent(), /Redis Cluster of 3 masters/);
  // A cluster has db 0 only and no client-side cache: both disabled, with the reason.
  assert.equal(await page.locator('#conn-db').isDisabled(), true);
  assert.equal(await page.locator('#conn-cache').isDisabled(), true);
  assert.match(await page.locator('#conn-cluster-note').textContent(), /database 0 only/);

  // Without "Redis Cluster", a plain connection is refused, and the page says why it may be.
  await page.fill('#conn-name', 'the cluster');
  await page.click('#conn-cluster');
  await page.fill('#conn-db', '1');
  await page.click('#conn-connect');
  await page.locator('#conn-error:not([hidden])').waitFor();
  assert.match(await page.locator('#conn-error').textContent(), /^This bridge serves a Redis Cluster.*tick "Redis Cluster" and connect again/);
  assert.equal(await page.locator('#status').textContent(), 'connected', 'the cluster connection stays open');

  // With it: connected, and saved as a cluster connection.
  await page.click('#conn-cluster');
  assert.equal(await page.inputValue('#conn-db'), '0');
  await page.click('#conn-connect');
  await page.locator('#status.connected').waitFor();
  await page.click('#conn-save');
  assert.match(await page.locator('#saved-list li.saved').textContent(), /cluster · RESP2/);
  assert.match(await page.locator('#server').textContent(), /cluster of 3 masters/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the tree holds the keys of every master, counted per node; an edit lands on the key\'s master', async () => {
  const { page, problems } = await openGui(stack);
  await scanFor(page, 'c:user:*');
  const counts = page.locator('#key-count');
  assert.equal(await counts.getAttribute('data-loaded'), String(PER_MASTER * 3));
  // Per node: what each master gave, which is its DBSIZE (nothing else lives there).
  for (const master of masters) {
    const node = counts.locator(`.node-count[data-node="${master.id}"]`);
    assert.equal(await node.getAttribute('data-found'), String(PER_MASTER), `keys from ${master.id}`);
    assert.equal(await node.getAttribute('title'), `master ${master.id}: ${PER_MASTER} keys match`);
  }
  const total = (await Promise.all(masters.map((m) => dbsize(m.port)))).reduce((a, b) => a + b, 0);
  assert.match(await counts.textContent(), new RegExp(`${total.toLocaleString('en')} in the cluster`));

  // One key of each master: open it, edit it, set a TTL; read back on its master over TCP.
  for (const master of masters) {
    const key = [...home].find(([, port]) => port === master.port)[0];
    await page.locator('#key-tree li.folder[data-prefix="c:"] > .row').click();
    if ((await page.locator('#key-tree li.folder[data-prefix="c:user:"]').getAttribute('aria-expanded')) !== 'true') {
      await page.locator('#key-tree li.folder[data-prefix="c:user:"] > .row').click();
    }
    await page.locator(`#key-tree li.leaf[data-key="${key}"] > .row`).click();
    await until(async () => (await page.locator('#key-view .key-name').textContent()) === key, `the viewer showing ${key}`);
    assert.equal(await page.inputValue('#key-view .string-value'), `value of ${key}`);
    await page.fill('#key-view .string-value', `edited on ${master.id}`);
    await page.click('#key-view button.save');
    await until(async () => bulk(await redisCommand(master.port, 'GET', key)) === `edited on ${master.id}`, `${key} edited on its master`);
    await page.locator('#key-view[aria-busy="false"]').waitFor();
    await page.fill('#key-view .ttl', '500');
    await page.click('#key-view .ttl-button');
    await until(async () => integer(await redisCommand(master.port, 'TTL', key)) > 490, `the TTL of ${key} on its master`);
    if (master === masters.at(-1)) await screenshot(page, 'keys-cluster');
    // Collapse again so that the next round starts from the same tree.
    await page.locator('#key-tree li.folder[data-prefix="c:"] > .row').click();
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('the Nodes view: each shard\'s slots, master, replicas, and the master\'s INFO and DBSIZE', async () => {
  const { page, problems } = await openGui(stack, { hash: 'server', viewport: { width: 1280, height: 720 } });
  await page.locator('#server-cluster:not([hidden]) table.nodes').waitFor();
  const rows = page.locator('#server-nodes tbody tr');
  assert.equal(await rows.count(), 3);
  let slotsInAll = 0;
  for (const master of masters) {
    const row = page.locator(`#server-nodes tr[data-master="${master.id}"]`);
    const slots = master.slots.reduce((sum, [start, end]) => sum + end - start + 1, 0);
    slotsInAll += Number(await row.locator('td.slots .sub').getAttribute('data-slots'));
    assert.equal(Number(await row.locator('td.slots .sub').getAttribute('data-slots')), slots);
    assert.equal(await row.locator('td.slots > span').first().textContent(), master.slots.map(([s, e]) => (s === e ? `${s}` : `${s}–${e}`)).join(', '));
    assert.equal(await row.locator('td.master code').textContent(), master.id.slice(0, 8));
    assert.equal(await row.locator('td.master code').getAttribute('title'), master.id);
    // The replicas as the bridge's topology has them (it reads the cluster's every second, and the view follows).
    await until(async () => JSON.stringify(await row.locator('td.replicas code').evaluateAll((codes) => codes.map((c) => c.title))) === JSON.stringify(master.replicas), `the replicas of ${master.id}`);
    assert.equal(await row.locator('td.role').textContent(), 'master');
    // Keys and memory as that master says (refreshed live: a write beside the page shows up).
    await until(async () => (await row.locator('td.keys').textContent()) === (await dbsize(master.port)).toLocaleString('en'), `DBSIZE of ${master.id}`);
    // Memory moves a little with every command: within 5 % of what INFO says.
    const memory = async () => Number(/used_memory:(\d+)/.exec(bulk(await redisCommand(master.port, 'INFO', 'memory')))[1]);
    await until(async () => Math.abs(human(await row.locator('td.memory').textContent()) / await memory() - 1) < 0.05, `used_memory_human of ${master.id}`);
  }
  assert.equal(slotsInAll, 16384);
  const [first] = masters;
  const key = [...home].find(([, port]) => port === first.port)[0];
  const before = await dbsize(first.port);
  assert.equal(await redisCommand(first.port, 'DEL', key), ':1\r\n');
  await until(async () => (await page.locator(`#server-nodes tr[data-master="${first.id}"] td.keys`).textContent()) === String(before - 1), 'the Nodes view following DBSIZE live');
  assert.equal(await redisCommand(first.port, 'SET', key, 'back'), '+OK\r\n');

  // The overview below is the picked master's own INFO.
  for (const master of masters) {
    await page.selectOption('#server-node', master.id);
    const runId = /run_id:(\S+)/.exec(bulk(await redisCommand(master.port, 'INFO', 'server')))[1];
    await until(async () => (await page.locator('#server-overview [data-metric="keys"] .value').textContent()) === (await dbsize(master.port)).toLocaleString('en'), `the overview of ${master.id}`);
    assert.ok(runId);
  }
  assert.match(await page.locator('#server-overview [data-metric="version"] .sub').textContent(), /^cluster · up /);
  await screenshot(page, 'nodes');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#server-nodes table.nodes').waitFor();
  await screenshot(page, 'nodes');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the chart has a commands/s line per master; bulk delete reaches every master', async () => {
  const { page, problems } = await openGui(stack, { hash: 'live' });
  await until(async () => (await page.locator('#ops-nodes .legend.ops-node').count()) === 3, 'a legend entry per master');
  assert.equal(await page.locator('#ops-label').textContent(), 'masters', 'commands/s: the masters\' sum');
  for (const master of masters) {
    await page.locator(`#chart path.ops-node[data-node="${master.id}"]`).waitFor({ state: 'attached' });
    const legend = page.locator(`#ops-nodes [data-node="${master.id}"]`);
    await until(async () => /^\w{8} \d+\/s$/.test(await legend.textContent()), `commands/s of ${master.id}`);
    assert.match(await legend.textContent(), /^\w{8} \d+\/s$/);
  }
  if (process.env.SCREENSHOT_DIR) {
    // A few seconds of lines for the picture.
    await until(async () => Number(await page.locator('#chart').getAttribute('data-points')) >= 8, 'eight seconds of points', 15_000);
    await screenshot(page, 'live-cluster');
  }

  await seed('c:bulk:', 20);
  await page.click('#tab-keys');
  await page.fill('#key-pattern', 'c:bulk:*');
  await page.click('#bulk-delete');
  const dialog = page.locator('dialog.confirm-dialog[open]');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Delete 60 keys\?/);
  await dialog.locator('button.confirm').click();
  await until(async () => /deleted 60 keys of 60/.test(await page.locator('#bulk-progress .bulk-text').textContent()), 'the bulk delete');
  for (const master of masters) {
    assert.equal(bulk(await redisCommand(master.port, 'EVAL', "return tostring(#redis.call('KEYS', 'c:bulk:*'))", '0')), '0', `no c:bulk: key left on ${master.id}`);
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('the console routes by key, and shows a CrossSlotError and a refused SELECT clearly', async () => {
  const { page, problems } = await openGui(stack, { hash: 'console' });
  const run = async (line) => {
    const before = await page.locator('#output .entry').count();
    await page.fill('#command', line);
    await page.press('#command', 'Enter');
    await until(async () => (await page.locator('#output .entry').count()) > before, `the reply to ${line}`);
    return page.locator('#output .entry').last();
  };
  const [first] = masters;
  const key = [...home].find(([, port]) => port === first.port)[0];
  assert.equal(await (await run(`GET ${key}`)).locator('.reply').textContent(), JSON.stringify(bulk(await redisCommand(first.port, 'GET', key))));
  assert.equal(await (await run('SET {tag}a 1')).locator('.reply').textContent(), '"OK"');

  const crossSlot = (await run('MGET c:user:1 c:user:2')).locator('.reply');
  assert.equal(await crossSlot.getAttribute('class'), 'reply error');
  // The client's own refusal, under its name: nothing was sent.
  assert.match(await crossSlot.locator('.client-error.CrossSlotError').textContent(), /^\(CrossSlotError\) MGET: its keys are in different slots \(\d+ and \d+\).*\{hash tag\}/);

  const select = (await run('SELECT 1')).locator('.reply');
  assert.equal(await select.getAttribute('class'), 'reply error');
  assert.equal(await select.textContent(), '(RedisError) SELECT on a Cluster: a cluster has database 0 only');
  await screenshot(page, 'console-cluster');
  assert.deepEqual(problems, []);
  await page.close();
});

test('pub/sub on a cluster: a message published on any master reaches the page, and the page publishes', async () => {
  const { page, problems } = await openGui(stack, { hash: 'pubsub' });
  await page.fill('#sub-channel', 'news');
  await page.click('#sub-form button');
  await page.locator('#sub-list .chip[data-name="news"]').waitFor();
  // Redis Cluster hands a PUBLISH on any node to the subscribers of every node.
  for (const [i, master] of masters.entries()) {
    await redisCommand(master.port, 'PUBLISH', 'news', `from master ${i + 1}`);
    await until(async () => (await page.locator('#messages .message .payload').first().textContent()) === `from master ${i + 1}`, `the message published on ${master.id}`);
  }
  await page.fill('#pub-channel', 'news');
  await page.fill('#pub-message', 'from the page');
  await page.click('#pub-form button');
  await until(async () => (await page.locator('#messages .message .payload').first().textContent()) === 'from the page', 'the page\'s own message');
  assert.equal(await page.locator('#messages .message').count(), masters.length + 1);
  assert.deepEqual(problems, []);
  await page.close();
});
