// The JS builders of METHODS, in node: the seed's methods give exactly the
// command lines and TypeErrors the Rust ArgReader gave (seed-lines.json),
// and the generic commands follow the rule of docs/USAGE.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { METHODS } from '../js/commands.js';
import { loadSnapshot } from '../gen/snapshot.mjs';
import { methodName } from '../gen/shape.mjs';
import { BY_DESIGN, comparable, ENCODERS, SEED, seedCases } from './cases.mjs';
import { EXAMPLES } from './examples.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const GOLDEN = JSON.parse(readFileSync(resolve(import.meta.dirname, 'seed-lines.json'), 'utf8'));
const byName = new Map(METHODS.map((m) => [m.name, m]));
const utf8 = ENCODERS.utf8();

/** What a builder gives: `{ line }` or `{ error: { name, message } }`. */
function outcome(method, encoder, strict, args) {
  try {
    return { line: comparable(byName.get(method).build(encoder, strict, args)) };
  } catch (err) {
    return { error: { name: err.name, message: err.message } };
  }
}

function build(method, ...args) {
  return byName.get(method).build(utf8, true, args);
}

function refuses(method, args, message) {
  assert.throws(() => byName.get(method).build(utf8, true, args), (err) => err instanceof TypeError && err.message === message,
    `${method}(${args.map((a) => JSON.stringify(a)).join(', ')}) should refuse with: ${message}`);
}

test('every seed case gives the line or TypeError the Rust ArgReader gave', () => {
  const cases = seedCases();
  assert.equal(cases.length, GOLDEN.length, 'seed-lines.json holds one result per case: record it again');
  let compared = 0;
  for (const [i, c] of cases.entries()) {
    const recorded = GOLDEN[i];
    assert.equal(recorded.id, c.id, 'seed-lines.json is in case order: record it again');
    const expected = BY_DESIGN[c.id] ?? (recorded.line ? { line: recorded.line } : { error: recorded.error });
    assert.deepEqual(outcome(c.method, ENCODERS[c.encoder](), c.strict, c.args()), expected, c.id);
    compared++;
  }
  assert.ok(compared > 1500, `${compared} cases`);
  for (const id of Object.keys(BY_DESIGN)) assert.ok(cases.some((c) => c.id === id), `the by-design case ${id} exists`);
  // Every seed method is covered, errors included.
  for (const row of SEED.methods) assert.ok(cases.some((c) => c.method === row.method), row.method);
  assert.ok(GOLDEN.filter((r) => r.error).length > 500, 'the cases include refusals');
});

test('the messages tests/commands.test.mjs asserts in the browser', () => {
  refuses('get', [42], "get: argument 'key' must be a string (UTF8Encoder), got number");
  refuses('lpush', ['k', 'v'], "lpush: argument 'values' must be an iterable (such as an Array), got string");
  refuses('expire', ['k', 1.5], "expire: argument 'seconds' must be an integer, got the number 1.5");
  refuses('blpop', [['k'], 'soon'], "blpop: argument 'timeout' must be an integer, got string");
  refuses('zadd', ['k', 5], "zadd: argument 'values' must be a Map or a plain object, got number");
  refuses('sadd', ['k', 5], "sadd: argument 'members' must be an iterable (such as an Array), got number");
  refuses('hget', ['k'], "hget: argument 'field' is required");
  refuses('zrangebyscore', ['k', 'low'], "zrangebyscore: argument 'min' must be a ZScoreBoundary or a number, got string");
  refuses('zinterstore', ['d', ['a'], null, 'AVG'], "zinterstore: argument 'aggregate' must be ZAggregate.SUM, MIN or MAX");
});

test('METHODS: one descriptor per name, each with its table index, reply kind and builder', () => {
  const { entries } = loadSnapshot(ROOT);
  assert.equal(byName.size, METHODS.length, 'names are unique');
  for (const m of METHODS) {
    assert.equal(typeof m.build, 'function', m.name);
    assert.ok(typeof m.reply === 'string' && /^[A-Z]\w+$/.test(m.reply), `${m.name}: reply ${m.reply}`);
    assert.ok(Number.isInteger(m.cmd) && m.cmd >= -1 && m.cmd < entries.length, `${m.name}: cmd ${m.cmd}`);
  }
  assert.equal(byName.get('call').cmd, -1);
  // A seed method's index is its command's entry (the subcommand's when it has one).
  assert.equal(entries[byName.get('get').cmd].name, 'GET');
  assert.equal(entries[byName.get('clientSetname').cmd].name, 'CLIENT|SETNAME');
  assert.equal(entries[byName.get('bitopAnd').cmd].name, 'BITOP');
  // Every other method is named by its entry's words, at its entry's index.
  for (const m of METHODS.slice(SEED.methods.length)) {
    assert.equal(methodName(entries[m.cmd].name), m.name, `${m.name} at ${m.cmd}`);
    assert.equal(m.reply, 'Plain', m.name);
  }
  for (const name of SEED.api) assert.equal(byName.get(name)?.api, true, `${name} is the stateful layer's`);
  assert.equal(byName.get('get').api, undefined);
});

