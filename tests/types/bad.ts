// Wrong uses of redis-wasm that must NOT compile. Every line marked
// `// error TSxxxx` must get exactly that error from `tsc --strict`, and no
// other line may get any (so a missing module or a broken config cannot
// pass for the expected failures). Checked by tests/package.test.mjs.
import { BytesEncoder, Cluster, Connection, Pool, SharedConnection, ZScoreBoundary } from 'redis-wasm';
import type { RedisCommands } from 'redis-wasm';

const url = 'ws://127.0.0.1:7379/';

export async function wrong(): Promise<void> {
  const conn = await Connection.create({ url });
  const bytes = await Connection.create({ url, encoder: new BytesEncoder() });

  await conn.get(42); // error TS2345: a number key on a string connection
  await conn.lrange('k', 'x'); // error TS2345: a string index
  await conn.delete('key'); // error TS2345: a lone string is not a list of keys
  await conn.set('k', 'v', { expires: 10 }); // error TS2769: no such option (set has an overload for { get: true })
  await conn.set('k', 'v', 10); // error TS2769: the third argument is the options object
  await bytes.get('text'); // error TS2345: a string key on a bytes connection
  await bytes.hmset(new Uint8Array(), { field: new Uint8Array() }); // error TS2353: plain objects only for string keys
  await conn.zadd('z', { a: '1' }); // error TS2322: scores are numbers
  await conn.zcount('z', '-inf', 5); // error TS2345: a string is not a ZScoreBoundary
  await conn.zunionstore('d', ['a'], null, 'AVG'); // error TS2345: not a ZAggregate
  await conn.setbit('k', 1, 2); // error TS2345: a bit is boolean, 0 or 1
  await conn.noSuchCommand('k'); // error TS2339: no such method
  await conn.hget('h'); // error TS2554: the field is required
  await Connection.create({ host: 'localhost' }); // error TS2769: url is required
  await SharedConnection.create({ url, sharing: 'tab' }); // error TS2769: 'auto', 'worker' or 'leader'
  new Connection(); // error TS2673: connections come from create()
  new ZScoreBoundary('five'); // error TS2345: a number or an infinity

  const value: string = await conn.get('k'); // error TS2322: get may resolve to null
  const count: number = await conn.incr('k'); // error TS2322: integers may be bigints
  const raw: Uint8Array | null = await conn.get('k'); // error TS2322: a string connection gives strings
  const members: string[] = await conn.smembersAsSet('s'); // error TS2740: a Set, not an Array
  const pool = await Pool.create({ url, poolsize: '4' }); // error TS2769: poolsize is a number
  await Cluster.create({ url, readFrom: 'slave' }); // error TS2769: master, replica or any
  await Cluster.create({ url, db: 1 }); // error TS2769: a cluster has database 0 only
  const old: string | null = await conn.set('k', 'v'); // error TS2322: without get, set resolves to a status
  await conn.zrangeAsDict('z', 'a', 'b', { sortby: 'BYLEX' }); // error TS2769: no scores by lex
  await conn.hset('h', { a: 1 }); // error TS2322: field values are native
  void [value, count, raw, members, pool, old];
}

export async function wrongGeneric(redis: RedisCommands<string>, bytes: RedisCommands<Uint8Array>): Promise<void> {
  await redis.xadd('s', '*'); // error TS2554: the fields are required
  await redis.xadd('s', '*', { f: 'v' }, { trim: { strategy: 'MAXLEN' } }); // error TS2322: a trim needs a threshold
  await redis.xadd('s', '*', { f: 'v' }, { maxlen: 10 }); // error TS2353: MAXLEN is inside trim
  await redis.xreadgroup(['g'], { s: '>' }); // error TS2345: group and consumer
  await redis.xreadgroup(['g', 'c'], { s: '>' }, { count: '10' }); // error TS2322: a count is an integer
  await redis.getex('k', { ex: '10' }); // error TS2322: seconds are integers
  await redis.getex('k', { expire: 10 }); // error TS2353: the option is ex (Redis's EX)
  await redis.lmove('a', 'b', 'UP', 'LEFT'); // error TS2345: LEFT or RIGHT
  await redis.lpos('l', 'x', { rank: 'first' }); // error TS2322: a rank is an integer
  await redis.geoadd('g', [[13.3, 'north', 'Palermo']]); // error TS2345: a latitude is a number
  await redis.geosearch('g', { fromlonlat: [15, 37] }, { circle: { byradius: 200, unit: 'parsec' } }); // error TS2322: m, km, ft or mi
  await redis.pfadd('hll', 'a'); // error TS2345: elements are a list
  await redis.pfcount('hll'); // error TS2345: keys are a list
  await redis.bitfield('bf', [{ get: ['u8'] }]); // error TS2345: GET needs an offset
  await redis.objectEncoding(); // error TS2554: the key is required
  await redis.copy('a', 'b', { db: 'one' }); // error TS2322: a database is an integer
  await redis.getdel('k', 'extra'); // error TS2554: one argument
  await bytes.getdel('text'); // error TS2345: a key on a bytes connection is a Uint8Array (or a number)
  await redis.noSuchCommand(); // error TS2339: no such method
}
