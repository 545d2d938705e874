// Client-side caching in the browser, through the real bridge and a real
// redis-server: hits send nothing, other clients' writes (plain TCP clients
// outside the browser) invalidate before the next reply, and a randomized
// run against a model finds no stale read.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { browserSuite } from './kit.mjs';
import { RespClient } from './resp-tcp.mjs';

let suite;
let writer;
before(async () => {
  suite = await browserSuite();
  writer = await RespClient.connect(suite.stack.redisPort);
});
after(async () => {
  writer?.close();
  await suite?.stop();
});

/** Opens `window.cached` with the cache on, counting the frames it sends. */
async function openCached(options = {}) {
  await suite.run(async (options) => {
    window.framesSent = 0;
    class Counting extends WebSocket {
      send(data) {
        window.framesSent++;
        super.send(data);
      }
    }
    window.cached?.close();
    window.cached = await window.kit.connect({ clientSideCache: true, WebSocket: Counting, ...options });
    window.invalidated = [];
    window.invLog = [];
    window.cached.addEventListener('invalidate', (e) => { window.invalidated.push(e.detail.keys); window.invLog.push({ keys: e.detail.keys, at: performance.now() }); });
  }, options);
}

test('a hit sends no WebSocket frame, and a reply changed by the caller does not change the next hit', async () => {
  await openCached();
  await suite.run(async () => {
    const { eq, ok, key } = window.kit;
    const conn = window.cached;
    const k = key('hit');
    const h = key('hash');
    const l = key('list');
    await conn.set(k, 'v');
    await conn.hmset(h, { a: '1', b: '2' });
    await conn.rpush(l, ['x', 'y']);
    eq(await conn.get(k), 'v', 'the miss');
    const sent = window.framesSent;
    for (let i = 0; i < 100; i++) eq(await conn.get(k), 'v', 'a hit');
    eq(window.framesSent, sent, 'frames sent for 100 hits');

    const first = await conn.hgetallAsDict(h);
    first.set('a', 'changed');
    first.delete('b');
    eq(await conn.hgetallAsDict(h), new Map([['a', '1'], ['b', '2']]), 'the next hit');
    const items = await conn.call('LRANGE', l, '0', '-1');
    items.push('z');
    eq(await conn.call('LRANGE', l, '0', '-1'), ['x', 'y'], 'a plain array hit');
    const list = await conn.lrange(l);
    const values = [];
    for await (const item of list) values.push(item);
    eq(values, ['x', 'y'], 'a ListReply from the cache');
    const stats = conn.cacheStats();
    ok(stats.hits >= 103 && stats.entries >= 3 && stats.bytes > 0, `stats ${JSON.stringify(stats)}`);
  });
});

test('another client\'s write is seen before the next reply; FLUSHALL empties the cache', async () => {
  await openCached();
  const k = await suite.run(async () => {
    const k = window.kit.key('other');
    await window.cached.set(k, 'old');
    window.kit.eq(await window.cached.get(k), 'old', 'cached');
    window.kit.eq(await window.cached.get(k), 'old', 'a hit');
    return k;
  });
  assert.equal(await writer.command('SET', k, 'new'), 'OK');
  await suite.run(async (k) => {
    const { eq, ok } = window.kit;
    await window.cached.ping();
    ok(window.invalidated.some((keys) => keys?.includes(k)), `invalidate event for ${k}: ${JSON.stringify(window.invalidated)}`);
    eq(await window.cached.get(k), 'new', 'after the next reply');
  }, k);
  assert.equal(await writer.command('FLUSHALL'), 'OK');
  await suite.run(async (k) => {
    const { eq, ok } = window.kit;
    await window.cached.ping();
    ok(window.invalidated.some((keys) => keys === null), 'a null invalidation');
    eq(window.cached.cacheStats().entries, 0, 'entries after FLUSHALL');
    eq(await window.cached.get(k), null, 'the key is gone');
  }, k);
});

