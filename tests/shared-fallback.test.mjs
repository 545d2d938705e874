// SharedConnection without a SharedWorker (`sharing: 'leader'`, and 'auto'
// in a page without SharedWorker, as on Chrome for Android): the pages
// elect a leader with a Web Lock, and it hosts the sockets for all of them
// over a BroadcastChannel. Counted in
// Redis's CLIENT LIST by the clientName option, as shared.test.mjs does:
// five pages, one data connection, their own replies and messages; then
// the leader page closes with a blocking call, a pipeline, a subscription
// and a watched transaction in flight at it: they reject with
// ConnectionLostError, another page leads, and its connections replace
// the old leader's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { until } from './gui-kit.mjs';
import { startStack } from './harness.mjs';
import { RespClient } from './resp-tcp.mjs';

let stack;
let context;
let redis;
const pages = [];
const NAME = 'shared-leader-test';
const PAGES = 5;
/** Hang guards: a test's page code settles within this, or fails. */
const SETTLE_MS = 5000;

before(async () => {
  stack = await startStack();
  redis = await RespClient.connect(stack.redisPort);
  context = await stack.browser.newContext();
  for (let i = 0; i < PAGES; i++) {
    const page = await context.newPage();
    await page.goto(`${stack.url}style.css`);
    await page.evaluate(async ({ name, settleMs, withoutWorker }) => {
      const m = await import('/pkg/index.js');
      window.m = m;
      // The last page is a browser without SharedWorker: 'auto' picks the leader tab there.
      if (withoutWorker) {
        delete window.SharedWorker;
        window.insisted = await m.SharedConnection.create({ url: `ws://${location.host}/`, sharing: 'worker' }).catch((err) => `${err.name}: ${err.message}`);
      }
      window.shared = await m.SharedConnection.create({ url: `ws://${location.host}/`, clientName: name, sharing: withoutWorker ? 'auto' : 'leader' });
      // Each request's outcome, as its error's class name if it rejected, or 'hung'.
      window.outcome = (promise) => Promise.race([
        promise.then((value) => ({ value }), (err) => ({ error: err.name, message: err.message })),
        new Promise((done) => setTimeout(() => done({ error: 'hung' }), settleMs)),
      ]);
    }, { name: NAME, settleMs: SETTLE_MS, withoutWorker: i === PAGES - 1 });
    pages.push(page);
  }
});

after(async () => {
  redis?.close();
  await context?.close();
  await stack?.stop();
});

/** How many Redis connections carry the shared connection's name (and run `cmd`). */
const named = (cmd) => redis.countNamed(NAME, cmd);

test('five pages with a leader tab share one data connection, and each gets its own replies', { timeout: 20_000 }, async () => {
  assert.equal(await named(), 1, 'one Redis connection for five pages');
  const results = await Promise.all(pages.map((page, i) => page.evaluate(async (i) => {
    const conn = window.shared;
    const key = `leader:page:${i}`;
    await conn.del([key]);
    const counts = await Promise.all(Array.from({ length: 300 }, () => conn.incr(key)));
    const echoes = await Promise.all(Array.from({ length: 50 }, (_, j) => conn.echo(`page ${i} echo ${j}`)));
    const tx = await conn.multi();
    const inTx = Array.from({ length: 20 }, () => tx.incr(key));
    await tx.exec();
    return { counts, echoes, inTx: await Promise.all(inTx), status: (await conn.set(`${key}:s`, 'v')).constructor.name };
  }, i)));
  results.forEach(({ counts, echoes, inTx, status }, i) => {
    assert.deepEqual(counts, Array.from({ length: 300 }, (_, j) => j + 1), `page ${i}'s INCRs`);
    assert.deepEqual(echoes, Array.from({ length: 50 }, (_, j) => `page ${i} echo ${j}`), `page ${i}'s ECHOs`);
    assert.deepEqual(inTx, Array.from({ length: 20 }, (_, j) => j + 301), `page ${i}'s transaction, whole`);
    assert.equal(status, 'StatusReply', 'a reply class crosses the BroadcastChannel as itself');
  });
  // The transactions' leased connection stays as the one spare lease (last command EXEC).
  assert.ok(await named('exec') <= 1, 'at most one spare lease');
  assert.equal(await named() - await named('exec'), 1, 'still one data connection');
});

