// Redis Cluster from a page: a real 3-master, 3-replica cluster on loopback
// ports, the bridge in cluster mode in front of it, and `Cluster.create` in
// Chromium. Commands of every family land on the master of their slot (read
// back from each node over TCP), a 1 MB value from each master comes whole
// (a view of its message), a resharding of 4,096 slots runs under a
// stream of numbered INCRs with none lost, and a master killed with SIGKILL
// fails only what it carried while its replica takes over.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { launchBrowser, redisCommand, stopProcess, TRUSTED } from './harness.mjs';
import { startCluster, startClusterBridge } from './cluster.mjs';

const CONFORMANCE = join(import.meta.dirname, 'conformance');
let cluster, bridge, browser, page;

before(async () => {
  cluster = await startCluster({ masters: 3, replicas: 1 });
  bridge = await startClusterBridge(cluster, [...TRUSTED, '--cluster-refresh', '1s']);
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.route((url) => url.pathname.startsWith('/conformance/'), (route) => route.fulfill({
    path: join(CONFORMANCE, new URL(route.request().url()).pathname.slice('/conformance/'.length)),
    contentType: 'text/javascript',
  }));
  await page.goto(`http://${bridge.addr}/style.css`);
  await page.evaluate(async () => {
    const m = await import('/pkg/index.js');
    const { makeKit } = await import('/conformance/kit.mjs');
    window.kit = makeKit(m, {});
    window.openCluster = (options = {}) => m.Cluster.create({ url: `ws://${location.host}/ws`, ...options });
    window.BytesEncoder = m.BytesEncoder;
    // Rounds of one INCR per key until `stop`: what succeeded, and why the rest failed.
    window.incrLoop = (c, keys) => {
      const state = { c, keys, done: 0, failed: [], stop: false };
      state.loop = (async () => {
        for (let round = 0; !state.stop && round < 100_000; round++) {
          const results = await Promise.allSettled(keys.map((k) => c.incr(k)));
          for (const r of results) {
            if (r.status === 'fulfilled') state.done++;
            else state.failed.push(`${r.reason?.name}: ${r.reason?.message}`);
          }
        }
      })();
      return state;
    };
  });
});

after(async () => {
  await browser?.close();
  if (bridge) await stopProcess(bridge.proc);
  await cluster?.stop();
});

const run = (body, arg) => page.evaluate(body, arg);

