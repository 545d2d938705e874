// SharedConnection: pages of one origin share one bridge WebSocket through
// a SharedWorker. Counted in Redis's CLIENT LIST (each bridge WebSocket is
// one Redis connection, named by the clientName option): ten pages, one
// data connection; replies reach the page that asked; transactions of two
// pages at once both commit whole; three subscribed pages get each message
// once; a page closed in the middle of a blocking call releases its lease.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startStack } from './harness.mjs';
import { RespClient } from './resp-tcp.mjs';

let stack;
let context;
let redis;
const pages = [];
const NAME = 'shared-test';

before(async () => {
  stack = await startStack();
  redis = await RespClient.connect(stack.redisPort);
  context = await stack.browser.newContext();
  for (let i = 0; i < 10; i++) {
    const page = await context.newPage();
    await page.goto(`${stack.url}style.css`);
    await page.evaluate(async (name) => {
      const m = await import('/pkg/index.js');
      window.m = m;
      window.shared = await m.SharedConnection.create({ url: `ws://${location.host}/`, clientName: name });
    }, NAME);
    pages.push(page);
  }
});

after(async () => {
  redis?.close();
  await context?.close();
  await stack?.stop();
});

/** How many Redis connections carry the shared connection's name (and run `cmd`). */
function named(cmd) {
  return redis.countNamed(NAME, cmd);
}

async function until(check, what, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((done) => setTimeout(done, 25));
  }
}

test('ten pages of one origin share one data connection, and each gets its own replies', async () => {
  assert.equal(await named(), 1, 'one Redis connection for ten pages');
  const results = await Promise.all(pages.map((page, i) => page.evaluate(async (i) => {
    const conn = window.shared;
    const key = `shared:page:${i}`;
    await conn.del([key]);
    const counts = await Promise.all(Array.from({ length: 500 }, () => conn.incr(key)));
    const echoes = await Promise.all(Array.from({ length: 50 }, (_, j) => conn.echo(`page ${i} echo ${j}`)));
    return { counts, echoes, status: (await conn.set(`${key}:s`, 'v')).status, value: await conn.get(`${key}:s`) };
  }, i)));
  results.forEach(({ counts, echoes, status, value }, i) => {
    assert.deepEqual(counts, Array.from({ length: 500 }, (_, j) => j + 1), `page ${i}'s INCRs`);
    assert.deepEqual(echoes, Array.from({ length: 50 }, (_, j) => `page ${i} echo ${j}`), `page ${i}'s ECHOs`);
    assert.equal(status, 'OK', 'a StatusReply crosses as itself');
    assert.equal(value, 'v');
  });
  assert.equal(await named(), 1, 'still one');
});

test('SELECT and SUBSCRIBE through call() are refused; reply classes and errors cross as themselves', async () => {
  const outcome = await pages[0].evaluate(async () => {
    const conn = window.shared;
    const refused = async (promise) => promise.then(() => 'resolved', (err) => `${err.name}: ${err.message}`);
    await conn.rpush('shared:list', ['a', 'b']);
    const list = await conn.lrange('shared:list');
    return {
      select: await refused(conn.call('SELECT', '1')),
      subscribe: await refused(conn.call('SUBSCRIBE', 'x')),
      wrongType: await refused(conn.hget('shared:list', 'f')),
      errorClass: await conn.hget('shared:list', 'f').catch((err) => err instanceof window.m.ErrorReply && err.code),
      list: [list.constructor.name, await list.aslist()],
      typeError: await refused(conn.set(42, 'v')),
    };
  });
  assert.match(outcome.select, /^RedisError: SELECT on a SharedConnection/);
  assert.match(outcome.subscribe, /^RedisError: SUBSCRIBE on a SharedConnection: use startSubscribe/);
  assert.match(outcome.wrongType, /^ErrorReply: WRONGTYPE/);
  assert.equal(outcome.errorClass, 'WRONGTYPE');
  assert.deepEqual(outcome.list, ['ListReply', ['a', 'b']]);
  assert.match(outcome.typeError, /^TypeError/);
});