test('subscribed pages each get every message once, through one Redis subscription', { timeout: 20_000 }, async () => {
  const subscribers = pages.slice(0, 3);
  await Promise.all(subscribers.map((page) => page.evaluate(async () => {
    window.sub = await window.shared.startSubscribe();
    await window.sub.subscribe(['leader:news']);
  })));
  assert.deepEqual(await redis.command('PUBSUB', 'NUMSUB', 'leader:news'), ['leader:news', 1]);
  for (let i = 0; i < 20; i++) await redis.command('PUBLISH', 'leader:news', `m${i}`);
  const received = await Promise.all(subscribers.map((page) => page.evaluate(async () => {
    const got = [];
    for (let i = 0; i < 20; i++) got.push((await window.outcome(window.sub.nextPublished())).value?.value);
    return got;
  })));
  for (const got of received) assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
});

test('the leader page closes with requests in flight: they reject, another page leads, new commands work', { timeout: 20_000 }, async () => {
  const [leader, ...rest] = pages;
  const url = new URL(stack.url);
  // Every page notes when it opens at a new leader; page 2 also watches the
  // channel, and sends commands the moment a new leader announces itself
  // (before the page has opened there): they must wait for it, not be lost.
  await Promise.all(rest.map((page, i) => page.evaluate(({ watcher, host }) => {
    window.leads = [];
    window.shared.addEventListener('leader', (event) => window.leads.push({ at: Date.now(), hosting: event.detail.hosting }));
    if (!watcher) return;
    const channel = new BroadcastChannel(`redis-wasm:ws://${host}/`);
    channel.onmessage = ({ data }) => {
      if (data.to !== '*' || window.duringHandover) return;
      window.duringHandover = Promise.all(Array.from({ length: 50 }, (_, j) => window.outcome(window.shared.echo(`queued ${j}`))));
      channel.close();
    };
  }, { watcher: i === 1, host: url.host })));

  // In flight at the leader: a BLPOP on a lease (page 1), a watched
  // transaction (page 3), subscriptions (pages 1, 2), and pipelines that
  // Redis holds (CLIENT PAUSE) on the data connection (pages 2, 4).
  await rest[0].evaluate(() => { window.blpop = window.outcome(window.shared.blpop(['leader:never'], 0)); });
  await rest[2].evaluate(async () => { window.tx = await window.shared.multi(['leader:watched']); window.tx.set('leader:watched', 'x'); });
  await until(async () => (await named('blpop')) === 1, 'the BLPOP on a leased connection', SETTLE_MS);
  assert.deepEqual(await redis.command('CLIENT', 'PAUSE', '10000', 'WRITE'), 'OK');
  try {
    for (const page of [rest[1], rest[3]]) {
      await page.evaluate(() => {
        window.pipeline = Promise.all(Array.from({ length: 200 }, () => window.outcome(window.shared.incr('leader:paused'))));
      });
    }
    await until(async () => (await named('incr')) === 1, 'the pipelines held by Redis', SETTLE_MS);
    const closing = Date.now();
    await leader.close();
    const closedIn = Date.now() - closing;
    pages.shift();

    const lost = await Promise.all([
      rest[0].evaluate(async () => [await window.blpop, await window.outcome(window.sub.nextPublished())]),
      rest[1].evaluate(async () => [...await window.pipeline, await window.outcome(window.sub.nextPublished())]),
      rest[2].evaluate(async () => [await window.outcome(window.tx.exec())]),
      rest[3].evaluate(() => window.pipeline),
    ]);
    for (const [i, outcomes] of lost.entries()) {
      for (const outcome of outcomes) assert.equal(outcome.error, 'ConnectionLostError', `page ${i + 1}: ${JSON.stringify(outcome)}`);
    }

    const leads = await Promise.all(rest.map((page) => until(() => page.evaluate(() => window.leads.length && window.leads), 'a new leader', 3000)));
    const hosting = leads.flat().filter((lead) => lead.hosting);
    assert.equal(hosting.length, 1, 'one page leads');
    const elected = Math.min(...leads.flat().map((lead) => lead.at)) - closing;
    const allOpened = Math.max(...leads.flat().map((lead) => lead.at)) - closing;
    console.log(`leader hand-over: page.close() took ${closedIn} ms; from its start, the first page opened at the new leader after ${elected} ms, the last after ${allOpened} ms`);
    assert.ok(allOpened < 3000, `hang guard: ${allOpened} ms`);

    const queued = await rest[1].evaluate(() => window.duringHandover);
    assert.deepEqual(queued, Array.from({ length: 50 }, (_, j) => ({ value: `queued ${j}` })), 'requests made during the hand-over wait for the new leader');
  } finally {
    await redis.command('CLIENT', 'UNPAUSE');
  }

  const after = await Promise.all(rest.map((page, i) => page.evaluate(async (i) => {
    const conn = window.shared;
    const key = `leader:after:${i}`;
    await conn.del([key]);
    const counts = await Promise.all(Array.from({ length: 100 }, () => window.outcome(conn.incr(key))));
    const sub = await conn.startSubscribe();
    return { counts: counts.map((c) => c.value ?? c.error), fresh: sub !== window.sub };
  }, i)));
  after.forEach(({ counts, fresh }, i) => {
    assert.deepEqual(counts, Array.from({ length: 100 }, (_, j) => j + 1), `page ${i + 1}'s INCRs at the new leader`);
    assert.ok(fresh, 'a subscription ended by the hand-over is not handed out again');
  });
  await until(async () => (await named()) === 1, 'the old leader\'s connections gone: one data connection again', SETTLE_MS);
  assert.equal(await named('blpop'), 0);
  assert.deepEqual(await redis.command('PUBSUB', 'NUMSUB', 'leader:news'), ['leader:news', 0]);
});

