// Every command family of the seed's RedisProtocol, in headless Chromium,
// through the real bridge, against a real redis-server: real results, edge
// values (unicode, every byte value, 10 MB, empty, missing) and errors.
import { after, before, test } from 'node:test';
import { browserSuite } from './kit.mjs';

let suite;
before(async () => { suite = await browserSuite(); });
after(async () => { await suite?.stop(); });

// Each family runs three times: the seed's reply containers must come out
// the same over RESP3, and with client-side caching on.
const VARIANTS = [['RESP2', {}], ['RESP3', { protocol: 3 }], ['RESP3, client-side cache', { clientSideCache: true }]];
function family(name, body) {
  for (const [label, defaults] of VARIANTS) {
    test(`${name} (${label})`, async () => {
      await suite.run((defaults) => { window.kit.defaults = defaults; }, defaults);
      await suite.run(body);
    });
  }
}

family('strings and bits', async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const k = key('str');
  eq(await conn.get(k), null, 'get of a missing key');
  eq(await conn.append(k, 'héllo'), 6, 'append counts bytes');
  eq(await conn.append(k, ' 🌍'), 11, 'append again');
  eq(await conn.get(k), 'héllo 🌍', 'unicode round trip');
  eq(await conn.strlen(k), 11, 'strlen');
  eq(await conn.getset(k, ''), 'héllo 🌍', 'getset returns the old value');
  eq(await conn.get(k), '', 'an empty string is not null');
  const e = key('ex');
  eq((await conn.setex(e, 100, 'v')).status, 'OK', 'setex');
  const ttl = await conn.ttl(e);
  ok(ttl > 0 && ttl <= 100, `setex sets a ttl (${ttl})`);
  eq(await conn.setnx(e, 'other'), false, 'setnx on an existing key');
  eq(await conn.setnx(key('nx'), 'new'), true, 'setnx on a new key');
  const c = key('counter');
  eq(await conn.incrby(c, 10), 10, 'incrby');
  eq(await conn.decr(c), 9, 'decr');
  eq(await conn.decrby(c, 4), 5, 'decrby');
  eq(await conn.incr(c), 6, 'incr');
  const b1 = key('bits');
  const b2 = key('bits');
  eq(await conn.setbit(b1, 7, true), false, 'setbit returns the old bit');
  eq(await conn.getbit(b1, 7), true, 'getbit');
  eq(await conn.getbit(b1, 6), false, 'getbit of an unset bit');
  await conn.setbit(b2, 6, 1);
  eq(await conn.bitcount(b1), 1, 'bitcount');
  eq(await conn.bitcount(b1, 0, 0), 1, 'bitcount in a byte range');
  const dest = key('bitop');
  eq(await conn.bitopOr(dest, [b1, b2]), 1, 'bitop or');
  eq(await conn.bitcount(dest), 2, 'bits of the or');
  eq(await conn.bitopAnd(dest, [b1, b2]), 1, 'bitop and');
  eq(await conn.bitcount(dest), 0, 'bits of the and');
  eq(await conn.bitopXor(dest, new Set([b1, b2])), 1, 'bitop xor of a Set');
  eq(await conn.bitcount(dest), 2, 'bits of the xor');
  eq(await conn.bitopNot(dest, b1), 1, 'bitop not');
  eq(await conn.bitcount(dest), 7, 'bits of the not');
  const reply = await conn.mget([k, key('missing'), c]);
  eq(reply.constructor.name, 'ListReply', 'mget gives a ListReply');
  eq(await reply.aslist(), ['', null, '6'], 'mget with a missing key');
  eq(await conn.mgetAsList([c]), ['6'], 'mgetAsList');
});