test('two pages in transactions at once both commit whole', async () => {
  await redis.command('DEL', 'shared:tx');
  const [a, b] = await Promise.all([pages[1], pages[2]].map((page) => page.evaluate(async () => {
    const tx = await window.shared.multi();
    const replies = Array.from({ length: 100 }, () => tx.incr('shared:tx'));
    await tx.exec();
    return Promise.all(replies);
  })));
  const runs = [a, b].sort((x, y) => x[0] - y[0]);
  assert.deepEqual(runs[0], Array.from({ length: 100 }, (_, i) => i + 1), 'one transaction ran whole');
  assert.deepEqual(runs[1], Array.from({ length: 100 }, (_, i) => i + 101), 'then the other, whole');
  const watched = await pages[3].evaluate(async () => {
    const tx = await window.shared.multi(['shared:watched']);
    tx.set('shared:watched', 'mine');
    await window.shared.set('shared:watched', 'theirs');
    return tx.exec().then(() => 'committed', (err) => err.name);
  });
  assert.equal(watched, 'TransactionError', 'WATCH sees a write of the shared connection');
});

test('three subscribed pages each get every message once', async () => {
  const subscribers = pages.slice(4, 7);
  await Promise.all(subscribers.map((page) => page.evaluate(async () => {
    window.sub = await window.shared.startSubscribe();
    await window.sub.subscribe(['shared:news']);
  })));
  for (let i = 0; i < 20; i++) await redis.command('PUBLISH', 'shared:news', `m${i}`);
  const received = await Promise.all(subscribers.map((page) => page.evaluate(async () => {
    const got = [];
    for (let i = 0; i < 20; i++) got.push((await window.sub.nextPublished()).value);
    return got;
  })));
  for (const got of received) assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `m${i}`));
  const numsub = await redis.command('PUBSUB', 'NUMSUB', 'shared:news');
  assert.deepEqual(numsub, ['shared:news', 1], 'one Redis subscription for three pages');
  await subscribers[0].evaluate(() => window.sub.unsubscribe(['shared:news']));
  await redis.command('PUBLISH', 'shared:news', 'later');
  const later = await subscribers[1].evaluate(async () => (await window.sub.nextPublished()).value);
  assert.equal(later, 'later', 'the others still get it');
});

test('scans and scripts through the shared connection, as on a Connection', async () => {
  for (let i = 0; i < 120; i++) await redis.command('SET', `shared:scan:${i}`, String(i));
  await redis.command('HSET', 'shared:h', 'a', '1', 'b', '2');
  await redis.command('ZADD', 'shared:z', '1.5', 'm');
  await redis.command('SADD', 'shared:s', 'x', 'y');
  const got = await pages[1].evaluate(async () => {
    const conn = window.shared;
    const keys = await conn.scan('shared:scan:*').fetchall();
    const seen = [];
    for await (const field of conn.hscan('shared:h')) seen.push(field);
    const zset = await conn.zscan('shared:z').fetchall();
    const set = await conn.sscan('shared:s').fetchall();
    const script = await conn.registerScript("return redis.call('GET', KEYS[1]) .. ARGV[1]");
    const first = await (await script.run(['shared:scan:7'], ['!'])).returnValue();
    await conn.call('SCRIPT', 'FLUSH');
    const again = await (await script.run(['shared:scan:7'], ['?'])).returnValue();
    return { keys: keys.length, unique: new Set(keys).size, seen, zset: [...zset], set: [...set].sort(), first, again, sha: script.sha };
  });
  assert.equal(got.keys, 120);
  assert.equal(got.unique, 120);
  assert.deepEqual(got.seen.sort(), [['a', '1'], ['b', '2']]);
  assert.deepEqual(got.zset, [['m', 1.5]]);
  assert.deepEqual(got.set, ['x', 'y']);
  assert.equal(got.first, '7!');
  assert.equal(got.again, '7?', 'EVAL once the server lost the script');
  assert.match(got.sha, /^[0-9a-f]{40}$/);
});

test('a page closed in a blocking call and with a subscription releases them', async () => {
  const page = pages.pop();
  await page.evaluate(async () => {
    window.shared.blpop(['shared:never'], 0).catch(() => {});
    window.sub = await window.shared.startSubscribe();
    await window.sub.subscribe(['shared:only-me']);
  });
  await until(async () => (await named('blpop')) === 1, 'the blocking call on a leased connection');
  assert.deepEqual(await redis.command('PUBSUB', 'NUMSUB', 'shared:only-me'), ['shared:only-me', 1]);
  await page.close();
  await until(async () => (await named('blpop')) === 0, 'the lease released within the deadline', 2000);
  await until(async () => (await redis.command('PUBSUB', 'NUMSUB', 'shared:only-me'))[1] === 0, 'its subscription dropped', 2000);
  const still = await pages[0].evaluate(() => window.shared.ping());
  assert.equal(still.status, 'PONG', 'the other pages keep the shared connection');
});
