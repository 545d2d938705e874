// RESP3 through the bridge: each type Redis can send reaches JS as the
// value USAGE.md documents (DEBUG PROTOCOL makes Redis send each one).
import { after, before, test } from 'node:test';
import { browserSuite } from './kit.mjs';

let suite;
before(async () => { suite = await browserSuite(['--allow-command', 'DEBUG']); });
after(async () => { await suite?.stop(); });

test('every RESP3 type maps to its JS value; attributes leave the reply intact', () => suite.run(async () => {
  const { connect, eq, ok, key } = window.kit;
  const conn = await connect({ protocol: 3 });
  const debug = (type) => conn.call('DEBUG', 'PROTOCOL', type);
  eq(await debug('bignum'), 1234567999999999999999999999999999999n, 'big number → BigInt');
  eq(await debug('true'), true, 'boolean true');
  eq(await debug('false'), false, 'boolean false');
  eq(await debug('null'), null, 'null');
  eq(await debug('double'), 3.141, 'double → number');
  eq(await debug('verbatim'), 'This is a verbatim\nstring', 'verbatim string → string');
  eq(await debug('map'), new Map([[0, false], [1, true], [2, false]]), 'map → Map');
  eq(await debug('set'), new Set([0, 1, 2]), 'set → Set');
  const seen = [];
  conn.addEventListener('attributes', (e) => seen.push(e.detail));
  eq(await debug('attrib'), 'Some real reply following the attribute', 'the attributed reply');
  eq(seen.length, 1, 'one attributes event');
  eq(seen[0].command, 'DEBUG', 'for the command');
  ok(seen[0].attributes instanceof Map && seen[0].attributes.has('key-popularity'), 'the attribute map');
  const h = key('h');
  await conn.hset(h, 'f', 'v');
  eq(await conn.call('HGETALL', h), new Map([['f', 'v']]), 'HGETALL is a map in RESP3');
  eq(await conn.hgetallAsDict(h), new Map([['f', 'v']]), 'the seed method gives the same Map');
  const z = key('z');
  await conn.zadd(z, { a: 1.5, b: 2 });
  eq(await conn.call('ZSCORE', z, 'a'), 1.5, 'ZSCORE is a double');
  eq(await conn.zrangeAsDict(z), new Map([['a', 1.5], ['b', 2]]), 'pairs sent as arrays');
  const range = await conn.zrange(z);
  eq(range.length, 2, 'a ZRangeReply counts pairs');
  eq(await range.asdict(), new Map([['a', 1.5], ['b', 2]]), 'and holds them');
  conn.close();
}));