family('keys and expiry', async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const conn = await connect();
  const prefix = key('keys');
  const [a, b] = [`${prefix}:a`, `${prefix}:b`];
  await conn.set(a, '1');
  await conn.set(b, '2');
  eq(await conn.exists(a), true, 'exists');
  eq((await conn.keysAsList(`${prefix}:*`)).sort(), [a, b], 'keysAsList');
  eq((await (await conn.keys(`${prefix}:*`)).aslist()).sort(), [a, b], 'keys');
  eq((await conn.type(a)).status, 'string', 'type');
  eq((await conn.type(key('none'))).status, 'none', 'type of a missing key');
  eq(await conn.expire(a, 100), 1, 'expire');
  eq(await conn.expire(key('none'), 100), 0, 'expire of a missing key');
  const pttl = await conn.pttl(a);
  ok(pttl > 90_000 && pttl <= 100_000, `pttl ${pttl}`);
  eq(await conn.persist(a), 1, 'persist');
  eq(await conn.ttl(a), -1, 'ttl without expiry');
  eq(await conn.ttl(key('none')), -2, 'ttl of a missing key');
  eq(await conn.pexpire(a, 50_000), 1, 'pexpire');
  const now = Math.floor(Date.now() / 1000);
  eq(await conn.expireat(b, now + 1000), 1, 'expireat');
  ok((await conn.ttl(b)) > 900, 'expireat sets a ttl');
  eq(await conn.pexpireat(b, (now + 2000) * 1000), 1, 'pexpireat');
  ok((await conn.ttl(b)) > 1900, 'pexpireat sets a ttl');
  const renamed = `${prefix}:renamed`;
  eq((await conn.rename(a, renamed)).status, 'OK', 'rename');
  eq(await conn.renamenx(renamed, b), 0, 'renamenx onto an existing key');
  await rejects(conn.rename(key('none'), renamed), m.ErrorReply, 'rename of a missing key');
  eq(await conn.move(renamed, 3), 1, 'move to db 3');
  eq(await conn.exists(renamed), false, 'moved away');
  const db3 = await connect({ db: 3 });
  eq(await db3.get(renamed), '1', 'found in db 3');
  eq(await db3.delete([renamed]), 1, 'delete in db 3');
  ok(typeof await conn.randomkey() === 'string', 'randomkey in a non-empty db');
  eq(await db3.randomkey(), null, 'randomkey in an empty db');
  eq(await conn.delete([b, key('none')]), 1, 'delete counts existing keys');
});

family('hashes', async () => {
  const { connect, eq, key } = window.kit;
  const conn = await connect();
  const h = key('hash');
  eq(await conn.hset(h, 'f1', 'v1'), 1, 'hset new field');
  eq(await conn.hset(h, 'f1', 'v1b'), 0, 'hset existing field');
  eq(await conn.hsetnx(h, 'f1', 'x'), 0, 'hsetnx existing');
  eq((await conn.hmset(h, { f2: 'v2', 'ü': 'ñ' })).status, 'OK', 'hmset from an object');
  eq((await conn.hmset(h, new Map([['f3', 'v3']]))).status, 'OK', 'hmset from a Map');
  eq(await conn.hget(h, 'f1'), 'v1b', 'hget');
  eq(await conn.hget(h, 'nope'), null, 'hget of a missing field');
  eq(await conn.hexists(h, 'f2'), true, 'hexists');
  eq(await conn.hlen(h), 4, 'hlen');
  eq(await conn.hmgetAsList(h, ['f1', 'nope', 'ü']), ['v1b', null, 'ñ'], 'hmgetAsList');
  eq(await (await conn.hmget(h, ['f3'])).aslist(), ['v3'], 'hmget');
  eq(await conn.hgetallAsDict(h), new Map([['f1', 'v1b'], ['f2', 'v2'], ['ü', 'ñ'], ['f3', 'v3']]), 'hgetallAsDict');
  const dict = await conn.hgetall(h);
  eq(dict.constructor.name, 'DictReply', 'hgetall gives a DictReply');
  const pairs = [];
  for await (const pair of dict) pairs.push(pair);
  eq(pairs.length, 4, 'iterating a DictReply yields pairs');
  eq(await dict.asdict(), new Map(pairs), 'asdict after iterating');
  eq(await conn.hkeysAsSet(h), new Set(['f1', 'f2', 'ü', 'f3']), 'hkeysAsSet');
  eq(await (await conn.hkeys(h)).asset(), new Set(['f1', 'f2', 'ü', 'f3']), 'hkeys');
  eq((await conn.hvalsAsList(h)).sort(), ['v1b', 'v2', 'v3', 'ñ'], 'hvalsAsList');
  eq((await (await conn.hvals(h)).aslist()).length, 4, 'hvals');
  eq(await conn.hincrby(h, 'n', 5), 5, 'hincrby');
  eq(await conn.hincrbyfloat(h, 'x', 1.25), 1.25, 'hincrbyfloat');
  eq(await conn.hincrbyfloat(h, 'x', -0.5), 0.75, 'hincrbyfloat again');
  eq(await conn.hdel(h, ['f1', 'f2', 'nope']), 2, 'hdel');
  eq(await conn.hgetallAsDict(key('empty')), new Map(), 'hgetallAsDict of a missing hash');
});

