// The client's basic contract, as plain test bodies that any host runs
// (tests/conformance/run.mjs): each takes the kit (kit.mjs) of the imported
// package and a bridge that refuses WebSocket messages over 2 MiB, in front
// of a real redis-server. Values and options round trip, replies keep their
// order and types, and every way a connection can fail rejects with the
// error class that names it. Nothing here may use a host's own API.

export const tests = {
  'set and get: unicode and empty values, a missing key is null': async ({ connect, eq, key }) => {
    const conn = await connect();
    for (const value of ['value', '', 'ünïcödé ✓ 🚀 日本語']) {
      const k = key('roundtrip');
      eq((await conn.set(k, value)).status, 'OK', `set ${JSON.stringify(value)}`);
      eq(await conn.get(k), value, `get ${JSON.stringify(value)}`);
    }
    eq(await conn.get(key('missing')), null, 'a missing key');
  },

  'set options map to EX, PX, NX and XX; an unknown option is a TypeError': async ({ connect, eq, ok, key, rejects }) => {
    const conn = await connect();
    const k = key('options');
    const nx = { onlyIfNotExists: true, expire: 100 };
    eq((await conn.set(k, 'a', nx)).status, 'OK', 'NX on a new key');
    eq(await conn.set(k, 'b', nx), null, 'NX on an existing key sets nothing');
    const ttl = await conn.call('TTL', k);
    ok(ttl >= 1 && ttl <= 100, `EX 100 gives a TTL in (0, 100], got ${ttl}`);
    const xx = { onlyIfExists: true, pexpire: 50_000 };
    eq(await conn.set(key('absent'), 'c', xx), null, 'XX on a missing key sets nothing');
    eq((await conn.set(k, 'd', xx)).status, 'OK', 'XX on an existing key');
    const pttl = await conn.call('PTTL', k);
    ok(pttl >= 1 && pttl <= 50_000, `PX 50000 gives a PTTL in (0, 50000], got ${pttl}`);
    eq(await conn.get(k), 'd', 'the XX value');
    await rejects(conn.set(key('typo'), 'v', { expires: 10 }), TypeError, 'a misspelt option');
  },

  'ping, echo, incr, exists and delete of any iterable of keys': async ({ connect, eq, key }) => {
    const conn = await connect();
    eq((await conn.ping()).status, 'PONG', 'ping');
    eq(await conn.echo('héllo'), 'héllo', 'echo');
    const counter = key('counter');
    eq(await conn.incr(counter), 1, 'first incr');
    eq(await conn.incr(counter), 2, 'second incr');
    eq(await conn.exists(counter), true, 'exists');
    const other = key('other');
    await conn.set(other, 'x');
    eq(await conn.delete([counter, other, key('never-set')]), 2, 'delete counts what existed');
    eq(await conn.exists(counter), false, 'gone');
    eq(await conn.delete(new Set([other])), 0, 'a Set of keys works too');
  },

  'integers beyond 2^53 are BigInts': async ({ connect, eq, key }) => {
    const conn = await connect();
    const k = key('big');
    await conn.set(k, '9007199254740993');
    const big = await conn.incr(k);
    eq(typeof big, 'bigint', 'the type');
    eq(String(big), '9007199254740994', 'the value, exactly');
  },

  '10,000 pipelined INCRs resolve in order': async ({ connect, eq, key }) => {
    const conn = await connect();
    const counter = key('pipelined');
    const all = await Promise.all(Array.from({ length: 10_000 }, () => conn.incr(counter)));
    all.forEach((value, i) => { if (value !== i + 1) throw new Error(`reply ${i} is ${value}`); });
    eq(all.length, 10_000, 'every reply');
  },

  'an error reply rejects with ErrorReply between answered commands': async ({ m, connect, eq, ok, key, rejects }) => {
    const conn = await connect();
    const k = key('wrongtype');
    await conn.call('LPUSH', k, 'x');
    const before = conn.incr(key('before'));
    const failed = conn.incr(k);
    const after = conn.echo('after');
    eq(await before, 1, 'the command before');
    const failure = await rejects(failed, m.ErrorReply, 'INCR of a list');
    ok(failure instanceof m.RedisError, 'an ErrorReply is a RedisError');
    ok(failure.message.startsWith('WRONGTYPE'), `the server's words: ${failure.message}`);
    eq(await after, 'after', 'the command after');
  },

  'call() decodes plain values; an unknown command rejects with ErrorReply': async ({ m, connect, eq, key, rejects }) => {
    const conn = await connect();
    const h = key('hash');
    eq(await conn.call('HSET', h, 'f1', 'v1', 'f2', 'v2'), 2, 'HSET');
    eq(await conn.call('HGETALL', h), ['f1', 'v1', 'f2', 'v2'], 'HGETALL as a flat array');
    eq(await conn.call('SET', key('n'), 42), 'OK', 'a status is a string');
    eq(await conn.call('MGET', h, key('none')), [null, null], 'MGET of a hash and a missing key');
    await rejects(conn.call('NOSUCHCOMMAND'), m.ErrorReply, 'an unknown command');
  },

  'BytesEncoder: all 256 byte values in key and value; strings are refused': async ({ m, connect, eq, rejects }) => {
    const conn = await connect({ encoder: new m.BytesEncoder() });
    const all = new Uint8Array(512).map((_, i) => (i < 256 ? i : 511 - i));
    const k = new Uint8Array([...new TextEncoder().encode(`basics:bytes:${Math.random()}`), 0xff, 0x00]);
    await conn.set(k, all);
    eq(await conn.get(k), all, 'every byte value comes back');
    await rejects(conn.get('a string'), TypeError, 'strings are not bytes under BytesEncoder');
    eq(await conn.delete([k]), 1, 'delete by a binary key');
  },

  // Replies of many strings are decoded many strings at a time: what comes out
  // must be what decoding one by one gives, over more than one decoding run.
  'lists and hashes of strings decode exactly: empty, multi-byte, astral, invalid UTF-8': async ({ m, connect, eq, key }) => {
    const conn = await connect();
    const items = Array.from({ length: 3000 }, (_, i) => [
      '', `ascii ${i}`, `ünïcödé ${i} 日本語`, `🚀${i}🚀`, 'x'.repeat(i % 200),
    ][i % 5]);
    const list = key('texts-list');
    await conn.rpush(list, items);
    const raw = await connect({ encoder: new m.BytesEncoder() });
    await raw.rpush(new TextEncoder().encode(list), [new Uint8Array([0x61, 0xff, 0x62])]);
    const got = await conn.lrangeAsList(list);
    const expected = [...items, 'a\ufffdb'];
    const differs = got.findIndex((item, i) => item !== expected[i]);
    eq([got.length, differs], [expected.length, -1], 'LRANGE decodes like one by one');

    const hash = key('texts-hash');
    await conn.hmset(hash, new Map(items.map((item, i) => [`field ${i}`, item])));
    const map = await conn.hgetallAsDict(hash);
    eq(map.size, items.length, 'every field');
    const wrong = items.findIndex((item, i) => map.get(`field ${i}`) !== item);
    eq(wrong, -1, 'HGETALL decodes like one by one');
  },

  // A method writes its line straight into wasm memory when it fits (256
  // arguments, 16 KiB) and hands it over as an Array when not: both ways,
  // and across a growth of the wasm's memory, Redis gets the UTF-8 bytes
  // TextEncoder gives (a lone surrogate as U+FFFD).
  'lines reach Redis byte for byte at the edges of the line buffer': async ({ m, connect, eq, key }) => {
    const conn = await connect();
    const raw = await connect({ encoder: new m.BytesEncoder() });
    const utf8 = new TextEncoder();
    const sameBytes = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);
    const check = async (value, what) => {
      const k = key('wire');
      await conn.set(k, value);
      const stored = await raw.get(utf8.encode(k));
      eq(sameBytes(stored, utf8.encode(value)), true, `${what}: the bytes in Redis`);
      eq(await conn.get(k), new TextDecoder().decode(utf8.encode(value)), `${what}: read back`);
    };
    // The line is SET, the key and the value: the value's room in 16 KiB.
    const room = 16 * 1024 - 3 - utf8.encode(key('wire')).length;
    const texts = {
      'ASCII': 'plain text',
      'non-ASCII first': 'é then ascii',
      'non-ASCII last': 'ascii then é',
      'astral': '🚀 x 🚀',
      'a lone surrogate': 'a\ud800b',
      'ASCII filling the buffer': 'x'.repeat(room),
      'ASCII one byte over': 'x'.repeat(room + 1),
      'three-byte characters that fit': '日'.repeat(Math.floor(room / 3)),
      'three-byte characters that fit as UTF-16 only': '日'.repeat(Math.floor(room / 2)),
      'ASCII then non-ASCII past the end': 'x'.repeat(room - 2) + 'ééé',
    };
    for (const [what, value] of Object.entries(texts)) await check(value, what);
    // A value of megabytes grows the wasm's memory; lines after it still go right.
    const big = 'y'.repeat(4_000_000);
    await check(big, '4 MB');
    for (const [what, value] of Object.entries(texts)) await check(value, `${what}, after the growth`);
    for (const count of [254, 255]) {
      const list = key('wire-args');
      const items = Array.from({ length: count }, (_, i) => (i % 3 ? `item ${i}` : `élément ${i}`));
      eq(await conn.rpush(list, items), count, `RPUSH of ${count + 2} arguments`);
      eq(await conn.lrangeAsList(list), items, `the ${count} items in order`);
    }
    const k = utf8.encode(key('wire-bytes'));
    const bytes = new Uint8Array(300).map((_, i) => (i * 7) % 256);
    await raw.set(k, bytes);
    eq(sameBytes(await raw.get(k), bytes), true, 'a Uint8Array in a line');
  },

  // A large bulk reply that spans WebSocket messages is gathered in place
  // (core/gather.rs) for the kinds that take it as it is: text, bytes, a
  // custom encoder's value and call(); replies around it keep their order.
  // Values past 2 MiB, which the bridge does not send whole.
  'large values spanning messages decode exactly under every encoder': async ({ m, connect, eq, ok, key }) => {
    const conn = await connect();
    const raw = await connect({ encoder: new m.BytesEncoder() });
    const utf8 = new TextEncoder();
    const text = '\ufeff' + 'ünïcödé 日本語 🚀 '.repeat(90_000);
    const k = key('gathered-text');
    await conn.set(k, text);
    const [before, got, after, plain, asText] = await Promise.all([
      conn.ping(), conn.get(k), conn.incr(key('gathered-count')), conn.call('GET', k), conn.getex(k),
    ]);
    eq(before.status, 'PONG', 'the reply before');
    ok(got === text, `the text, a leading BOM kept (${got.length} of ${text.length} code units)`);
    eq(after, 1, 'the reply after');
    ok(plain === text, 'call() gets the same text');
    ok(asText === text, 'GETEX too');
    const bytes = new Uint8Array(2_500_000).map((_, i) => (i * 31) % 256);
    bytes.set([0xc3, 0x28, 0xff], 1000); // not UTF-8
    const kb = utf8.encode(key('gathered-bytes'));
    await raw.set(kb, bytes);
    const back = await raw.get(kb);
    ok(back.length === bytes.length && back.every((b, i) => b === bytes[i]), 'every byte');
    eq(await conn.get(new TextDecoder().decode(kb)), new TextDecoder().decode(bytes), 'invalid UTF-8 replaced as TextDecoder does');
    const seen = [];
    const custom = await connect({
      encoder: {
        encodeFromNative: (v) => utf8.encode(v),
        decodeToNative: (b) => { seen.push(b.length); return `custom:${b.length}`; },
      },
    });
    eq(await custom.get(k), `custom:${utf8.encode(text).length}`, 'a custom encoder gets the whole value');
    eq(seen, [utf8.encode(text).length], 'once');
  },

  // The bridge sends a bulk reply of up to 2 MiB in one message; the value
  // is then a view of that message, copied nowhere, and the caller's own.
  'a large value that comes whole in one message is a view of it, and its own': async ({ m, connect, eq, ok, key }) => {
    const raw = await connect({ encoder: new m.BytesEncoder() });
    const conn = await connect();
    const bytes = new Uint8Array(1_000_000).map((_, i) => (i * 7) % 256);
    const k = new TextEncoder().encode(key('whole'));
    await raw.set(k, bytes);
    const same = (got) => got.length === bytes.length && got.every((b, i) => b === bytes[i]);
    const first = await raw.get(k);
    const second = await raw.get(k);
    ok(same(first) && same(second), 'every byte');
    ok(first.byteOffset > 0 && first.buffer.byteLength > first.length,
      `a view of the message (offset ${first.byteOffset} in ${first.buffer.byteLength} bytes)`);
    first.fill(0);
    ok(same(second) && same(await raw.get(k)), 'changing one value changes no other');
    const text = 'é'.repeat(300_000);
    const kt = key('whole-text');
    await conn.set(kt, text);
    const [before, got, after] = await Promise.all([conn.ping(), conn.get(kt), conn.incr(key('whole-count'))]);
    eq(before.status, 'PONG', 'the reply before');
    ok(got === text, `text in the same message as other replies (${got.length} code units)`);
    eq(after, 1, 'the reply after');
  },

  // The bridge refuses messages over 2 MiB: a 3 MB value only gets through
  // because the client splits its writes, and comes back whole.
  'a value larger than a WebSocket message round trips byte for byte': async ({ m, connect, eq, ok }) => {
    const conn = await connect({ encoder: new m.BytesEncoder() });
    const value = new Uint8Array(3_000_000).map((_, i) => i % 251);
    const k = new TextEncoder().encode(`basics:large:${Math.random()}`);
    await conn.set(k, value);
    const back = await conn.get(k);
    ok(back.length === value.length && back.every((byte, i) => byte === value[i]), 'the value came back unchanged');
    eq(await conn.delete([k]), 1, 'delete');
  },

  'a wrong argument type rejects before sending; relaxed mode sends the text': async ({ connect, eq, ok, key, rejects }) => {
    const conn = await connect();
    const rejected = await rejects(conn.get(42), TypeError, 'a number key');
    ok(rejected.message.includes('get') && rejected.message.includes('key'), rejected.message);
    await rejects(conn.delete('one-key'), TypeError, 'a string for a list of keys');
    eq((await conn.ping()).status, 'PONG', 'nothing was sent by the rejected calls');
    const relaxed = await connect({ enableTypechecking: false });
    const k = key('relaxed');
    await relaxed.set(k, 12.5);
    eq(await relaxed.get(k), '12.5', 'a number is sent as its text');
    eq(await relaxed.delete(k), 1, 'a lone key for a list');
  },

  'the db option selects the database': async ({ connect, eq, key }) => {
    const inDb2 = await connect({ db: 2 });
    const inDb0 = await connect();
    const k = key('db');
    await inDb2.set(k, 'two');
    eq(await inDb0.get(k), null, 'not in database 0');
    eq(await inDb2.get(k), 'two', 'in database 2');
  },

  'a wrong password rejects create() with the server\'s ErrorReply': async ({ m, connect, rejects }) => {
    await rejects(connect({ password: 'not-the-password' }), m.ErrorReply, 'AUTH fails');
  },

  'nothing listening rejects create() with NotConnectedError after connectTimeout': async ({ m, connect, rejects }) => {
    await rejects(connect({ url: 'ws://127.0.0.1:9/', connectTimeout: 1000 }), m.NotConnectedError, 'no server on port 9');
  },

  'close(): in-flight commands reject with ConnectionLostError, later ones with NotConnectedError': async ({ m, connect, eq, ok, key, rejects }) => {
    const conn = await connect();
    const blocked = conn.call('BLPOP', key('never'), 5);
    const pending = conn.ping();
    conn.close();
    await rejects(blocked, m.ConnectionLostError, 'the blocked pop');
    await rejects(pending, m.ConnectionLostError, 'the ping behind it');
    const later = await rejects(conn.ping(), m.NotConnectedError, 'a command after close');
    ok(!(later instanceof m.ConnectionLostError), 'not a lost connection: there was none');
    eq(conn.isConnected, false, 'isConnected');
  },
};
