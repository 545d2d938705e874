// Uses the whole API of redis-wasm as a TypeScript application would; must
// compile with `tsc --noEmit --strict`. `exact<T>()(value)` fails to compile
// unless the value's type is exactly T, so this also pins down what each
// method resolves to. (Type-checked only: never run.)
import {
  BlockingPopReply,
  BytesEncoder,
  ClientListReply,
  Cluster,
  ConfigPairReply,
  Connection,
  ConnectionLostError,
  ConnectionOptions,
  CrossSlotError,
  Cursor,
  DictReply,
  Encoder,
  ErrorReply,
  EvalScriptReply,
  InfoReply,
  Int,
  ListReply,
  NoAvailableConnectionsInPoolError,
  NoRunningScriptError,
  NotConnectedError,
  Pool,
  PubSubReply,
  RedisCommands,
  RedisError,
  RedisValue,
  Script,
  ScriptKilledError,
  SetReply,
  SharedConnection,
  StatusReply,
  Subscription,
  TimeoutError,
  Transaction,
  TransactionError,
  UTF8Encoder,
  ZAggregate,
  ZRangeOptions,
  ZRangeReply,
  ZScoreBoundary,
} from 'redis-wasm';
import type { XaddOptions } from 'redis-wasm';

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function exact<Expected>() {
  return <Actual>(value: Actual, ..._: Equals<Actual, Expected> extends true ? [] : [never]): Actual => value;
}

const url = 'ws://127.0.0.1:7379/';