family('lists, including blocking pops', async () => {
  const { m, connect, eq, key, rejects } = window.kit;
  const conn = await connect();
  const l = key('list');
  eq(await conn.rpush(l, ['b', 'c']), 2, 'rpush');
  eq(await conn.lpush(l, ['a']), 3, 'lpush');
  eq(await conn.lpushx(key('none'), 'x'), 0, 'lpushx on a missing list');
  eq(await conn.rpushx(l, 'd'), 4, 'rpushx');
  eq(await conn.llen(l), 4, 'llen');
  eq(await conn.lrangeAsList(l), ['a', 'b', 'c', 'd'], 'lrangeAsList with default range');
  eq(await (await conn.lrange(l, 1, 2)).aslist(), ['b', 'c'], 'lrange');
  eq(await conn.lindex(l, -1), 'd', 'lindex');
  eq(await conn.lindex(l, 99), null, 'lindex out of range');
  eq(await conn.linsert(l, 'b', 'x', true), 5, 'linsert before');
  eq(await conn.linsert(l, 'b', 'y'), 6, 'linsert after');
  eq(await conn.linsert(l, 'nope', 'y'), -1, 'linsert with a missing pivot');
  eq((await conn.lset(l, 0, 'A')).status, 'OK', 'lset');
  eq(await conn.lrangeAsList(l), ['A', 'x', 'b', 'y', 'c', 'd'], 'after inserts');
  eq(await conn.lrem(l, 0, 'x'), 1, 'lrem');
  eq((await conn.ltrim(l, 0, 3)).status, 'OK', 'ltrim');
  eq(await conn.lpop(l), 'A', 'lpop');
  eq(await conn.rpop(l), 'c', 'rpop');
  const other = key('other');
  eq(await conn.rpoplpush(l, other), 'y', 'rpoplpush');
  eq(await conn.brpoplpush(l, other, 1), 'b', 'brpoplpush with data');
  eq(await conn.lpop(l), null, 'lpop of an empty list');
  const popped = await conn.blpop([key('none'), other], 1);
  eq(popped.constructor.name, 'BlockingPopReply', 'blpop gives a BlockingPopReply');
  eq([popped.listName, popped.value], [other, 'b'], 'blpop reply');
  eq((await conn.brpop([other], 1)).value, 'y', 'brpop');
  await rejects(conn.blpop([key('none')], 1), m.TimeoutError, 'blpop times out');
  await rejects(conn.brpoplpush(key('none'), other, 1), m.TimeoutError, 'brpoplpush times out');
  eq(await conn.lrangeAsList(key('none')), [], 'lrange of a missing list');
});

family('sets', async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const [s1, s2] = [key('set'), key('set')];
  eq(await conn.sadd(s1, ['a', 'b', 'c']), 3, 'sadd');
  eq(await conn.sadd(s2, new Set(['b', 'c', 'd'])), 3, 'sadd from a Set');
  eq(await conn.scard(s1), 3, 'scard');
  eq(await conn.sismember(s1, 'a'), true, 'sismember');
  eq(await conn.sismember(s1, 'z'), false, 'sismember of a non-member');
  eq(await conn.smembersAsSet(s1), new Set(['a', 'b', 'c']), 'smembersAsSet');
  eq(await (await conn.smembers(s1)).asset(), new Set(['a', 'b', 'c']), 'smembers');
  eq(await conn.sdiffAsSet([s1, s2]), new Set(['a']), 'sdiff');
  eq(await conn.sinterAsSet([s1, s2]), new Set(['b', 'c']), 'sinter');
  eq(await conn.sunionAsSet([s1, s2]), new Set(['a', 'b', 'c', 'd']), 'sunion');
  eq(await (await conn.sunion([s1, s2])).asset(), new Set(['a', 'b', 'c', 'd']), 'sunion reply');
  const dest = key('dest');
  eq(await conn.sdiffstore(dest, [s1, s2]), 1, 'sdiffstore');
  eq(await conn.sinterstore(dest, [s1, s2]), 2, 'sinterstore');
  eq(await conn.sunionstore(dest, [s1, s2]), 4, 'sunionstore');
  eq(await conn.smove(s1, s2, 'a'), 1, 'smove');
  eq(await conn.srem(s2, ['a', 'z']), 1, 'srem');
  const random = await conn.srandmemberAsSet(s2, 2);
  eq(random.size, 2, 'srandmember count');
  ok([...random].every((member) => ['b', 'c', 'd'].includes(member)), 'srandmember gives members');
  eq((await (await conn.srandmember(s2)).asset()).size, 1, 'srandmember default count');
  ok(['b', 'c', 'd'].includes(await conn.spop(s2)), 'spop');
  eq(await conn.spop(key('none')), null, 'spop of a missing set');
  eq(await conn.smembersAsSet(key('none')), new Set(), 'an empty set');
});