test('an entry ends with its key\'s TTL even when Redis does not expire the key actively', async () => {
  await openCached();
  assert.equal(await writer.command('DEBUG', 'SET-ACTIVE-EXPIRE', '0'), 'OK');
  try {
    const k = `ttl:${Date.now()}`;
    assert.equal(await writer.command('SET', k, 'brief', 'PX', '300'), 'OK');
    await suite.run(async (k) => {
      const { eq, ok } = window.kit;
      const conn = window.cached;
      eq(await conn.get(k), 'brief', 'the miss');
      eq(await conn.get(k), 'brief', 'a hit');
      await new Promise((done) => setTimeout(done, 400));
      const sent = window.framesSent;
      eq(await conn.get(k), null, 'past the TTL');
      ok(window.framesSent > sent, 'read from Redis again');
    }, k);
  } finally {
    await writer.command('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  }
});

test('tracking-table-max-keys makes Redis invalidate what it stops tracking', async () => {
  await openCached();
  assert.equal(await writer.command('CONFIG', 'SET', 'tracking-table-max-keys', '2'), 'OK');
  try {
    await suite.run(async () => {
      const { eq, ok, key } = window.kit;
      const conn = window.cached;
      const keys = Array.from({ length: 6 }, (_, i) => key(`table${i}`));
      for (const k of keys) await conn.set(k, k);
      for (const k of keys) eq(await conn.get(k), k, 'read');
      // Redis trims its tracking table from its cron (10 times a second),
      // telling us of each key it stops tracking.
      const told = () => window.invalidated.flat().filter((k) => keys.includes(k)).length;
      const deadline = performance.now() + 3000;
      while ((told() < 4 || conn.cacheStats().entries > 2) && performance.now() < deadline) {
        await new Promise((done) => setTimeout(done, 20));
      }
      const stats = conn.cacheStats();
      ok(told() >= 4, `keys invalidated: ${told()}`);
      ok(stats.entries <= 2, `entries ${JSON.stringify(stats)}`);
      for (const k of keys) eq(await conn.get(k), k, 'read again');
    });
  } finally {
    await writer.command('CONFIG', 'SET', 'tracking-table-max-keys', '0');
  }
});

test('a forced reconnect clears the cache as the socket closes', async () => {
  await openCached();
  const id = await suite.run(async () => {
    const conn = window.cached;
    window.reconnect = { k: window.kit.key('reconnect') };
    await conn.set(window.reconnect.k, 'before');
    await conn.get(window.reconnect.k);
    window.kit.eq(conn.cacheStats().entries, 1, 'cached');
    conn.addEventListener('close', () => { window.reconnect.atClose = conn.cacheStats().entries; }, { once: true });
    window.reconnect.ready = new Promise((done) => conn.addEventListener('ready', done, { once: true }));
    return conn.call('CLIENT', 'ID');
  });
  assert.equal(await writer.command('CLIENT', 'KILL', 'ID', String(id)), 1);
  assert.equal(await writer.command('SET', `${await suite.run(() => window.reconnect.k)}`, 'after'), 'OK');
  await suite.run(async () => {
    const { eq } = window.kit;
    await window.reconnect.ready;
    eq(window.reconnect.atClose, 0, 'entries when the close event fires');
    eq(await window.cached.get(window.reconnect.k), 'after', 'read after the reconnect');
  });
});

test('a pool shares one cache; optin and broadcast modes cache what they track', async () => {
  await suite.run(async () => {
    const { m, eq, ok, key } = window.kit;
    const url = `ws://${location.host}/`;
    const pool = await m.Pool.create({ url, poolsize: 3, clientSideCache: { mode: 'optin' } });
    const k = key('pool');
    await pool.set(k, '1');
    eq(await pool.get(k), '1', 'miss');
    for (let i = 0; i < 10; i++) eq(await pool.get(k), '1', 'hit on any connection');
    await pool.set(k, '2');
    eq(await pool.get(k), '2', 'our own write');
    ok(pool.cacheStats().hits === 10, `pool stats ${JSON.stringify(pool.cacheStats())}`);
    pool.close();

    const bcast = await window.kit.connect({ clientSideCache: { mode: 'broadcast', prefixes: ['bc:'] } });
    await bcast.set('bc:1', 'a');
    await bcast.set('other:1', 'b');
    await bcast.get('bc:1');
    await bcast.get('other:1');
    eq(bcast.cacheStats().entries, 1, 'only keys under the prefix');
    bcast.close();
  });
});

test('bad cache options are refused before connecting', async () => {
  await suite.run(async () => {
    const { connect, rejects } = window.kit;
    await rejects(connect({ clientSideCache: true, protocol: 2 }), TypeError, 'RESP2');
    await rejects(connect({ clientSideCache: { mode: 'sometimes' } }), TypeError, 'mode');
    await rejects(connect({ clientSideCache: { maxEntries: 0 } }), TypeError, 'maxEntries');
    await rejects(connect({ clientSideCache: { prefixes: ['a:'] } }), TypeError, 'prefixes outside broadcast');
  });
});

test('a tight loop of hits still sees another client\'s write', async () => {
  await openCached();
  await suite.run(async () => {
    await window.cached.set('loop', 'before');
    await window.cached.get('loop');
  });
  const write = new Promise((done) => setTimeout(done, 50)).then(() => writer.command('SET', 'loop', 'after'));
  const seen = await suite.run(async () => {
    const started = performance.now();
    while (performance.now() - started < 2000) {
      if ((await window.cached.get('loop')) === 'after') return true;
    }
    return false;
  });
  assert.equal(await write, 'OK');
  assert.equal(seen, true, 'hits never let the invalidation in');
});

// The model: writers outside the browser write the "fenced" keys between the
// browser's batches, and each batch begins with a PING on the reader's
// socket: every invalidation Redis sent before that PONG has been applied,
// so each read must return exactly the last acknowledged value. (A read
// issued by the page with no reply of its socket in between cannot know of a
// write acknowledged elsewhere: measured here, an invalidation reached the
// page 2 ms after a message the test sent it once the writer had its OK.)
// Meanwhile one writer per "live" key counts up without pause: no read may
// return a count lower than one it returned before.
test('10,000 random operations with external writers and reconnects: no read returns an overwritten value', async () => {
  const FENCED = Array.from({ length: 16 }, (_, i) => `model:${i}`);
  const LIVE = Array.from({ length: 3 }, (_, i) => `live:${i}`);
  const writers = await Promise.all([1, 2, 3].map(() => RespClient.connect(suite.stack.redisPort)));
  const counters = await Promise.all(LIVE.map(() => RespClient.connect(suite.stack.redisPort)));
  const model = new Map();
  let serial = 0;
  let operations = 0;
  let reconnects = 0;
  let counting = true;
  const random = (n) => Math.floor(Math.random() * n);
  const counted = LIVE.map(async (key, i) => {
    for (let n = 1; counting; n++) {
      assert.equal(await counters[i].command('SET', key, String(n)), 'OK');
      operations++;
    }
  });
  try {
    await openCached();
    await suite.run(async ({ fenced, live }) => {
      await window.cached.del(fenced);
      window.model = { fenced, live, highest: Object.fromEntries(live.map((k) => [k, 0])) };
    }, { fenced: FENCED, live: LIVE });
    for (let round = 0; round < 100; round++) {
      await Promise.all(writers.map(async (w) => {
        for (let i = 0; i < 5; i++) {
          const key = FENCED[random(FENCED.length)];
          const reply = random(10) === 0 ? await w.command('DEL', key) : await w.command('SET', key, `w${++serial}`);
          assert.ok(reply === 'OK' || typeof reply === 'number', String(reply));
          operations++;
        }
      }));
      // Writers of one key race each other: what Redis kept is the model.
      for (const key of FENCED) model.set(key, await writer.command('GET', key));
      if (round % 10 === 5) {
        const id = await suite.run(() => window.cached.call('CLIENT', 'ID'));
        await writer.command('CLIENT', 'KILL', 'ID', String(id));
        reconnects++;
      }
      const result = await suite.run(async ({ expected, seed }) => {
        const conn = window.cached;
        const { fenced, live, highest } = window.model;
        const stale = [];
        let state = seed;
        const random = (n) => { state = (state * 1103515245 + 12345) % 2147483648; return Math.floor(state / 65536) % n; };
        // A kill's close can land at any point: only a lost connection may
        // fail an operation, which is then tried again once reconnected.
        const lost = (err) => err.name === 'ConnectionLostError' || err.name === 'NotConnectedError';
        const retried = async (operation) => {
          for (;;) {
            while (!conn.isConnected) await new Promise((done) => setTimeout(done, 5));
            try {
              return await operation();
            } catch (err) {
              if (!lost(err)) throw err;
            }
          }
        };
        await retried(() => conn.ping());
        let done = 1;
        for (let i = 0; i < 85; i++, done++) {
          const key = fenced[random(fenced.length)];
          const pick = random(20);
          try {
            if (pick < 12) {
              const got = await conn.get(key);
              if (got !== (expected[key] ?? null)) stale.push({ key, got, want: expected[key], i });
            } else if (pick < 14) {
              const other = fenced[random(fenced.length)];
              const got = await conn.mgetAsList([key, other]);
              const want = [expected[key] ?? null, expected[other] ?? null];
              if (JSON.stringify(got) !== JSON.stringify(want)) stale.push({ key, other, got, want, i });
            } else if (pick < 17) {
              const counter = live[random(live.length)];
              const got = Number(await conn.get(counter));
              if (got < highest[counter]) stale.push({ counter, got, before: highest[counter], i });
              highest[counter] = got;
            } else {
              const value = `b${seed}:${i}`;
              await conn.set(key, value);
              expected[key] = value;
            }
          } catch (err) {
            if (!lost(err)) throw err;
            // A write may or may not have reached Redis: read it back, past the cache.
            expected[key] = await retried(() => conn.call('EVAL_RO', 'return redis.call("GET", KEYS[1])', '1', key));
          }
        }
        return { stale, expected, done, stats: conn.cacheStats() };
      }, { expected: Object.fromEntries(model), seed: round * 7919 + 1 });
      assert.deepEqual(result.stale, [], `round ${round}: stale reads ${JSON.stringify(result.stale)}`);
      for (const [key, value] of Object.entries(result.expected)) model.set(key, value);
      operations += result.done;
      if (round === 99) {
        const { stats } = result;
        assert.ok(stats.hits > 2000, `the cache served reads: ${JSON.stringify(stats)}`);
        assert.ok(stats.invalidations > 100, `invalidations happened: ${JSON.stringify(stats)}`);
      }
    }
    counting = false;
    await Promise.all(counted);
    assert.ok(operations >= 10_000, `operations: ${operations}`);
    assert.equal(reconnects, 10);
  } finally {
    counting = false;
    for (const w of [...writers, ...counters]) w.close();
  }
});