/** The masters' ports, from CLUSTER NODES of a running node. */
async function masters() {
  const alive = cluster.nodes.find((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  const text = await redisCommand(alive.port, 'CLUSTER', 'NODES');
  return text.split('\n').map((line) => line.split(' '))
    .filter((f) => f.length > 8 && f[2].includes('master') && !f[2].includes('fail'))
    .map((f) => ({ id: f[0], port: Number(f[1].split(':')[1].split('@')[0]) }));
}

/** A RESP integer reply read as a number. */
const integer = (reply) => Number(reply.slice(1));

test('every command family goes to the master of its keys, and keys in two slots are refused', async () => {
  const { total } = await run(async () => {
    const { m, eq, ok, rejects } = window.kit;
    const c = await window.openCluster();
    ok(c.nodes.length >= 3, `a socket per master: ${c.nodes}`);
    const total = 300;
    await Promise.all(Array.from({ length: total }, (_, i) => c.set(`family:str:${i}`, `v${i}`)));
    eq(await c.get('family:str:7'), 'v7', 'GET');
    await c.hset('family:hash', 'f', 'v');
    eq(await c.hget('family:hash', 'f'), 'v', 'HGET');
    await c.rpush('family:list', ['a', 'b']);
    eq(await c.call('LRANGE', 'family:list', '0', '-1'), ['a', 'b'], 'LRANGE');
    await c.sadd('family:set', ['x']);
    ok(await c.sismember('family:set', 'x'), 'SISMEMBER');
    await c.zadd('family:zset', { m: 1 });
    eq(await c.zscore('family:zset', 'm'), 1, 'ZSCORE');
    const id = await c.call('XADD', 'family:stream', '*', 'f', 'v');
    eq((await c.call('XRANGE', 'family:stream', '-', '+'))[0][0], id, 'XRANGE');
    eq(await c.call('PFADD', 'family:hll', 'a', 'b'), 1, 'PFADD');
    // One slot through a hash tag: MGET, a transaction and a script.
    await c.call('MSET', '{tag}a', '1', '{tag}b', '2');
    eq(await c.call('MGET', '{tag}a', '{tag}b'), ['1', '2'], 'MGET in one slot');
    await rejects(c.call('MGET', 'family:str:1', 'family:str:2'), m.CrossSlotError, 'MGET across slots');
    const tx = await c.multi();
    tx.incr('{tag}n');
    tx.incr('{tag}n');
    await tx.exec();
    eq(await c.get('{tag}n'), '2', 'a transaction on one slot');
    const tx2 = await c.multi();
    tx2.incr('{tag}n');
    await rejects(Promise.resolve().then(() => tx2.incr('{other}n')), m.CrossSlotError, 'a transaction across slots');
    await tx2.discard();
    eq(await c.call('EVAL', "return redis.call('GET', KEYS[1])", '1', '{tag}a'), '1', 'a script on its key\'s node');
    // Pub/sub lives on one node; PUBLISH reaches every node's subscribers.
    const sub = await c.startSubscribe();
    await sub.subscribe(['family:news']);
    await c.publish('family:news', 'hello');
    eq((await sub.nextPublished()).value, 'hello', 'a message across the cluster bus');
    // Sharded channels: each on its slot's master, through the one Subscription.
    const shards = ['family:shard:1', 'family:shard:2', 'family:shard:3'];
    for (const channel of shards) await sub.ssubscribe([channel]);
    for (const channel of shards) eq(await c.call('SPUBLISH', channel, channel), 1, `SPUBLISH ${channel}`);
    const got = [];
    for (let i = 0; i < shards.length; i++) got.push((await sub.nextPublished()).value);
    eq(got.sort(), shards, 'every sharded message, once');
    await rejects(c.call('SCAN', '0'), m.RedisError, 'SCAN is refused');
    // The topology without addresses, and each master's own commands.
    const topology = c.shards;
    eq(topology.length, 3, 'three shards');
    const covered = topology.flatMap((s) => s.slots).reduce((n, [start, end]) => n + end - start + 1, 0);
    eq(covered, 16384, 'every slot has a master');
    ok(JSON.stringify(topology).match(/127\.0\.0\.1|:\d{4,5}/) === null, `no address in the topology: ${JSON.stringify(topology)}`);
    let scanned = 0;
    let counted = 0;
    for (const { master } of topology) {
      const node = c.node(master);
      eq(node.id, master, 'the node view');
      counted += await node.dbsize();
      scanned += (await node.scan('family:str:*').fetchall()).length;
    }
    eq(scanned, total, 'a scan of every master finds every key once');
    ok(counted >= total, 'DBSIZE per master');
    c.close();
    return { total };
  });
  // Read back from each master over TCP: the keys were spread over all three.
  const counts = [];
  for (const master of await masters()) {
    const keys = await redisCommand(master.port, 'EVAL', "return #redis.call('KEYS', 'family:str:*')", '0');
    counts.push(integer(keys));
  }
  assert.equal(counts.length, 3);
  assert.ok(counts.every((n) => n > 50), `each master holds its share: ${counts}`);
  assert.equal(counts.reduce((a, b) => a + b), total);
});

test('client-side caching on a Cluster: reads hit the cache of their node, and a write on another client invalidates', async () => {
  await run(async () => {
    const { eq, ok, rejects } = window.kit;
    await rejects(window.openCluster({ clientSideCache: true, readFrom: 'replica' }), TypeError, 'a cache reads from masters');
    const cached = await window.openCluster({ clientSideCache: true });
    const writer = await window.openCluster();
    const keys = ['cache:a', 'cache:b', 'cache:c', 'cache:d'];
    for (const k of keys) await writer.set(k, 'one');
    for (const k of keys) eq(await cached.get(k), 'one', 'a miss');
    for (const k of keys) eq(await cached.get(k), 'one', 'a hit');
    const stats = cached.cacheStats();
    ok(stats.hits === keys.length && stats.misses === keys.length, `hits and misses over the nodes: ${JSON.stringify(stats)}`);
    const invalidated = new Promise((done) => cached.addEventListener('invalidate', (e) => { if (e.detail.keys?.includes('cache:c')) done(); }));
    await writer.set('cache:c', 'two');
    await invalidated;
    eq(await cached.get('cache:c'), 'two', 'the new value after the invalidation');
    cached.close();
    writer.close();
  });
});

/** How many GETs each node served so far (INFO commandstats over TCP), by role. */
async function getsByRole() {
  const alive = cluster.nodes.find((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  const lines = (await redisCommand(alive.port, 'CLUSTER', 'NODES')).split('\n').map((line) => line.split(' ')).filter((f) => f.length > 7);
  const counts = { master: 0, replica: 0 };
  for (const f of lines) {
    if (f[2].includes('fail')) continue;
    const port = Number(f[1].split(':')[1].split('@')[0]);
    const stats = await redisCommand(port, 'INFO', 'commandstats');
    const calls = Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    counts[f[2].includes('slave') ? 'replica' : 'master'] += calls;
  }
  return counts;
}

test("readFrom: 'replica' sends reads to the replicas and writes to the masters", async () => {
  const before = await getsByRole();
  await run(async () => {
    const { eq } = window.kit;
    const { ok } = window.kit;
    const c = await window.openCluster({ readFrom: 'replica' });
    let readyReplicas = 0;
    c.addEventListener('ready', (e) => { if (e.detail.connection !== 0) readyReplicas++; });
    const keys = Array.from({ length: 30 }, (_, i) => `replica:${i}`);
    await Promise.all(keys.map((k) => c.set(k, k)));
    // A replica may lag its master by a moment: WAIT for the writes' replication.
    for (const { master } of c.shards) await c.node(master).call('WAIT', '1', '1000');
    // Redis 7.0 calls a replica "loading" until its replication offset moves
    // (the writes above): the bridge's next refresh says "online", and the
    // client opens the replicas' sockets.
    const deadline = Date.now() + 10_000;
    while (readyReplicas < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    ok(readyReplicas >= 3, `the replicas' sockets are ready: ${readyReplicas}`);
    const values = await Promise.all(keys.map((k) => c.get(k)));
    eq(values, keys, 'every read answered');
    c.close();
  });
  const after = await getsByRole();
  assert.ok(after.replica - before.replica >= 30, `the replicas served the GETs: ${JSON.stringify({ before, after })}`);
  assert.equal(after.master, before.master, 'no GET reached a master');
});

test('a large value from any master comes whole in one message, and is a view of it', async () => {
  const [{ port }] = await masters();
  const candidates = [];
  for (let i = 0; i < 60; i++) {
    const name = `big:${i}`;
    candidates.push({ name, slot: integer(await redisCommand(port, 'CLUSTER', 'KEYSLOT', name)) });
  }
  await run(async (candidates) => {
    const { eq, ok } = window.kit;
    const c = await window.openCluster({ encoder: new window.BytesEncoder() });
    // A key on every master: the bridge holds the replies of each node's socket.
    const names = c.shards.map(({ slots }) => candidates.find(({ slot }) => slots.some(([from, to]) => slot >= from && slot <= to))?.name);
    ok(names.length === 3 && names.every(Boolean), `a key on every master: ${names}`);
    const bytes = new Uint8Array(1_000_000).map((_, i) => (i * 7) % 256);
    const utf8 = new TextEncoder();
    for (const name of names) {
      const k = utf8.encode(name);
      await c.set(k, bytes);
      const got = await c.get(k);
      ok(got.length === bytes.length && got.every((b, i) => b === bytes[i]), `every byte of ${name}`);
      ok(got.byteOffset > 0 && got.buffer.byteLength > got.length,
        `${name}: a view of the message (offset ${got.byteOffset} in ${got.buffer.byteLength} bytes)`);
      eq(await c.delete([k]), 1, `delete ${name}`);
    }
    c.close();
  }, candidates);
});

function reshard(from, to, slots) {
  return new Promise((done, fail) => {
    execFile('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${from.port}`, '--cluster-from', from.id,
      '--cluster-to', to.id, '--cluster-slots', String(slots), '--cluster-yes'], { timeout: 120_000 },
    (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : done(stdout)));
  });
}

test('a resharding of 4,096 slots under numbered INCRs loses none and fails none', async () => {
  const [from, to] = await masters();
  await run(async () => {
    const c = await window.openCluster();
    const keys = Array.from({ length: 64 }, (_, i) => `reshard:${i}`);
    window.reshard = window.incrLoop(c, keys);
  });
  await reshard(from, to, 4096);
  const { done, failed, sum } = await run(async () => {
    const state = window.reshard;
    state.stop = true;
    await state.loop;
    const values = await Promise.all(state.keys.map((k) => state.c.get(k)));
    state.c.close();
    return { done: state.done, failed: state.failed, sum: values.reduce((a, v) => a + Number(v), 0) };
  });
  console.log(`resharding: ${done} INCRs, ${failed.length} failed`);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} INCRs failed`);
  assert.ok(done > 64, `INCRs ran during the resharding: ${done}`);
  assert.equal(sum, done, 'every acknowledged INCR counted once');
  const after = await masters();
  const moved = after.find((m) => m.id === to.id);
  assert.ok(moved, 'the target is still a master');
});

test('a master killed with SIGKILL fails only what it carried, and its replica takes over', async () => {
  const [victim] = await masters();
  await run(async () => {
    const c = await window.openCluster();
    const keys = Array.from({ length: 30 }, (_, i) => `failover:${i}`);
    await Promise.all(keys.map((k) => c.set(k, '0')));
    window.failover = window.incrLoop(c, keys);
    await new Promise((r) => setTimeout(r, 300));
  });
  await cluster.kill(victim.port);
  await cluster.waitUntilAgreed();
  const { failed, done, served } = await run(async () => {
    const state = window.failover;
    // Service returns: a full round succeeds after the failover.
    const deadline = Date.now() + 20_000;
    let served = false;
    while (!served && Date.now() < deadline) {
      const results = await Promise.allSettled(state.keys.map((k) => state.c.incr(k)));
      served = results.every((r) => r.status === 'fulfilled');
      for (const r of results) if (r.status === 'fulfilled') state.done++;
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    state.stop = true;
    await state.loop;
    state.c.close();
    return { failed: state.failed, done: state.done, served };
  });
  const kinds = [...new Set(failed.map((why) => why.split(':')[0]))];
  console.log(`failover: ${done} INCRs served, ${failed.length} failed (${kinds})`);
  assert.ok(served, 'every key is served again after the failover');
  assert.ok(done > 0);
  assert.ok(kinds.every((k) => k === 'ConnectionLostError'), `only in-flight commands failed, as ConnectionLostError: ${kinds}`);
  await cluster.restart(victim.port);
});
