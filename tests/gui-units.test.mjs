// The GUI's pure helpers, in Node: the namespace tree, the chart's ticks
// and percentiles, the recognition of the bridge's refusals, the server
// panel's INFO parsing, and the formats. The panels around them are
// driven in Chromium by the other gui-*.test.mjs files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { WWW_DIR } from './harness.mjs';

const load = (name) => import(pathToFileURL(join(WWW_DIR, name)).href);
const { buildTree } = await load('tree.js');
const { niceTicks, percentile } = await load('chart.js');
const { bridgeRefusal, notAllowed } = await load('refusal.js');
const { formatUptime, hitRatio, keyspaceLine } = await load('server.js');
const { healthUrl } = await load('diagnose.js');
const { formatBytes, formatTtl, pairs } = await load('dom.js');

test('the namespace tree: folders by delimiter, counts, a key beside a folder of the same name', () => {
  const root = buildTree(['a:b:1', 'a:b:2', 'a:c', 'a:b', 'top', 'a::x'], ':');
  assert.equal(root.count, 6);
  const a = root.folders.get('a');
  assert.equal(a.prefix, 'a:');
  assert.equal(a.count, 5);
  assert.equal(a.folders.get('b').count, 2);
  assert.equal(a.folders.get('b').prefix, 'a:b:');
  assert.deepEqual(a.leaves.map((l) => l.key).sort(), ['a:b', 'a:c']);
  assert.equal(a.folders.get('').prefix, 'a::');
  assert.deepEqual(root.leaves, [{ name: 'top', key: 'top' }]);
  // Another delimiter, and none.
  assert.equal(buildTree(['x/y', 'x/z'], '/').folders.get('x').count, 2);
  const flat = buildTree(['a:b', 'c'], '');
  assert.equal(flat.folders.size, 0);
  assert.deepEqual(flat.leaves.map((l) => l.key), ['a:b', 'c']);
});

test('chart ticks: 1, 2, 2.5 or 5 × 10^k from 0 to at least the maximum', () => {
  assert.deepEqual(niceTicks(0), [0, 1]);
  assert.deepEqual(niceTicks(3.2), [0, 1, 2, 3, 4]);
  assert.deepEqual(niceTicks(0.42), [0, 0.2, 0.4, 0.6]);
  assert.deepEqual(niceTicks(9607), [0, 2500, 5000, 7500, 10000]);
  assert.deepEqual(niceTicks(100), [0, 25, 50, 75, 100]);
  for (const max of [0.013, 1, 7, 99.9, 12345]) {
    const ticks = niceTicks(max);
    assert.ok(ticks.at(-1) >= max && ticks.length <= 6, `${max}: ${ticks}`);
  }
});

test('percentiles by nearest rank', () => {
  assert.equal(percentile([], 0.5), null);
  assert.equal(percentile([5], 0.99), 5);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.equal(percentile([1, 2, 3, 1000], 0.99), 1000);
});

test('the bridge\'s refusals are told from Redis\'s own errors', () => {
  const denied = { message: "ERR unknown command 'DEBUG: denied by redis-ws-bridge', with args beginning with: 'SLEEP' '0' " };
  assert.deepEqual(bridgeRefusal(denied), { command: 'DEBUG', reason: 'denied by redis-ws-bridge' });
  assert.deepEqual(bridgeRefusal("ERR unknown command 'CLIENT KILL: key outside this token's prefix, denied by redis-ws-bridge', with args beginning with:"),
    { command: 'CLIENT KILL', reason: "key outside this token's prefix, denied by redis-ws-bridge" });
  assert.equal(bridgeRefusal({ message: "ERR unknown command 'FOO', with args beginning with: " }), null);
  assert.equal(bridgeRefusal({ message: 'WRONGTYPE Operation against a key holding the wrong kind of value' }), null);
  assert.equal(notAllowed(denied), 'DEBUG is not allowed by this bridge (denied by redis-ws-bridge)');
  assert.match(notAllowed({ message: "NOPERM User alice has no permissions to run the 'info' command" }), /^not allowed for this Redis user: NOPERM/);
  assert.equal(notAllowed({ message: 'ERR syntax error' }), null);
});

test('INFO fields and formats', () => {
  assert.deepEqual(keyspaceLine('keys=40,expires=7,avg_ttl=3599123'), { keys: 40, expires: 7, avg_ttl: 3599123 });
  assert.equal(hitRatio(0, 0), '—');
  assert.equal(hitRatio(3, 2), '60.0 %');
  assert.equal(formatUptime(13), '0m 13s');
  assert.equal(formatUptime(3 * 86400 + 5 * 3600), '3d 5h');
  assert.equal(formatTtl(-1), 'no expiry');
  assert.equal(formatTtl(120_000), '2m 0s');
  assert.equal(formatTtl(90_061_000), '1d 1h');
  assert.equal(formatBytes(136), '136 B');
  assert.equal(formatBytes(11_469), '11.2 KiB');
  assert.deepEqual([...pairs(['a', 1, 'b', 2])], [['a', 1], ['b', 2]]);
  assert.equal(healthUrl('wss://redis.example.com/ws?x=1'), 'https://redis.example.com/healthz');
  assert.equal(healthUrl('ws://127.0.0.1:7379/'), 'http://127.0.0.1:7379/healthz');
});

const { keyArg, keyName, nameOf, unescapeBytes } = await load('keynames.js');
const { slotText } = await load('nodes.js');

test('key names: printable UTF-8 as is, a backslash doubled, any other byte as \\xNN, and back exactly', () => {
  const of = (...parts) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));
  assert.equal(keyName(of('user:42')), 'user:42');
  assert.equal(keyName(of('älice:😀')), 'älice:😀');
  assert.equal(keyName(of('a', [0x00], 'b')), 'a\\x00b');
  assert.equal(keyName(of([0xff])), '\\xff');
  assert.equal(keyName(of([0xc3, 0x28])), '\\xc3(', 'a lead byte without its continuation');
  assert.equal(keyName(of([0xe2, 0x82])), '\\xe2\\x82', 'a sequence cut short');
  assert.equal(keyName(of([0xc0, 0x80])), '\\xc0\\x80', 'an overlong NUL');
  assert.equal(keyName(of([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80', 'a surrogate');
  assert.equal(keyName(of('tab\there\n')), 'tab\\x09here\\x0a');
  assert.equal(keyName(of('a\\xff')), 'a\\\\xff', 'the text \\xff is not the byte 0xff');
  assert.equal(keyArg('plain'), 'plain');
  assert.deepEqual(keyArg('a\\\\xff'), of('a\\xff'));
  assert.deepEqual(keyArg('\\xc3('), of([0xc3, 0x28]));
  assert.equal(nameOf('x\\y'), 'x\\\\y');
  // Every name reads back as the bytes it was made from: 2,000 random names, a fixed seed.
  let seed = 20;
  const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
  for (let i = 0; i < 2000; i++) {
    const name = Uint8Array.from({ length: random() % 12 }, () => random() % 256);
    assert.deepEqual(unescapeBytes(keyName(name)), name, `bytes ${[...name]}`);
  }
});

test('slot ranges of a shard in words, and their count', () => {
  assert.deepEqual(slotText([[0, 5460]]), { ranges: '0–5460', slots: 5461 });
  assert.deepEqual(slotText([[0, 99], [500, 500], [16000, 16383]]), { ranges: '0–99, 500, 16000–16383', slots: 485 });
});