family('sorted sets', async () => {
  const { m, connect, eq, key } = window.kit;
  const conn = await connect();
  const z = key('zset');
  eq(await conn.zadd(z, { a: 1, b: 2.5 }), 2, 'zadd from an object');
  eq(await conn.zadd(z, new Map([['c', 3], ['d', -Infinity]])), 2, 'zadd from a Map');
  eq(await conn.zcard(z), 4, 'zcard');
  eq(await conn.zscore(z, 'b'), 2.5, 'zscore is a number');
  eq(await conn.zscore(z, 'd'), -Infinity, 'zscore -inf');
  eq(await conn.zscore(z, 'nope'), null, 'zscore of a missing member');
  eq(await conn.zincrby(z, 0.5, 'a'), 1.5, 'zincrby');
  const sums = key('sums');
  eq(await conn.zincrby(sums, 0.1, 'x'), 0.1, 'zincrby creates');
  // 17 significant digits: read back as the nearest double, not rounded.
  eq(await conn.zincrby(sums, 0.2, 'x'), 0.1 + 0.2, 'zincrby to 0.30000000000000004');
  eq(await conn.zrank(z, 'a'), 1, 'zrank');
  eq(await conn.zrevrank(z, 'a'), 2, 'zrevrank');
  eq(await conn.zrank(z, 'nope'), null, 'zrank of a missing member');
  eq(await conn.zrangeAsDict(z), new Map([['d', -Infinity], ['a', 1.5], ['b', 2.5], ['c', 3]]), 'zrangeAsDict');
  const range = await conn.zrange(z, 0, 1);
  eq(range.constructor.name, 'ZRangeReply', 'zrange gives a ZRangeReply');
  eq(await range.aslist(), ['d', 'a'], 'ZRangeReply.aslist');
  eq(await range.asdict(), new Map([['d', -Infinity], ['a', 1.5]]), 'ZRangeReply.asdict');
  eq(await conn.zrevrangeAsDict(z, 0, 0), new Map([['c', 3]]), 'zrevrangeAsDict');
  eq(await (await conn.zrevrange(z)).aslist(), ['c', 'b', 'a', 'd'], 'zrevrange');
  const { ZScoreBoundary } = m;
  eq(await conn.zrangebyscoreAsDict(z, new ZScoreBoundary(1.5, true), ZScoreBoundary.MAX_VALUE), new Map([['b', 2.5], ['c', 3]]), 'zrangebyscore with an exclusive min');
  eq(await (await conn.zrangebyscore(z, new ZScoreBoundary(1.5), new ZScoreBoundary(3, true))).aslist(), ['a', 'b'], 'zrangebyscore');
  eq(await (await conn.zrangebyscore(z)).aslist(), ['d', 'a', 'b', 'c'], 'zrangebyscore default bounds');
  eq(await conn.zrevrangebyscoreAsDict(z, 3, 2), new Map([['c', 3], ['b', 2.5]]), 'zrevrangebyscore with numbers');
  eq(await (await conn.zrevrangebyscore(z)).aslist(), ['c', 'b', 'a', 'd'], 'zrevrangebyscore default bounds');
  eq(await conn.zcount(z, ZScoreBoundary.MIN_VALUE, new ZScoreBoundary(2.5)), 3, 'zcount');
  const z2 = key('zset');
  await conn.zadd(z2, { a: 10, c: 100 });
  const dest = key('dest');
  eq(await conn.zinterstore(dest, [z, z2]), 2, 'zinterstore');
  eq(await conn.zrangeAsDict(dest), new Map([['a', 11.5], ['c', 103]]), 'zinterstore sums');
  eq(await conn.zinterstore(dest, [z, z2], [2, 1], m.ZAggregate.MAX), 2, 'zinterstore weighted max');
  eq(await conn.zrangeAsDict(dest), new Map([['a', 10], ['c', 100]]), 'weighted max scores');
  eq(await conn.zunionstore(dest, [z, z2], null, m.ZAggregate.MIN), 4, 'zunionstore min');
  eq(await conn.zscore(dest, 'c'), 3, 'union min score');
  eq(await conn.zrem(z, ['d', 'nope']), 1, 'zrem');
  eq(await conn.zremrangebyscore(z, new ZScoreBoundary(3)), 1, 'zremrangebyscore from a min');
  eq(await conn.zremrangebyrank(z, 0, 0), 1, 'zremrangebyrank');
  eq(await conn.zrangeAsDict(z), new Map([['b', 2.5]]), 'what is left');
  eq(await conn.zrangeAsDict(key('none')), new Map(), 'an empty sorted set');
});

