// The connection lifecycle and the core's modes in headless Chromium,
// through the real bridge: events across a redis-server restart, state set
// through call() replayed, call('SUBSCRIBE') and call('BLPOP') treated as
// the methods are, timeouts, abort signals, the offline queue, the seed's
// error wording, and the generated methods of commands beyond the seed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserSuite } from './kit.mjs';

let suite;
before(async () => { suite = await browserSuite(); });
after(async () => { await suite?.stop(); });

test('events, call(SELECT) and call(SUBSCRIBE) replayed, the offline queue and a first connection retried across a restart', async () => {
  await suite.run(async () => {
    const { connect, eq, ok, key } = window.kit;
    const conn = await connect({ reconnectCap: 300 });
    const events = [];
    for (const type of ['connect', 'ready', 'reconnecting', 'close', 'error', 'end']) {
      conn.addEventListener(type, (event) => events.push([type, event.detail]));
    }
    ok(conn instanceof EventTarget, 'a Connection is an EventTarget');
    eq((await conn.call('SELECT', '3')).toString(), 'OK', 'SELECT through call');
    const k = key('db3');
    await conn.set(k, 'three');
    const queued = await connect({ offlineQueue: true, reconnectCap: 300 });
    const subscriber = await connect({ reconnectCap: 300 });
    const channel = key('calls');
    eq(await subscriber.call('SUBSCRIBE', channel), [['subscribe', channel, 1]], 'SUBSCRIBE through call: its confirmations');
    ok(subscriber.inPubsub, 'call(SUBSCRIBE) enters pub/sub');
    const sub = await subscriber.startSubscribe();
    const publisher = await connect({ reconnectCap: 300 });
    await publisher.publish(channel, 'first');
    eq((await sub.nextPublished()).value, 'first', 'its messages reach the Subscription, and the connection stays up');
    window.restart = { conn, events, k, queued, subscriber, sub, publisher, channel };
  });
  await suite.stack.killRedis();
  await suite.run(async () => {
    const { m, ok, key } = window.kit;
    const { conn, events, queued } = window.restart;
    const deadline = Date.now() + 3000;
    while (!events.some(([type]) => type === 'reconnecting') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const reconnecting = events.find(([type]) => type === 'reconnecting')?.[1];
    ok(reconnecting && reconnecting.attempt === 1 && reconnecting.delay >= 25 && reconnecting.delay <= 50,
      `reconnecting { attempt: 1, delay in [25, 50] }: ${JSON.stringify(events)}`);
    ok(events.some(([type]) => type === 'close'), 'close');
    ok(!conn.isConnected, 'disconnected');
    // Each connection learns of the loss from its own socket.
    while (queued.isConnected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ok(!queued.isConnected, 'the queueing connection is disconnected too');
    window.restart.offline = queued.set(key('offline'), 'queued');
    window.restart.firstTry = m.Connection.create({ url: `ws://${location.host}/`, reconnectCap: 200 });
  });
  await new Promise((resolve) => setTimeout(resolve, 400));
  await suite.stack.restartRedis();
  await suite.run(async () => {
    const { eq, ok } = window.kit;
    const { conn, events, k, subscriber, sub, publisher, channel, offline, firstTry } = window.restart;
    eq((await offline).status, 'OK', 'the command queued offline was sent after the handshake');
    const late = await firstTry;
    ok(late.isConnected, 'a first connection made while redis-server was down was retried and resolved');
    const deadline = Date.now() + 5000;
    while (!(conn.isConnected && subscriber.isConnected && publisher.isConnected) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    ok(events.some(([type]) => type === 'connect') && events.at(-1)[0] === 'ready', `connect, then ready: ${JSON.stringify(events.slice(-3))}`);
    const info = await conn.call('CLIENT', 'INFO');
    ok(/ db=3 /.test(info), `the SELECT sent through call() was replayed: ${info}`);
    eq(await conn.get(k), null, 'a fresh server in db 3');
    await publisher.publish(channel, 'after');
    eq((await sub.nextPublished()).value, 'after', 'the call(SUBSCRIBE) subscription was renewed');
    late.close();
  });
  assert.ok(true);
});

test('call(BLPOP) holds a pool connection like blpop(); the seed wording of pool and timeout errors', () => suite.run(async () => {
  const { m, eq, ok, key, rejects } = window.kit;
  const pool = await m.Pool.create({ url: `ws://${location.host}/`, poolsize: 2 });
  const k = key('pool');
  const first = pool.call('BLPOP', `${k}:a`, '1');
  eq(pool.connectionsInUse, 1, 'a blocking command through call() holds its connection');
  eq((await pool.set(k, 'v')).status, 'OK', 'the other connection serves commands');
  const second = pool.call('BRPOP', `${k}:b`, '1');
  const refused = await rejects(pool.get(k), m.NoAvailableConnectionsInPoolError, 'both held');
  ok(refused.message.startsWith('No available connections in the pool'), refused.message);
  eq([await first, await second], [null, null], 'call() gives the plain nil of a timed-out pop');
  const timedOut = await rejects(pool.blpop([`${k}:c`], 1), m.TimeoutError, 'blpop timed out');
  eq(timedOut.message, 'Timeout in blocking pop', 'the peer\'s wording');
  const moved = await rejects(pool.brpoplpush(`${k}:c`, `${k}:d`, 1), m.TimeoutError, 'brpoplpush timed out');
  eq(moved.message, 'Timeout in brpoplpush', 'the peer\'s wording');
  await rejects(pool.call('SUBSCRIBE', 'x'), m.RedisError, 'SUBSCRIBE through a pool is refused: startSubscribe() is the way');
  pool.close();
}));

test('transactions refuse nesting and pub/sub with the peer\'s words; ErrorReply has code and command', () => suite.run(async () => {
  const { m, eq, connect, key, rejects } = window.kit;
  const conn = await connect();
  const tx = await conn.multi();
  eq((await rejects(tx.multi(), Error, 'nested multi')).message, 'Multi calls can not be nested.', 'multi');
  eq((await rejects(tx.startSubscribe(), Error, 'pub/sub in a transaction')).message,
    'Cannot start pubsub listener when a protocol is in use.', 'startSubscribe');
  await rejects(tx.call('MULTI'), Error, 'MULTI through call in a transaction');
  await tx.exec();
  eq((await rejects(tx.get('k'), m.TransactionError, 'a finished transaction')).message, 'Transaction already finished or invalid.', 'finished');
  await rejects(conn.call('MONITOR'), m.RedisError, 'MONITOR would desynchronise replies');
  await rejects(conn.call('CLIENT', 'REPLY', 'OFF'), m.RedisError, 'CLIENT REPLY OFF too');
  await rejects(conn.call('MULTI'), m.RedisError, 'call(MULTI): multi() is the way');
  const list = key('list');
  await conn.rpush(list, ['x']);
  const wrong = await rejects(conn.incr(list), m.ErrorReply, 'WRONGTYPE');
  eq([wrong.code, wrong.command], ['WRONGTYPE', 'INCR'], 'code and command');
  const viaCall = await rejects(conn.call('hget', list, 'f'), m.ErrorReply, 'through call');
  eq([viaCall.code, viaCall.command], ['WRONGTYPE', 'HGET'], 'code and command through call');
  eq(await conn.ping().then((r) => r.status), 'PONG', 'still usable');
}));

test('commandTimeout and abort signals: the late reply is dropped, later commands get their own', () => suite.run(async () => {
  const { m, eq, connect, key, rejects } = window.kit;
  const conn = await connect({ commandTimeout: 150 });
  const k = key('timeout');
  await conn.set(k, 'mine');
  const slow = conn.call('WAIT', '1', '300');
  const timedOut = await rejects(slow, m.TimeoutError, 'WAIT past commandTimeout');
  eq(timedOut.message, 'commandTimeout: no reply within 150 ms', 'message');
  // The socket is still busy with WAIT: let its late reply come and be dropped.
  await new Promise((resolve) => setTimeout(resolve, 300));
  eq(await conn.get(k), 'mine', 'the next command gets its own reply, not the late WAIT one');
  const pop = conn.blpop([key('never')], 1);
  await rejects(pop, m.TimeoutError, 'a blocking pop is not cut by commandTimeout: its own timeout');

  conn.close();
  const plain = await connect();
  const controller = new AbortController();
  const aborted = plain.withSignal(controller.signal).call('WAIT', '1', '300');
  setTimeout(() => controller.abort(), 30);
  const reason = await aborted.then(() => null, (err) => err);
  eq(reason?.name, 'AbortError', 'rejects with the signal\'s reason');
  eq(await plain.get(k), 'mine', 'and the reply after it is its own');
  const early = new AbortController();
  early.abort();
  const never = await plain.withSignal(early.signal).set(k, 'never').then(() => null, (err) => err);
  eq(never?.name, 'AbortError', 'an already aborted signal');
  eq(await plain.get(k), 'mine', 'the aborted SET was not sent');
  plain.close();
}));

test('generated methods: a stream consumer group, GETEX, LMOVE, ZRANGE BYSCORE LIMIT, geo, HyperLogLog, BITFIELD', () => suite.run(async () => {
  const { eq, ok, connect, key } = window.kit;
  const conn = await connect();
  const s = key('stream');
  const id1 = await conn.xadd(s, '*', { type: 'click', x: '10' });
  const id2 = await conn.xadd(s, '*', new Map([['n', '1']]), { trim: { strategy: 'MAXLEN', operator: '~', threshold: 1000 } });
  ok(/^\d+-\d+$/.test(id1) && id2 > id1, `xadd ids ${id1} ${id2}`);
  eq(await conn.xgroupCreate(s, 'workers', '0', { mkstream: true }), 'OK', 'xgroupCreate');
  const read = await conn.xreadgroup(['workers', 'alice'], { [s]: '>' }, { count: 10 });
  eq(read, [[s, [[id1, ['type', 'click', 'x', '10']], [id2, ['n', '1']]]]], 'xreadgroup');
  const pending = await conn.xpending(s, 'workers');
  eq(pending[0], 2, 'xpending counts both');
  const claimed = await conn.xautoclaim(s, 'workers', 'bob', 0, '0-0', { count: 1 });
  eq(claimed[1].map(([id]) => id), [id1], 'xautoclaim moves one to bob');
  eq(await conn.xack(s, 'workers', [id1, id2]), 2, 'xack');
  eq((await conn.xpending(s, 'workers'))[0], 0, 'nothing pending');

  const k = key('getex');
  await conn.set(k, 'v');
  eq(await conn.getex(k, { ex: 60 }), 'v', 'getex');
  const ttl = await conn.ttl(k);
  ok(ttl > 0 && ttl <= 60, `getex set the ttl (${ttl})`);

  const [todo, doing] = [key('todo'), key('doing')];
  await conn.rpush(todo, ['a', 'b']);
  eq(await conn.lmove(todo, doing, 'LEFT', 'right'), 'a', 'lmove');
  eq(await conn.lrangeAsList(doing), ['a'], 'moved');

  const z = key('scores');
  await conn.zadd(z, { a: 1, b: 2, c: 3, d: 4 });
  const page = await (await conn.zrange(z, 2, 4, { sortby: 'BYSCORE', limit: { offset: 1, count: 2 } })).asdict();
  eq(page, new Map([['c', 3], ['d', 4]]), 'zrange BYSCORE LIMIT');

  const places = key('places');
  eq(await conn.geoadd(places, [[13.361389, 38.115556, 'Palermo'], { longitude: 15.087269, latitude: 37.502669, member: 'Catania' }]), 2, 'geoadd');
  const near = await conn.geosearch(places, { fromlonlat: [15, 37] }, { circle: { byradius: 200, unit: 'km' } }, { order: 'ASC', count: { count: 2 } });
  eq(near, ['Catania', 'Palermo'], 'geosearch');

  const hll = key('visitors');
  eq(await conn.pfadd(hll, ['ada', 'alan', 'ada']), 1, 'pfadd');
  eq(await conn.pfcount([hll]), 2, 'pfcount');

  const flags = key('flags');
  eq(await conn.bitfield(flags, [{ write: { overflow: 'SAT', writeOperation: { incrby: ['u8', 0, 300] } } }, { get: ['u8', 0] }]), [255, 255], 'bitfield saturates');
}));
