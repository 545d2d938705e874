// Wrong uses of redis-wasm that must NOT compile. Every line marked
// `// error TSxxxx` must get exactly that error from `tsc --strict`, and no
// other line may get any (so a missing module or a broken config cannot
// pass for the expected failures). Checked by tests/package.test.mjs.
import { BytesEncoder, Connection, Pool, ZScoreBoundary } from 'redis-wasm';

const url = 'ws://127.0.0.1:7379/';

export async function wrong(): Promise<void> {
  const conn = await Connection.create({ url });
  const bytes = await Connection.create({ url, encoder: new BytesEncoder() });

  await conn.get(42); // error TS2345: a number key on a string connection
  await conn.lrange('k', 'x'); // error TS2345: a string index
  await conn.delete('key'); // error TS2345: a lone string is not a list of keys
  await conn.set('k', 'v', { expires: 10 }); // error TS2561: no such option
  await conn.set('k', 'v', 10); // error TS2559: the third argument is the options object
  await bytes.get('text'); // error TS2345: a string key on a bytes connection
  await bytes.hmset(new Uint8Array(), { field: new Uint8Array() }); // error TS2353: plain objects only for string keys
  await conn.zadd('z', { a: '1' }); // error TS2322: scores are numbers
  await conn.zcount('z', '-inf', 5); // error TS2345: a string is not a ZScoreBoundary
  await conn.zunionstore('d', ['a'], null, 'AVG'); // error TS2345: not a ZAggregate
  await conn.setbit('k', 1, 2); // error TS2345: a bit is boolean, 0 or 1
  await conn.noSuchCommand('k'); // error TS2339: no such method
  await conn.hget('h'); // error TS2554: the field is required
  await Connection.create({ host: 'localhost' }); // error TS2769: url is required
  new Connection(); // error TS2673: connections come from create()
  new ZScoreBoundary('five'); // error TS2345: a number or an infinity

  const value: string = await conn.get('k'); // error TS2322: get may resolve to null
  const count: number = await conn.incr('k'); // error TS2322: integers may be bigints
  const raw: Uint8Array | null = await conn.get('k'); // error TS2322: a string connection gives strings
  const members: string[] = await conn.smembersAsSet('s'); // error TS2740: a Set, not an Array
  const pool = await Pool.create({ url, poolsize: '4' }); // error TS2769: poolsize is a number
  void [value, count, raw, members, pool];
}