family('server and connection commands', async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const conn = await connect();
  eq((await conn.ping()).status, 'PONG', 'ping');
  eq(await conn.echo('ünï'), 'ünï', 'echo');
  const info = await conn.info();
  eq(info.constructor.name, 'InfoReply', 'info gives an InfoReply');
  ok(info.raw.includes('redis_version'), 'raw info text');
  ok(/^\d+\.\d+/.test(info.sections().get('Server').get('redis_version')), 'parsed info sections');
  eq([...(await conn.info('clients')).sections().keys()], ['Clients'], 'info of one section');
  const pair = await conn.configGet('maxmemory-policy');
  eq([pair.constructor.name, pair.parameter], ['ConfigPairReply', 'maxmemory-policy'], 'configGet');
  eq((await conn.configSet('maxmemory-policy', 'allkeys-lru')).status, 'OK', 'configSet');
  eq((await conn.configGet('maxmemory-policy')).value, 'allkeys-lru', 'configGet after set');
  await conn.configSet('maxmemory-policy', pair.value);
  eq((await conn.configResetstat()).status, 'OK', 'configResetstat');
  await rejects(conn.configRewrite(), m.ErrorReply, 'configRewrite without a config file');
  eq(await conn.clientGetname(), null, 'no name yet');
  eq((await conn.clientSetname('api-test')).status, 'OK', 'clientSetname');
  eq(await conn.clientGetname(), 'api-test', 'clientGetname');
  const clients = (await conn.clientList()).clients();
  const me = clients.find((client) => client.get('name') === 'api-test');
  ok(me && me.get('addr').startsWith('127.0.0.1:'), 'clientList has this connection');
  const victim = await connect();
  const victimName = `victim-${Math.random().toString(36).slice(2)}`;
  await victim.clientSetname(victimName);
  const victimAddr = (await conn.clientList()).clients().find((c) => c.get('name') === victimName).get('addr');
  eq((await conn.clientKill(victimAddr)).status, 'OK', 'clientKill');
  await rejects(victim.ping(), m.NotConnectedError, 'the killed client is disconnected');
  const other = await connect({ db: 5 });
  await other.flushdb();
  await other.set(key('db5'), 'x');
  eq(await other.dbsize(), 1, 'dbsize');
  eq((await conn.select(5)).status, 'OK', 'select');
  eq(await conn.dbsize(), 1, 'select changed the database');
  eq((await other.flushdb()).status, 'OK', 'flushdb');
  eq(await conn.dbsize(), 0, 'flushed');
  ok((await conn.lastsave()) > 1_600_000_000, 'lastsave is a UNIX time');
  // The previous variant's BGSAVE or BGREWRITEAOF may still be running.
  for (let i = 0; i < 200; i++) {
    const persistence = await conn.call('INFO', 'persistence');
    if (!/(rdb_bgsave|aof_rewrite)_in_progress:1/.test(persistence)) break;
    await new Promise((done) => setTimeout(done, 25));
  }
  eq((await conn.save()).status, 'OK', 'save');
  ok((await conn.bgsave()).status.startsWith('Background saving'), 'bgsave');
  ok((await conn.bgrewriteaof()).status.includes('rewriting'), 'bgrewriteaof');
  await rejects(conn.auth('wrong'), m.ErrorReply, 'auth without a password set');
  eq(await conn.watch([key('w')]), undefined, 'watch resolves to nothing');
});