/**
 * `speaker` announces a leader `host` that never answers, as a real one
 * would announce itself; resolves once `waiter`'s SharedConnection has
 * heard it (a channel delivers to its objects in the order they were made,
 * so a BroadcastChannel made now hears it after the connection's).
 */
async function announce(speaker, waiter, channel, host) {
  await waiter.evaluate(({ channel, host }) => {
    window.heard = new Promise((done) => {
      const ear = new BroadcastChannel(channel);
      ear.onmessage = ({ data }) => { if (data.leader === host) { ear.close(); done(); } };
    });
  }, { channel, host });
  await speaker.evaluate(({ channel, host }) => {
    const mouth = new BroadcastChannel(channel);
    mouth.postMessage({ to: '*', leader: host });
    mouth.close();
  }, { channel, host });
  await waiter.evaluate(() => window.heard);
}

/** Asks who leads, as a new tab does: the real leader announces itself again, and the tabs follow it. */
async function askWhoLeads(speaker, channel) {
  await speaker.evaluate((channel) => {
    const mouth = new BroadcastChannel(channel);
    mouth.postMessage({ to: 'leader' });
    mouth.close();
  }, channel);
}

test('requests wait for a leader that does not answer, up to the bound: beyond it they reject at once', { timeout: 20_000 }, async () => {
  const [speaker, waiter] = pages;
  const channel = `redis-wasm:ws://${new URL(stack.url).host}/`;
  // A leader that never answers: the tabs follow it, and what they send waits.
  await announce(speaker, waiter, channel, 'nobody');
  const beyond = await waiter.evaluate(async () => {
    window.waiting = Array.from({ length: 1000 }, (_, i) => window.outcome(window.shared.echo(`waited ${i}`)));
    return window.outcome(window.shared.echo('one too many'));
  });
  assert.equal(beyond.error, 'NotConnectedError');
  assert.match(beyond.message, /1000 requests already wait for a leader tab/);
  // The tabs follow the real leader again, and what waited goes there.
  await askWhoLeads(speaker, channel);
  const waited = await waiter.evaluate(() => Promise.all(window.waiting));
  assert.deepEqual(waited, Array.from({ length: 1000 }, (_, i) => ({ value: `waited ${i}` })));
  const everyone = await Promise.all(pages.map((page) => page.evaluate(async () => (await window.outcome(window.shared.ping())).value?.status)));
  assert.deepEqual(everyone, pages.map(() => 'PONG'));
  assert.equal(await named(), 1, 'still one data connection');
  const refused = await speaker.evaluate(() => window.m.SharedConnection.create({ url: `ws://${location.host}/`, sharing: 'tab' })
    .then(() => 'opened', (err) => `${err.name}: ${err.message}`));
  assert.equal(refused, "TypeError: SharedConnection.create: options.sharing must be 'auto', 'worker' or 'leader'");
  const insisted = await pages.at(-1).evaluate(() => window.insisted);
  assert.equal(insisted, 'TypeError: SharedConnection.create: this runtime has no SharedWorker or Web Locks (use Connection)');
});

