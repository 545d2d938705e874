// The seed's stateful features in headless Chromium through the real
// bridge: transactions, pub/sub, scripts, scan cursors, blocking pops,
// pools, URIs and reconnects after redis-server is killed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { browserSuite } from './kit.mjs';

let suite;
before(async () => { suite = await browserSuite(); });
after(async () => { await suite?.stop(); });

test('transactions: results at exec, errors in place, watch conflicts, discard', () => suite.run(async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const conn = await connect();
  const [a, list] = [key('tx'), key('txlist')];
  await conn.rpush(list, ['x']);
  const tx = await conn.multi();
  ok(conn.inTransaction, 'inTransaction after multi');
  await rejects(conn.get(a), m.RedisError, 'the connection refuses its own commands during a transaction');
  const set = tx.set(a, '1');
  const incr = tx.incr(a);
  const wrong = tx.incr(list);
  const get = tx.get(a);
  let settledEarly = false;
  incr.then(() => { settledEarly = true; });
  await new Promise((resolve) => setTimeout(resolve, 50));
  ok(!settledEarly, 'queued commands settle only at exec');
  eq(await tx.exec(), undefined, 'exec');
  ok(!conn.inTransaction, 'inTransaction after exec');
  eq((await set).status, 'OK', 'set in the transaction');
  eq(await incr, 2, 'incr in the transaction');
  await rejects(wrong, m.ErrorReply, 'an error inside the transaction rejects only its own Promise');
  eq(await get, '2', 'get after the failed command');
  await rejects(tx.get(a), m.TransactionError, 'a finished transaction takes no commands');

  const other = await connect();
  const watched = await conn.multi([a]);
  const queued = watched.incr(a);
  await other.set(a, 'changed');
  await rejects(watched.exec(), m.TransactionError, 'a watch conflict rejects exec');
  await rejects(queued, m.TransactionError, 'and the queued commands');
  eq(await conn.get(a), 'changed', 'nothing ran');

  const discarded = await conn.multi();
  const never = discarded.set(a, 'never');
  await discarded.discard();
  await rejects(never, m.TransactionError, 'discard rejects the queued commands');
  eq(await conn.get(a), 'changed', 'discarded commands did not run');

  const aborted = await conn.multi();
  const before = aborted.set(a, 'aborted');
  const unknown = aborted.call('NOSUCHCOMMAND');
  await rejects(aborted.exec(), m.TransactionError, 'a command Redis refuses to queue aborts the transaction');
  await rejects(unknown, m.ErrorReply, 'that command rejects with its own error');
  await rejects(before, m.TransactionError, 'the others with TransactionError');
  eq(await conn.get(a), 'changed', 'nothing of the aborted transaction ran');

  const unwatched = await conn.multi([a]);
  eq(await Promise.all([unwatched.unwatch(), unwatched.exec()]), [undefined, undefined], 'unwatch inside the transaction');
}));

test('pub/sub: 1,000 messages on a pattern arrive in order, nothing else is allowed', () => suite.run(async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const conn = await connect();
  const publisher = await connect();
  const sub = await conn.startSubscribe();
  ok(conn.inPubsub, 'inPubsub');
  const prefix = key('news');
  await sub.subscribe([`${prefix}:direct`]);
  await sub.psubscribe([`${prefix}:*`]);
  await rejects(conn.get('k'), m.RedisError, 'other commands are refused on a subscribed connection');
  eq((await sub.ping()).status, 'PONG', 'ping is allowed');
  for (let i = 0; i < 1000; i++) publisher.publish(`${prefix}:p`, `m${i}`);
  await publisher.publish(`${prefix}:direct`, 'hello');
  for (let i = 0; i < 1000; i++) {
    const message = await sub.nextPublished();
    if (message.value !== `m${i}` || message.channel !== `${prefix}:p` || message.pattern !== `${prefix}:*`) {
      throw new Error(`message ${i}: ${JSON.stringify(message)}`);
    }
  }
  const direct = [await sub.nextPublished(), await sub.nextPublished()];
  eq(direct.map((d) => [d.channel, d.value, d.pattern]).sort(), [
    [`${prefix}:direct`, 'hello', `${prefix}:*`], [`${prefix}:direct`, 'hello', null],
  ].sort(), 'a message on a channel matched twice arrives twice');
  eq(direct[0].constructor.name, 'PubSubReply', 'messages are PubSubReply');
  await sub.unsubscribe([`${prefix}:direct`]);
  await sub.punsubscribe([]);
  await publisher.publish(`${prefix}:direct`, 'unheard');
  await publisher.publish(`${prefix}:p`, 'unheard');
  await sub.subscribe([`${prefix}:last`]);
  await publisher.publish(`${prefix}:last`, 'last');
  for await (const message of sub) {
    eq(message.value, 'last', 'nothing arrives after unsubscribing; async iteration');
    break;
  }
}));