family('pub/sub introspection and the script cache', async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const conn = await connect();
  eq(await conn.publish(key('chan'), 'nobody listens'), 0, 'publish');
  ok(Array.isArray(await conn.pubsubChannelsAsList()), 'pubsubChannelsAsList');
  eq(await conn.pubsubChannelsAsList('no-such-*'), [], 'pubsubChannels with a pattern');
  eq(await (await conn.pubsubChannels('no-such-*')).aslist(), [], 'pubsubChannels reply');
  const c = key('chan');
  eq(await conn.pubsubNumsubAsDict([c]), new Map([[c, 0]]), 'pubsubNumsubAsDict');
  eq(await (await conn.pubsubNumsub([c])).asdict(), new Map([[c, 0]]), 'pubsubNumsub');
  eq(await conn.pubsubNumpat(), 0, 'pubsubNumpat');

  const sha = await conn.scriptLoad("return {KEYS[1], ARGV[1], {1, 'two', {3}}, redis.call('ECHO', 'ü')}");
  ok(/^[0-9a-f]{40}$/.test(sha), 'scriptLoad gives a SHA1');
  eq(await conn.scriptExists([sha, '0'.repeat(40)]), [true, false], 'scriptExists');
  const reply = await conn.evalsha(sha, ['k1'], ['a1']);
  eq(reply.constructor.name, 'EvalScriptReply', 'evalsha gives an EvalScriptReply');
  eq(await reply.returnValue(), ['k1', 'a1', [1, 'two', [3]], 'ü'], 'nested Lua tables become arrays');
  eq(await (await conn.evalsha(sha)).returnValue(), [], 'no keys and no args: nil stops the table');
  await rejects(conn.scriptKill(), m.NoRunningScriptError, 'scriptKill with nothing running');
  const busy = await conn.scriptLoad('while true do end');
  const runner = await connect();
  const killed = runner.evalsha(busy);
  await new Promise((resolve) => setTimeout(resolve, 300));
  eq((await conn.scriptKill()).status, 'OK', 'scriptKill of a busy script');
  await rejects(killed, m.ScriptKilledError, 'the killed script rejects');
  eq((await runner.ping()).status, 'PONG', 'the killed script\'s connection still works');
  eq((await conn.scriptFlush()).status, 'OK', 'scriptFlush');
  eq(await conn.scriptExists([sha]), [false], 'flushed');
  await rejects(conn.evalsha(sha), m.ErrorReply, 'evalsha of a flushed script');
});

family('encoders: every byte value, a 10 MB value, a custom encoder', async () => {
  const { m, connect, eq, ok, key, rejects } = window.kit;
  const bytes = await connect({ encoder: new m.BytesEncoder() });
  const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
  const k = new TextEncoder().encode(key('bytes'));
  await bytes.set(k, all);
  eq(await bytes.get(k), all, 'all 256 byte values round trip');
  await bytes.hset(k.slice(0, 3), new Uint8Array([0, 255]), new Uint8Array([13, 10]));
  eq(await bytes.hgetallAsDict(k.slice(0, 3)), new Map([[new Uint8Array([0, 255]), new Uint8Array([13, 10])]]), 'binary hash');
  await rejects(bytes.get('text'), TypeError, 'BytesEncoder refuses strings');

  const big = new Uint8Array(10 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4093) big[i] = i % 251;
  await bytes.set(k, big);
  const back = await bytes.get(k);
  ok(back.length === big.length && back.every((byte, i) => byte === big[i]), 'a 10 MB value round trips');
  eq(await bytes.strlen(k), big.length, 'strlen of the 10 MB value');

  const json = { encodeFromNative: (v) => new TextEncoder().encode(JSON.stringify(v)), decodeToNative: (b) => JSON.parse(new TextDecoder().decode(b)) };
  const custom = await connect({ encoder: json });
  const jk = key('json');
  await custom.set(jk, { a: [1, 'two'], ü: null });
  eq(await custom.get(jk), { a: [1, 'two'], ü: null }, 'custom encoder round trip');
  const plain = await connect();
  eq(await plain.get(JSON.stringify(jk)), '{"a":[1,"two"],"ü":null}', 'what the custom encoder stored');
});