export async function strings(): Promise<void> {
  const conn = exact<Connection<string>>()(await Connection.create({ url, db: 0, password: 'secret', autoReconnect: true }));
  exact<Connection<string>>()(await Connection.create({ url, encoder: new UTF8Encoder(), enableTypechecking: false, reconnectCap: 500 }));
  const options: ConnectionOptions = { url, db: 1 };
  exact<Connection<string>>()(await Connection.create(options));
  exact<Connection<string>>()(await Connection.fromUri('ws://127.0.0.1:7379/2'));
  exact<Connection<string>>()(await Connection.fromUri('ws://127.0.0.1:7379/', { token: 't' }));

  exact<StatusReply | null>()(await conn.set('key', 'value'));
  exact<StatusReply | null>()(await conn.set('key', 'value', { expire: 10, onlyIfNotExists: true }));
  await conn.set('key', 'value', { pexpire: 10n, onlyIfExists: false });
  exact<string | null>()(await conn.get('key'));
  exact<Int>()(await conn.incr('counter'));
  exact<Int>()(await conn.incrby('counter', 2n));
  exact<Int>()(await conn.delete(['a', 'b']));
  await conn.delete(new Set(['a']));
  exact<boolean>()(await conn.exists('key'));
  exact<boolean>()(await conn.setbit('bits', 7, true));
  await conn.setbit('bits', 7, 0);
  exact<boolean>()(await conn.getbit('bits', 7));
  exact<StatusReply>()(await conn.setex('key', 10, 'value'));
  exact<Int>()(await conn.bitcount('key'));
  exact<Int>()(await conn.bitcount('key', 0, -1));
  exact<Int>()(await conn.bitopAnd('dest', ['a', 'b']));

  const mget = exact<ListReply<string | null>>()(await conn.mget(['a', 'b']));
  exact<(string | null)[]>()(await mget.aslist());
  for await (const item of mget) exact<string | null>()(item);
  exact<(string | null)[]>()(await conn.mgetAsList(['a', 'b']));
  exact<string[]>()(await conn.keysAsList('*'));
  exact<ListReply<string>>()(await conn.keys('*'));
  exact<StatusReply>()(await conn.type('key'));
  exact<string | null>()(await conn.randomkey());
  exact<Int>()(await conn.ttl('key'));

  // Hashes
  exact<StatusReply>()(await conn.hmset('h', { field: 'value' }));
  await conn.hmset('h', new Map([['field', 'value']]));
  await conn.hmset('h', [['field', 'value']] as const);
  exact<Int>()(await conn.hset('h', 'f', 'v'));
  exact<string | null>()(await conn.hget('h', 'f'));
  const all = exact<DictReply<string, string>>()(await conn.hgetall('h'));
  exact<Map<string, string>>()(await all.asdict());
  for await (const pair of all) exact<[string, string]>()(pair);
  exact<Map<string, string>>()(await conn.hgetallAsDict('h'));
  exact<SetReply<string>>()(await conn.hkeys('h'));
  exact<Set<string>>()(await conn.hkeysAsSet('h'));
  exact<(string | null)[]>()(await conn.hmgetAsList('h', ['f', 'g']));
  exact<number>()(await conn.hincrbyfloat('h', 'n', 1.5));
  exact<string[]>()(await conn.hvalsAsList('h'));

  // Lists
  exact<Int>()(await conn.rpush('list', ['a', 'b']));
  exact<ListReply<string>>()(await conn.lrange('list'));
  exact<string[]>()(await conn.lrangeAsList('list', 0, -1));
  exact<Int>()(await conn.lrem('list', 0, 'a'));
  exact<Int>()(await conn.linsert('list', 'a', 'z', true));
  exact<StatusReply>()(await conn.ltrim('list', 0, 10));
  const popped = exact<BlockingPopReply<string>>()(await conn.blpop(['list'], 1));
  exact<string>()(popped.listName);
  exact<string>()(popped.value);
  exact<string>()(await conn.brpoplpush('list', 'other', 1));
  exact<string | null>()(await conn.lpop('list'));

  // Sets
  exact<Int>()(await conn.sadd('set', ['a', 'b']));
  exact<Set<string>>()(await conn.smembersAsSet('set'));
  exact<Set<string>>()(await (await conn.sinter(['set', 'set2'])).asset());
  exact<boolean>()(await conn.sismember('set', 'a'));
  exact<SetReply<string>>()(await conn.srandmember('set', 2));

  // Sorted sets
  exact<Int>()(await conn.zadd('z', { a: 1, b: 2.5 }));
  await conn.zadd('z', new Map([['c', 3]]));
  exact<Int>()(await conn.zcount('z', ZScoreBoundary.MIN_VALUE, new ZScoreBoundary(2, true)));
  await conn.zcount('z', 0, 10);
  const range = exact<ZRangeReply<string>>()(await conn.zrange('z'));
  exact<Map<string, number>>()(await range.asdict());
  exact<string[]>()(await range.aslist());
  for await (const pair of range) exact<[string, number]>()(pair);
  exact<Map<string, number>>()(await conn.zrangebyscoreAsDict('z', new ZScoreBoundary('-inf'), 5));
  exact<ZRangeReply<string>>()(await conn.zrevrangebyscore('z'));
  exact<Int | null>()(await conn.zrank('z', 'a'));
  exact<number | null>()(await conn.zscore('z', 'a'));
  exact<number>()(await conn.zincrby('z', 1, 'a'));
  exact<Int>()(await conn.zinterstore('dest', ['z', 'z2']));
  exact<Int>()(await conn.zunionstore('dest', ['z', 'z2'], [1, 2], ZAggregate.MAX));
  await conn.zunionstore('dest', ['z'], null, 'min');

  // Server, pub/sub introspection, scripts
  exact<StatusReply>()(await conn.ping());
  exact<string>()((await conn.ping()).status);
  exact<string | null>()(await conn.echo('hi'));
  const info = exact<InfoReply>()(await conn.info());
  exact<Map<string, Map<string, string>>>()(info.sections());
  exact<InfoReply>()(await conn.info('stats'));
  exact<ClientListReply>()(await conn.clientList());
  exact<Map<string, string>[]>()((await conn.clientList()).clients());
  exact<ConfigPairReply>()(await conn.configGet('maxmemory'));
  exact<string | null>()((await conn.configGet('maxmemory')).value);
  exact<Int>()(await conn.dbsize());
  exact<void>()(await conn.watch(['key']));
  exact<Int>()(await conn.publish('news', 'hello'));
  exact<string[]>()(await conn.pubsubChannelsAsList());
  exact<Map<string, Int>>()(await conn.pubsubNumsubAsDict(['news']));
  exact<DictReply<string, Int>>()(await conn.pubsubNumsub(['news']));
  exact<boolean[]>()(await conn.scriptExists(['0123']));
  exact<string>()(await conn.scriptLoad('return 1'));
  const evaluated = exact<EvalScriptReply<string>>()(await conn.evalsha('0123', ['k'], ['a']));
  exact<RedisValue<string>>()(await evaluated.returnValue());
  exact<StatusReply>()(await conn.shutdown(false));
  exact<RedisValue<string>>()(await conn.call('HSET', 'h', 'f', 'v', 1, 2n));

  // State
  exact<boolean>()(conn.isConnected);
  exact<boolean>()(conn.inTransaction && conn.inPubsub && conn.inBlockingCall && conn.inUse);

  // Transactions
  const tx = exact<Transaction<string>>()(await conn.multi(['watched']));
  await conn.multi();
  const queued = exact<Promise<Int>>()(tx.incr('counter'));
  const queuedSet = tx.set('key', 'value');
  exact<void>()(await tx.unwatch());
  exact<void>()(await tx.exec());
  exact<Int>()(await queued);
  exact<StatusReply | null>()(await queuedSet);
  await (await conn.multi()).discard();

  // Pub/sub
  const sub = exact<Subscription<string>>()(await conn.startSubscribe());
  await sub.subscribe(['news']);
  await sub.psubscribe(['n*']);
  const message = exact<PubSubReply<string>>()(await sub.nextPublished());
  exact<string>()(message.channel);
  exact<string>()(message.value);
  exact<string | null>()(message.pattern);
  for await (const published of sub) exact<PubSubReply<string>>()(published);
  await sub.unsubscribe([]);
  await sub.punsubscribe(['n*']);
  exact<StatusReply>()(await sub.ping());

  // Scripts
  const script = exact<Script<string>>()(await conn.registerScript('return KEYS[1]'));
  exact<string>()(script.sha);
  exact<string>()(script.code);
  exact<RedisValue<string>>()(await (await script.run(['k'], [])).returnValue());
  await script.run();

  // Cursors
  const keys = exact<Cursor<string, string[]>>()(conn.scan('user:*'));
  exact<string | null>()(await keys.fetchone());
  exact<string[]>()(await keys.fetchall());
  for await (const key of conn.scan()) exact<string>()(key);
  exact<Set<string>>()(await conn.sscan('set').fetchall());
  exact<Map<string, string>>()(await conn.hscan('h', 'f*').fetchall());
  exact<[string, string] | null>()(await conn.hscan('h').fetchone());
  exact<Map<string, number>>()(await conn.zscan('z').fetchall());
  for await (const [member, score] of conn.zscan('z')) exact<number>()(score + member.length);

  conn.close();
}