test('the examples of docs/USAGE.md build the lines Redis documents', () => {
  for (const { method, args, line, reply } of EXAMPLES) {
    const built = build(method, ...args());
    assert.deepEqual(comparable(built), line, `${method}: ${JSON.stringify(line)}`);
    assert.equal(built.reply, reply, `${method}: reply override`);
  }
});

test('generic commands refuse wrong calls with a clear TypeError', () => {
  refuses('getdel', [], "getdel: argument 'key' is required");
  refuses('getdel', ['k', 'x'], 'getdel: takes at most 1 argument, got 2');
  refuses('getex', ['k', { ex: 10, px: 5 }], "getex: options 'ex' and 'px' exclude each other");
  refuses('getex', ['k', { expire: 10 }], "getex: unknown option 'expire' (expected ex, px, exat, pxat, persist)");
  refuses('getex', ['k', { ex: 1.5 }], "getex: option 'ex' must be an integer, got the number 1.5");
  refuses('getex', ['k', 'EX'], 'getex: options must be an object, got string');
  refuses('lmove', ['a', 'b', 'UP', 'LEFT'], "lmove: argument 'wherefrom' must be one of 'LEFT', 'RIGHT'");
  refuses('lmove', ['a', 'b', 1, 'LEFT'], "lmove: argument 'wherefrom' must be one of 'LEFT', 'RIGHT', got number");
  refuses('xadd', ['s', '*'], "xadd: argument 'fieldValue' is required");
  refuses('xadd', ['s', '*', 5], "xadd: argument 'fieldValue' must be a Map, a plain object or pairs, got number");
  refuses('xadd', ['s', '*', { f: 'v' }, { trim: { strategy: 'MAXLEN' } }], "xadd: option 'trim'.threshold is required");
  refuses('xadd', ['s', '*', { f: 'v' }, { trim: { strategy: 'MAXLEN', threshold: 1, approx: true } }],
    "xadd: option 'trim' has no key 'approx' (expected strategy, operator, threshold, limit)");
  refuses('pfadd', ['h', 'a'], "pfadd: argument 'element' must be an iterable (such as an Array), got string");
  refuses('xreadgroup', [['g', 'c'], { s: '>' }, { count: '10' }], "xreadgroup: option 'count' must be an integer, got string");
  refuses('geosearch', ['g', { fromlonlat: [15] }, { circle: [1, 'km'] }], "geosearch: argument 'from'.fromlonlat[1] is required");
  refuses('copy', ['a', 'b', { replace: 'yes' }], "copy: option 'replace' must be a boolean, got string");
  refuses('client', [], "client: argument 'subcommand' is required");
  refuses('zrangeAsDict', ['z', 'a', 'b', { sortby: 'BYLEX' }], "zrangeAsDict: sortby 'BYLEX' gives no scores: use zrange");
  // Relaxed checks send what JS prints, as the seed's methods do.
  assert.deepEqual(byName.get('getex').build(utf8, false, ['k', { ex: '10' }]), ['GETEX', 'k', 'EX', '10']);
});

test('generic commands take the encoder’s native values, and numbers as decimal text', () => {
  const bytes = ENCODERS.bytes();
  const key = new Uint8Array([0, 255]);
  assert.deepEqual(byName.get('getdel').build(bytes, true, [key]), ['GETDEL', key]);
  assert.throws(() => byName.get('getdel').build(bytes, true, ['text']), /getdel: argument 'key' must be a Uint8Array \(BytesEncoder\), got string/);
  assert.deepEqual(byName.get('getdel').build(bytes, true, [12]), ['GETDEL', '12']);
  const json = ENCODERS.json();
  assert.deepEqual(comparable(byName.get('getdel').build(json, true, [{ id: 1 }])), ['GETDEL', '{"id":1}']);
  assert.deepEqual(build('xadd', 's', '*', { n: 1.5, big: 2n ** 64n }), ['XADD', 's', '*', 'n', '1.5', 'big', '18446744073709551616']);
});

test('a builder gives a fresh, plain line on every call', () => {
  const get = byName.get('get').build;
  const first = get(utf8, true, ['a']);
  const second = get(utf8, true, ['b']);
  assert.notEqual(first, second);
  assert.deepEqual([first, second], [['GET', 'a'], ['GET', 'b']]);
  assert.deepEqual(Object.keys(first), ['0', '1'], 'no reply mark on a plain line');
});