test('requests that wait for a leader longer than 10 s reject with NotConnectedError', { timeout: 20_000 }, async () => {
  const [speaker, waiter] = pages;
  const channel = `redis-wasm:ws://${new URL(stack.url).host}/`;
  await announce(speaker, waiter, channel, 'nobody again');
  const started = Date.now();
  const timedOut = await waiter.evaluate(() => Promise.race([
    window.shared.echo('in vain').then(() => 'answered', (err) => `${err.name}: ${err.message}`),
    new Promise((done) => setTimeout(() => done('hung'), 15_000)),
  ]));
  const waited = Date.now() - started;
  assert.equal(timedOut, 'NotConnectedError: no leader tab answered within 10000 ms');
  assert.ok(waited >= 9000, `it waited ${waited} ms`);
  await askWhoLeads(speaker, channel);
  assert.equal((await waiter.evaluate(() => window.outcome(window.shared.ping()))).value?.status, 'PONG');
});

test('bytes cross the BroadcastChannel intact, both ways', { timeout: 20_000 }, async () => {
  const got = await pages[pages.length - 1].evaluate(async (name) => {
    const bytes = await window.m.SharedConnection.create({ url: `ws://${location.host}/`, clientName: name, encoder: new window.m.BytesEncoder(), sharing: 'leader' });
    const value = new Uint8Array([0, 255, 128, 10, 13]);
    await bytes.set(new Uint8Array([107, 0, 255]), value);
    const back = await bytes.get(new Uint8Array([107, 0, 255]));
    bytes.close();
    return { type: back?.constructor.name, value: Array.from(back) };
  }, `${NAME}-bytes`);
  assert.deepEqual(got, { type: 'Uint8Array', value: [0, 255, 128, 10, 13] });
});

test('with clientSideCache the one cache lives in the leader: a read in one page is a hit in another, and invalidations reach both', { timeout: 20_000 }, async () => {
  const readers = pages.slice(0, 2);
  await redis.command('SET', 'leader:cached', 'v1');
  for (const page of readers) {
    await page.evaluate(async (name) => {
      window.cached = await window.m.SharedConnection.create({ url: `ws://${location.host}/`, clientName: name, clientSideCache: true, sharing: 'leader' });
      window.invalidated = [];
      window.cached.addEventListener('invalidate', (event) => window.invalidated.push(...event.detail.keys ?? ['(all)']));
    }, `${NAME}-cache`);
  }
  const first = await readers[0].evaluate(() => window.cached.get('leader:cached'));
  const second = await readers[1].evaluate(async () => ({ value: await window.cached.get('leader:cached'), stats: await window.cached.cacheStats() }));
  assert.equal(first, 'v1');
  assert.equal(second.value, 'v1');
  assert.equal(second.stats.misses, 1, 'one miss: the first page\'s');
  assert.equal(second.stats.hits, 1, 'the second page read the first page\'s entry');
  await redis.command('SET', 'leader:cached', 'v2');
  for (const page of readers) {
    await until(() => page.evaluate(() => window.invalidated.includes('leader:cached')), 'the invalidation in every page', SETTLE_MS);
  }
  assert.equal(await readers[1].evaluate(() => window.cached.get('leader:cached')), 'v2');
  await Promise.all(readers.map((page) => page.evaluate(() => window.cached.close())));
});

test('a leader that closes its SharedConnection (its page stays) hands over as a closed page does', { timeout: 20_000 }, async () => {
  const leads = await Promise.all(pages.map((page) => page.evaluate(() => window.leads?.at(-1)?.hosting ?? false)));
  assert.equal(leads.filter(Boolean).length, 1, 'one page leads');
  const leader = pages[leads.indexOf(true)];
  const followers = pages.filter((page) => page !== leader);
  await followers[0].evaluate(() => { window.blpop = window.outcome(window.shared.blpop(['leader:never'], 0)); });
  await until(async () => (await named('blpop')) === 1, 'the BLPOP on a leased connection', SETTLE_MS);
  const marks = await Promise.all(followers.map((page) => page.evaluate(() => window.leads.length)));
  const closed = await leader.evaluate(() => {
    window.shared.close();
    return window.outcome(window.shared.ping());
  });
  assert.equal(closed.error, 'ConnectionLostError', 'its own connection is closed');
  assert.equal((await followers[0].evaluate(() => window.blpop)).error, 'ConnectionLostError');
  for (const [i, page] of followers.entries()) {
    await until(() => page.evaluate((mark) => window.leads.length > mark, marks[i]), 'a new leader', 3000);
  }
  const pongs = await Promise.all(followers.map((page) => page.evaluate(async () => (await window.outcome(window.shared.ping())).value?.status)));
  assert.deepEqual(pongs, followers.map(() => 'PONG'));
  await until(async () => (await named()) === 1 && (await named('blpop')) === 0, 'the old leader\'s sockets closed: one data connection', SETTLE_MS);
});