export async function bytes(): Promise<void> {
  const conn = exact<Connection<Uint8Array>>()(await Connection.create({ url, encoder: new BytesEncoder(), password: new Uint8Array([1]) }));
  exact<Connection<Uint8Array>>()(await Connection.fromUri('ws://127.0.0.1:7379/1', { encoder: new BytesEncoder() }));
  const key = new Uint8Array([0xff, 0x00]);
  await conn.set(key, new Uint8Array([1, 2, 3]));
  exact<Uint8Array | null>()(await conn.get(key));
  exact<Map<Uint8Array, Uint8Array>>()(await conn.hgetallAsDict(key));
  await conn.hmset(key, new Map([[key, key]]));
  exact<Map<Uint8Array, number>>()(await conn.zrangeAsDict(key));
  exact<RedisValue<Uint8Array>>()(await conn.call('GET', key));
  exact<PubSubReply<Uint8Array>>()(await (await conn.startSubscribe()).nextPublished());
  exact<Cursor<[Uint8Array, Uint8Array], Map<Uint8Array, Uint8Array>>>()(conn.hscan(key));
}

/** A custom encoder: native values are JSON documents. */
class JsonEncoder implements Encoder<object> {
  encodeFromNative(value: object): Uint8Array { return new TextEncoder().encode(JSON.stringify(value)); }
  decodeToNative(bytes: Uint8Array): object { return JSON.parse(new TextDecoder().decode(bytes)) as object; }
}

export async function custom(): Promise<void> {
  const conn = exact<Connection<object>>()(await Connection.create({ url, encoder: new JsonEncoder() }));
  await conn.set({ id: 1 }, { name: 'x' });
  exact<object | null>()(await conn.get({ id: 1 }));
  exact<Int>()(await conn.rpush({ list: 1 }, [{ a: 1 }, { b: 2 }]));
}