family('type checks name the method and argument; relaxed mode converts', async () => {
  const { m, connect, eq, key, rejects } = window.kit;
  const conn = await connect();
  const message = async (promise) => (await rejects(promise, TypeError, 'type error')).message;
  eq(await message(conn.get(42)), "get: argument 'key' must be a string (UTF8Encoder), got number", 'number key');
  eq(await message(conn.lpush('k', 'v')), "lpush: argument 'values' must be an iterable (such as an Array), got string", 'string for a list');
  eq(await message(conn.expire('k', 1.5)), "expire: argument 'seconds' must be an integer, got the number 1.5", 'non-integer');
  eq(await message(conn.blpop(['k'], 'soon')), "blpop: argument 'timeout' must be an integer, got string", 'non-numeric timeout');
  eq(await message(conn.zadd('k', 5)), "zadd: argument 'values' must be a Map or a plain object, got number", 'not pairs');
  eq(await message(conn.sadd('k', 5)), "sadd: argument 'members' must be an iterable (such as an Array), got number", 'a number for a list');
  eq(await message(conn.hget('k')), "hget: argument 'field' is required", 'missing argument');
  eq(await message(conn.zrangebyscore('k', 'low')), "zrangebyscore: argument 'min' must be a ZScoreBoundary or a number, got string", 'bad boundary');
  eq(await message(conn.zinterstore('d', ['a'], null, 'AVG')), "zinterstore: argument 'aggregate' must be ZAggregate.SUM, MIN or MAX", 'bad aggregate');
  const loose = await connect({ enableTypechecking: false });
  const k = key('loose');
  await loose.set(k, 12);
  eq(await loose.get(k), '12', 'a number is sent as its text');
  eq(await loose.rpush(k + 'l', 'single'), 1, 'a lone value is a one-element list');
  eq(await loose.expire(k, '100'), 1, 'an integer given as a string');
  await rejects(loose.incr(k + 'l'), m.ErrorReply, 'the server still has the last word');
});

family('errors keep the pipeline matched: 10,000 mixed commands in order', async () => {
  const { m, connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const list = key('wrongtype');
  await conn.rpush(list, ['x']);
  const counter = key('n');
  const promises = [];
  for (let i = 0; i < 10_000; i++) {
    if (i % 1000 === 500) promises.push(conn.incr(list).then(() => 'resolved', (err) => err));
    else if (i % 3 === 0) promises.push(conn.incr(counter));
    else promises.push(conn.echo(`e${i}`));
  }
  const results = await Promise.all(promises);
  let expected = 0;
  results.forEach((result, i) => {
    if (i % 1000 === 500) ok(result instanceof m.ErrorReply && result.message.startsWith('WRONGTYPE'), `error at ${i}`);
    else if (i % 3 === 0) eq(result, ++expected, `incr at ${i}`);
    else eq(result, `e${i}`, `echo at ${i}`);
  });
});

family('a streamed ListReply yields 100,000 items in order', async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect();
  const l = key('big');
  for (let start = 0; start < 100_000; start += 10_000) {
    await conn.rpush(l, Array.from({ length: 10_000 }, (_, i) => `item-${start + i}`));
  }
  const reply = await conn.lrange(l);
  eq(reply.length, 100_000, 'the length is known from the header');
  let index = 0;
  for await (const item of reply) {
    if (item !== `item-${index}`) throw new Error(`item ${index} is ${item}`);
    index++;
  }
  eq(index, 100_000, 'every item was yielded');
  ok((await reply.aslist()).length === 100_000, 'aslist after iteration');
});

family('a connection nobody references any more still settles its Promises', async () => {
  const { m, connect, eq, key, rejects } = window.kit;
  const k = key('gc');
  const pending = await (async () => {
    const conn = await connect();
    return [conn.blpop([k], 1), conn.echo('after the pop')];
  })();
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await rejects(pending[0], m.TimeoutError, 'the pop times out on the collected connection');
  eq(await pending[1], 'after the pop', 'and the command behind it is answered');
});