test('scripts: nested tables, NOSCRIPT falls back to EVAL', () => suite.run(async () => {
  const { connect, eq, ok } = window.kit;
  const conn = await connect();
  const script = await conn.registerScript("return {KEYS[1], {ARGV[1], {tonumber(ARGV[2]) * 2}}, 'ü'}");
  ok(/^[0-9a-f]{40}$/.test(script.sha), 'sha');
  eq(await (await script.run(['k'], ['a', '21'])).returnValue(), ['k', ['a', [42]], 'ü'], 'nested tables');
  await conn.scriptFlush();
  eq(await (await script.run(['k2'], ['b', '1'])).returnValue(), ['k2', ['b', [2]], 'ü'], 'after SCRIPT FLUSH');
  eq(await conn.scriptExists([script.sha]), [true], 'EVAL loaded it again');
}));

test('scan cursors: 5,000 keys each once, sets, hashes, sorted sets', () => suite.run(async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const prefix = key('scan');
  for (let start = 0; start < 5000; start += 500) {
    const batch = [];
    for (let i = start; i < start + 500; i++) batch.push(conn.set(`${prefix}:${i}`, 'v'));
    await Promise.all(batch);
  }
  const keys = await conn.scan(`${prefix}:*`).fetchall();
  eq(keys.length, 5000, 'fetchall finds every key');
  eq(new Set(keys).size, 5000, 'each key once');
  const cursor = conn.scan(`${prefix}:1*`);
  const first = await cursor.fetchone();
  ok(first.startsWith(`${prefix}:1`), 'fetchone');
  let rest = 0;
  for await (const k of cursor) { ok(k.startsWith(`${prefix}:1`), 'match'); rest++; }
  eq(rest + 1, 1111, 'async iteration finishes the scan');
  eq(await cursor.fetchone(), null, 'null after the last');
  eq(await conn.scan(`${key('nothing')}:*`).fetchall(), [], 'a scan of nothing: empty pages are walked to the end');
  const s = key('sscan');
  await conn.sadd(s, Array.from({ length: 300 }, (_, i) => `m${i}`));
  eq((await conn.sscan(s).fetchall()).size, 300, 'sscan fetchall is a Set');
  const h = key('hscan');
  await conn.hmset(h, { a: '1', b: '2' });
  eq(await conn.hscan(h).fetchall(), new Map([['a', '1'], ['b', '2']]), 'hscan fetchall is a Map');
  const z = key('zscan');
  await conn.zadd(z, { x: 1.5, y: 2 });
  eq(await conn.zscan(z).fetchall(), new Map([['x', 1.5], ['y', 2]]), 'zscan gives member → score');
}));

test('blocking pops: inBlockingCall, served by another connection', () => suite.run(async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const other = await connect();
  const l = key('block');
  const popped = conn.brpop([l], 5);
  const queuedBehind = conn.echo('behind the pop');
  ok(conn.inBlockingCall && conn.inUse, 'inBlockingCall while waiting');
  await other.rpush(l, ['served']);
  eq((await popped).value, 'served', 'brpop served by another connection');
  eq(await queuedBehind, 'behind the pop', 'a command issued during the pop is answered after it');
  ok(!conn.inBlockingCall, 'inBlockingCall after');
}));