/** Beyond the seed: the options Redis has that the seed's set, zrange and hset lacked. */
export async function seedExtensions(conn: Connection): Promise<void> {
  exact<string | null>()(await conn.set('k', 'v', { get: true }));
  exact<string | null>()(await conn.set('k', 'v', { get: true, keepttl: true }));
  exact<StatusReply | null>()(await conn.set('k', 'v', { exat: 1_900_000_000, onlyIfExists: true }));
  exact<StatusReply | null>()(await conn.set('k', 'v', { pxat: 1_900_000_000_000n, get: false }));
  exact<Int>()(await conn.hset('h', { a: '1', b: '2' }));
  exact<Int>()(await conn.hset('h', new Map([['a', '1']])));
  exact<ZRangeReply<string>>()(await conn.zrange('z', 0, 10, { sortby: 'BYSCORE', limit: { offset: 0, count: 2 } }));
  exact<ZRangeReply<string>>()(await conn.zrange('z', new ZScoreBoundary(1, true), undefined, { sortby: 'byscore', rev: true }));
  exact<ListReply<string>>()(await conn.zrange('z', '[a', '(c', { sortby: 'BYLEX', limit: [0, 5] }));
  exact<ZRangeReply<string>>()(await conn.zrange('z', 0, -1, { rev: true }));
  exact<Map<string, number>>()(await conn.zrangeAsDict('z', 1, 5, { sortby: 'BYSCORE' }));
  const options: ZRangeOptions = { rev: true };
  await conn.zrange('z', 0, 1, options);
}

/**
 * Every other Redis command, by the generic rule (RedisCommands: the
 * methods the JS layer installs from METHODS).
 */
export async function generic(redis: RedisCommands<string>, bytes: RedisCommands<Uint8Array>): Promise<void> {
  // Streams: XADD with MAXLEN ~, a consumer group read with COUNT/BLOCK/STREAMS.
  exact<RedisValue<string>>()(await redis.xadd('s', '*', { field: 'value' }));
  await redis.xadd('s', '1-0', new Map([['f', 'v']]), { trim: { strategy: 'MAXLEN', operator: '~', threshold: 1000 } });
  await redis.xadd('s', '*', [['f', 'v'], ['g', 1]], { nomkstream: true, trim: { strategy: 'minid', threshold: '0-1', limit: 10 } });
  const trim: XaddOptions = { trim: ['MAXLEN', '=', 5] };
  await redis.xadd('s', '*', { f: 'v' }, trim);
  await redis.xgroupCreate('s', 'group', '$', { mkstream: true });
  await redis.xreadgroup(['group', 'consumer'], { s: '>' }, { count: 10, block: 0, noack: true });
  await redis.xreadgroup({ group: 'group', consumer: 'consumer' }, new Map([['s', '>']]));
  await redis.xread({ s: '0', t: '$' }, { count: 1 });
  await redis.xack('s', 'group', ['1-0', '2-0']);
  await redis.xpending('s', 'group', { idle: 100, start: '-', end: '+', count: 10 });
  await redis.xpending('s', 'group', [undefined, '-', '+', 10, 'consumer']);
  await redis.xautoclaim('s', 'group', 'consumer', 0, '0-0', { count: 5, justid: true });
  // Strings and keys
  exact<RedisValue<string>>()(await redis.getdel('k'));
  await redis.getex('k', { ex: 10 });
  await redis.getex('k', { persist: true });
  await redis.getex('k');
  await redis.copy('a', 'b', { db: 1, replace: true });
  await redis.objectEncoding('k');
  await redis.objectFreq('k');
  await redis.mset({ a: '1', b: '2' });
  await redis.del(['a', 'b']);
  // Lists
  await redis.lmove('a', 'b', 'LEFT', 'right');
  await redis.blmove('a', 'b', 'left', 'LEFT', 0.5);
  await redis.lpos('l', 'x', { rank: -1, count: 2, maxlen: 100 });
  await redis.lmpop(['a', 'b'], 'LEFT', { count: 2 });
  // Geo
  await redis.geoadd('g', [[13.361389, 38.115556, 'Palermo'], { longitude: 15.087269, latitude: 37.502669, member: 'Catania' }], { ch: true, condition: 'NX' });
  await redis.geosearch('g', { fromlonlat: [15, 37] }, { circle: { byradius: 200, unit: 'km' } }, { order: 'ASC', count: [3, true], withdist: true });
  await redis.geosearch('g', 'Palermo', { box: [400, 400, 'KM'] }, { count: { count: 2 } });
  await redis.geodist('g', 'Palermo', 'Catania', 'km');
  await redis.hrandfield('h', [2, true]);
  await redis.aclLog('RESET');
  await redis.aclLog(10);
  // HyperLogLog, bitfields, scripts, servers
  await redis.pfadd('hll', ['a', 'b', 'c']);
  await redis.pfadd('hll');
  await redis.pfcount(['hll', 'hll2']);
  await redis.bitfield('bf', [{ get: ['u8', 0] }, { write: { overflow: 'SAT', writeOperation: { incrby: { encoding: 'u8', offset: 0, increment: 1 } } } }]);
  await redis.bitfield('bf', [{ write: { writeOperation: { set: ['i8', 8, 100] } } }]);
  await redis.bitfieldRo('bf', { get: [['u8', 0], ['i4', 4]] });
  await redis.eval('return KEYS[1]', ['k'], ['a', 1]);
  await redis.fcall('f', null);
  await redis.clientNoEvict('ON');
  await redis.client('NO-TOUCH', 'on');
  await redis.sort('k', { by: 'w_*', limit: [0, 10], get: ['#', 'o_*'], alpha: true, store: 'dst' });
  await redis.zrangestore('dst', 'z', 0, -1, { sortby: 'BYSCORE', rev: true });
  await redis.zunion(['a', 'b'], { withscores: true, aggregate: 'MAX' });
  // Binary keys on a bytes connection
  await bytes.getdel(new Uint8Array([1]));
  await bytes.xadd(new Uint8Array([1]), '*', new Map([[new Uint8Array([2]), new Uint8Array([3])]]));
}