test('pools: free connections, NoAvailableConnectionsInPoolError', () => suite.run(async () => {
  const { m, eq, key, rejects } = window.kit;
  const pool = await m.Pool.create({ url: `ws://${location.host}/`, poolsize: 3 });
  eq([pool.poolsize, pool.connectionsConnected, pool.connectionsInUse], [3, 3, 0], 'a pool of 3');
  const k = key('pool');
  eq((await pool.set(k, 'v')).status, 'OK', 'commands on the pool');
  eq(await pool.get(k), 'v', 'get on the pool');
  const waits = [1, 2, 3].map((i) => pool.blpop([`${k}:empty${i}`], 2));
  eq(pool.connectionsInUse, 3, 'three blocking calls use all three');
  await rejects(pool.get(k), m.NoAvailableConnectionsInPoolError, 'a fourth command is refused');
  for (const wait of waits) await rejects(wait, m.TimeoutError, 'the pops time out');
  eq(await pool.get(k), 'v', 'free again');
  const tx = await pool.multi();
  tx.incr(`${k}:n`);
  eq(pool.connectionsInUse, 1, 'a transaction holds its connection');
  await tx.exec();
  pool.close();
  await rejects(pool.get(k), m.NoAvailableConnectionsInPoolError, 'a closed pool');
}));

test('fromUri reads the database and the password', () => suite.run(async () => {
  const { m, eq, key, rejects } = window.kit;
  const k = key('uri');
  const db4 = await m.Connection.fromUri(`ws://${location.host}/4`);
  await db4.set(k, 'four');
  const again = await m.Connection.fromUri(`ws://${location.host}/4`);
  eq(await again.get(k), 'four', 'the same database');
  await rejects(m.Connection.fromUri(`ws://:wrong@${location.host}/`), m.ErrorReply, 'the password is sent as AUTH');
  await rejects(m.Connection.fromUri('redis://h/1'), TypeError, 'only ws:// and wss://');
}));

test('redis-server killed and restarted under a running client', async () => {
  await suite.run(async () => {
    const { connect, key } = window.kit;
    const conn = await connect({ reconnectCap: 500 });
    const publisher = await connect({ reconnectCap: 500 });
    const subscriber = await connect({ reconnectCap: 500 });
    const sub = await subscriber.startSubscribe();
    const channel = key('resume');
    await sub.subscribe([channel]);
    const k = key('reconnect');
    await conn.set(k, 'before');
    window.reconnect = { conn, publisher, subscriber, sub, channel, k, inFlight: [conn.blpop([key('none')], 30), conn.get(k)] };
  });
  await suite.stack.killRedis();
  await suite.run(async () => {
    const { m, ok, rejects } = window.kit;
    const { conn, inFlight } = window.reconnect;
    await rejects(inFlight[0], m.ConnectionLostError, 'the in-flight pop');
    const get = await inFlight[1].then((v) => v, (e) => e);
    ok(get === 'before' || get instanceof m.ConnectionLostError, `the in-flight get is its own reply or lost, never another's: ${get}`);
    ok(!conn.isConnected, 'disconnected');
    await rejects(conn.get('k'), m.NotConnectedError, 'commands while disconnected reject at once');
  });
  await suite.stack.restartRedis();
  await suite.run(async () => {
    const { eq, ok } = window.kit;
    const { conn, publisher, subscriber, sub, channel, k } = window.reconnect;
    const deadline = Date.now() + 5000;
    // Reconnect delays are jittered: wait for all three, not only the first.
    while (!(conn.isConnected && publisher.isConnected && subscriber.isConnected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ok(conn.isConnected, 'reconnected within the cap');
    eq(await conn.get(k), null, 'a fresh server: the key is gone');
    eq((await conn.set(k, 'after')).status, 'OK', 'later commands succeed');
    eq(await conn.get(k), 'after', 'and get their own replies');
    let received = null;
    while (!received && Date.now() < deadline) {
      await publisher.publish(channel, 'resumed');
      received = await Promise.race([sub.nextPublished(), new Promise((r) => setTimeout(r, 100))]);
    }
    eq(received?.value, 'resumed', 'the subscription resumed');
  });
  assert.ok(true);
});