export async function pools(): Promise<void> {
  const pool = exact<Pool<string>>()(await Pool.create({ url, poolsize: 4 }));
  exact<Pool<Uint8Array>>()(await Pool.create({ url, encoder: new BytesEncoder() }));
  exact<number>()(pool.poolsize + pool.connectionsInUse + pool.connectionsConnected);
  exact<string | null>()(await pool.get('key'));
  exact<Transaction<string>>()(await pool.multi());
  exact<Subscription<string>>()(await pool.startSubscribe());
  exact<Script<string>>()(await pool.registerScript('return 1'));
  exact<string[]>()(await pool.scan().fetchall());
  pool.close();
}

export async function clusters(): Promise<void> {
  const cluster = exact<Cluster<string>>()(await Cluster.create({ url, poolsize: 2, readFrom: 'replica' }));
  exact<Cluster<Uint8Array>>()(await Cluster.create({ url, encoder: new BytesEncoder() }));
  exact<string[]>()(cluster.nodes);
  for (const shard of cluster.shards) {
    exact<[number, number][]>()(shard.slots);
    if (shard.master !== null) {
      const node = cluster.node(shard.master);
      exact<string>()(node.id);
      exact<Int>()(await node.dbsize());
      exact<string[]>()(await node.scan().fetchall());
    }
  }
  exact<string | null>()(await cluster.get('key'));
  exact<Transaction<string>>()(await cluster.multi());
  exact<Subscription<string>>()(await cluster.startSubscribe());
  try {
    await cluster.call('MGET', 'a', 'b');
  } catch (err) {
    if (err instanceof CrossSlotError) { const base: RedisError = err; exact<string>()(base.message); }
  }
  cluster.close();
}

export async function shared(): Promise<void> {
  const conn = exact<SharedConnection<string>>()(await SharedConnection.create({ url, sharing: 'leader' }));
  exact<SharedConnection<Uint8Array>>()(await SharedConnection.create({ url, encoder: new BytesEncoder(), sharing: 'auto' }));
  conn.addEventListener('leader', (event) => exact<boolean>()(event.detail.hosting));
  exact<string | null>()(await conn.get('key'));
  exact<string[]>()(await conn.scan('user:*').fetchall());
  exact<Map<string, number>>()(await conn.zscan('z').fetchall());
  exact<string>()((await conn.registerScript('return 1')).sha);
  conn.close();
}

export async function errors(conn: Connection): Promise<void> {
  try {
    await conn.get('key');
  } catch (err) {
    if (err instanceof ErrorReply) exact<string>()(err.message);
    if (err instanceof ConnectionLostError) { const lost: NotConnectedError = err; exact<string>()(lost.message); }
    const all = [ErrorReply, TransactionError, NotConnectedError, ConnectionLostError, NoAvailableConnectionsInPoolError,
      ScriptKilledError, NoRunningScriptError, TimeoutError];
    for (const ErrorClass of all) {
      const instance: RedisError = new ErrorClass('message');
      const error: Error = instance;
      exact<string>()(error.name);
    }
  }
}

export const statusText: string = new StatusReply('OK').toString();
export const aggregates: ZAggregate[] = [ZAggregate.SUM, ZAggregate.MIN, ZAggregate.MAX];
