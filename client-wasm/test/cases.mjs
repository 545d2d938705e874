// The cases on which the JS builders must give exactly the command lines
// (or TypeErrors) the Rust ArgReader of the seed's methods gave: for every
// seed method, a call with good values of every argument kind, each
// argument in turn replaced by other good and bad values, trailing
// arguments left out, and the same under relaxed type checks, the bytes
// encoder and a custom encoder. The expectations, recorded from the Rust
// implementation, are in seed-lines.json (record-seed-lines.mjs).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const SEED = JSON.parse(readFileSync(resolve(ROOT, 'client-wasm/commands/seed.json'), 'utf8'));

/** `ZScoreBoundary` as its users build it: any object with `value` and `excludeBoundary`. */
const bound = (value, excludeBoundary = false) => ({ value, excludeBoundary });
const bytes = (...values) => new Uint8Array(values);

/** Encoders by name; each case names the one its connection uses. */
export const ENCODERS = {
  utf8: () => ({ nativeKind: 'utf8', encodeFromNative: (v) => new TextEncoder().encode(v), decodeToNative: (b) => new TextDecoder().decode(b) }),
  bytes: () => ({ nativeKind: 'bytes', encodeFromNative: (v) => v, decodeToNative: (b) => b }),
  json: () => ({ encodeFromNative: (v) => new TextEncoder().encode(JSON.stringify(v)), decodeToNative: (b) => JSON.parse(new TextDecoder().decode(b)) }),
  /** A custom encoder that breaks its contract: no Uint8Array. */
  broken: () => ({ encodeFromNative: (v) => JSON.stringify(v), decodeToNative: (b) => b }),
};

/**
 * Values per argument kind: `good` first (the first is the base value),
 * then `bad` ones (refused under strict checks, sent as JS prints them
 * otherwise). Functions, so that iterators are fresh for every run.
 */
const VALUES = {
  Native: { good: [() => 'k', () => 'héllo 🌍', () => ''], bad: [() => 42, () => null, () => bytes(1, 2), () => ({ a: 1 })] },
  NativeList: {
    good: [() => ['a', 'b'], () => new Set(['x']), () => (function* gen() { yield 'g1'; yield 'g2'; })(), () => []],
    bad: [() => 'str', () => 5, () => [1, 'a'], () => null],
  },
  Int: { good: [() => 7, () => -3, () => 2n ** 60n, () => 0, () => -0, () => 2 ** 53 - 1], bad: [() => 1.5, () => '3', () => NaN, () => Infinity, () => 2 ** 53, () => 1e21, () => true] },
  Float: {
    good: [() => 1.5, () => -0, () => 1e21, () => 1e-7, () => Infinity, () => -Infinity, () => 0.1 + 0.2, () => -2.5e-300, () => 123456789012345680000],
    bad: [() => NaN, () => 'x', () => 2n, () => null],
  },
  Bit: { good: [() => true, () => false, () => 0, () => 1], bad: [() => 2, () => 'yes', () => 0.5] },
  Text: { good: [() => 'server', () => ''], bad: [() => 5, () => bytes(104, 105), () => undefined] },
  TextList: { good: [() => ['a', 'b'], () => new Set(['c'])], bad: [() => 'a', () => [5]] },
  ScoreBound: {
    good: [() => bound(1, true), () => bound('-inf'), () => bound('+inf', true), () => bound('inf'), () => 2.5, () => Infinity, () => bound(-0.5)],
    bad: [() => bound('x'), () => 'low', () => bound(NaN), () => bound(bytes(49)), () => null],
  },
  NativePairs: {
    good: [() => ({ a: '1', b: '2' }), () => new Map([['f', 'v']]), () => [['p', 'q']], () => ({})],
    bad: [() => 5, () => [['f']], () => 'str', () => ({ a: 1 }), () => new Map([[1, 'v']])],
  },
  ScorePairs: {
    good: [() => ({ a: 1, b: 2.5 }), () => new Map([['m', -Infinity]]), () => [['n', 0]]],
    bad: [() => ({ a: '1' }), () => 3, () => [['m', 1, 2]], () => new Map([[5, 1]])],
  },
  CountedNativeList: { good: [() => ['a', 'b'], () => [], () => new Set(['s'])], bad: [() => 'one', () => undefined, () => null, () => [3]] },
  FloatList: { good: [() => [1, 2.5], () => null, () => undefined], bad: [() => ['x'], () => 2] },
  Oneof: { good: [() => 'sum', () => 'MAX', () => 'Min', () => undefined, () => null], bad: [() => 'AVG', () => 5, () => ''] },
  Choice: { good: [() => true, () => false, () => undefined, () => 'x', () => 0], bad: [] },
  Options: {
    good: [() => ({ expire: 10 }), () => ({ pexpire: 10n, onlyIfExists: false }), () => ({ onlyIfNotExists: true, expire: undefined }),
      () => null, () => ({ onlyIfExists: true, pexpire: 5 })],
    bad: [() => ({ onlyIfNotExists: 'yes' }), () => 5, () => ({ expire: 1.5 }), () => ({ expire: '10' }), () => 'EX', () => ({ expires: 10 })],
  },
};

/** A seed argument's kind and whether it may be left out. */
function argInfo(arg) {
  if (Array.isArray(arg)) return { name: arg[0], kind: arg[1], optional: arg.length > 2 };
  return { name: arg.name, kind: arg.kind, optional: arg.default !== undefined || arg.kind === 'Choice' };
}

/** The bytes-encoder version of a good value: strings become their UTF-8 bytes. */
function asBytes(value) {
  const encode = (v) => (typeof v === 'string' ? new TextEncoder().encode(v) : v);
  if (typeof value === 'string') return encode(value);
  if (Array.isArray(value)) return value.map((v) => (Array.isArray(v) ? v.map(encode) : encode(v)));
  if (value instanceof Set) return new Set([...value].map(encode));
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [encode(k), encode(v)]));
  return value;
}

/**
 * Where the builders differ from the Rust ArgReader on purpose: a fourth
 * argument of zrange is now its options object, and set knows more options.
 */
const SET_OPTIONS = 'expire, pexpire, onlyIfNotExists, onlyIfExists, keepttl, get, exat, pxat';
export const BY_DESIGN = {
  'zrange extra argument [utf8]': { error: { name: 'TypeError', message: 'zrange: options must be an object, got string' } },
  'zrangeAsDict extra argument [utf8]': { error: { name: 'TypeError', message: 'zrangeAsDict: options must be an object, got string' } },
  'set options=bad5 [utf8]': { error: { name: 'TypeError', message: `set: unknown option 'expires' (expected ${SET_OPTIONS})` } },
  'set options=bad5 [utf8 relaxed]': { error: { name: 'TypeError', message: `set: unknown option 'expires' (expected ${SET_OPTIONS})` } },
};

/**
 * Every case: `{ id, method, encoder, strict, args() }`. Each argument kind
 * gets all its values on the first method that has it; every method gets
 * its base call, its omissions, and for each argument undefined, null and
 * its first bad value.
 */
export function seedCases() {
  const cases = [];
  const swept = new Set();
  const add = (method, label, encoder, strict, args) => {
    cases.push({ id: `${method} ${label} [${encoder}${strict ? '' : ' relaxed'}]`, method, encoder, strict, args });
  };
  for (const row of SEED.methods) {
    const method = row.method;
    if (row.build === 'call') {
      const calls = {
        get: () => ['GET', 'k'],
        numbers: () => ['SET', 'k', 1.5, 2n ** 70n, -0, 1e21],
        nothing: () => ['PING'],
        'bad name': () => [5, 'k'],
        'bad arg': () => ['SET', 'k', { v: 1 }],
        'no name': () => [],
      };
      for (const [label, args] of Object.entries(calls)) {
        add(method, label, 'utf8', true, args);
        add(method, label, 'utf8', false, args);
      }
      add(method, 'bytes', 'bytes', true, () => ['GET', bytes(0, 255), 7]);
      add(method, 'json', 'json', true, () => ['GET', { id: 1 }]);
      continue;
    }
    const infos = row.args.map(argInfo);
    const base = () => infos.map((info) => VALUES[info.kind].good[0]());
    add(method, 'base', 'utf8', true, base);
    add(method, 'base', 'bytes', true, () => base().map(asBytes));
    add(method, 'base', 'json', true, base);
    add(method, 'base', 'broken', true, base);
    add(method, 'extra argument', 'utf8', true, () => [...base(), 'extra']);
    for (let cut = infos.length - 1; cut >= 0; cut--) {
      add(method, `first ${cut} arguments`, 'utf8', true, () => base().slice(0, cut));
      if (!infos[cut].optional) break;
    }
    infos.forEach((info, j) => {
      const sweep = !swept.has(info.kind);
      swept.add(info.kind);
      const values = VALUES[info.kind];
      const swap = (value) => () => base().map((v, k) => (k === j ? value() : v));
      const good = sweep ? values.good.slice(1) : [];
      const bad = sweep ? values.bad : values.bad.slice(0, 1);
      good.forEach((value, n) => add(method, `${info.name}=good${n + 1}`, 'utf8', true, swap(value)));
      bad.forEach((value, n) => {
        add(method, `${info.name}=bad${n}`, 'utf8', true, swap(value));
        add(method, `${info.name}=bad${n}`, 'utf8', false, swap(value));
      });
      add(method, `${info.name}=undefined`, 'utf8', true, swap(() => undefined));
      add(method, `${info.name}=null`, 'utf8', true, swap(() => null));
      if (sweep && ['Native', 'NativeList', 'NativePairs'].includes(info.kind)) {
        add(method, `${info.name}=string`, 'bytes', true, () => base().map(asBytes).map((v, k) => (k === j ? values.good[0]() : v)));
        add(method, `${info.name}=string`, 'bytes', false, () => base().map(asBytes).map((v, k) => (k === j ? values.good[0]() : v)));
      }
    });
  }
  return cases;
}

/**
 * A command line in a comparable form: each item as text when its bytes
 * are UTF-8, else as `{ hex }`. JS strings count as their UTF-8 bytes (the
 * layer below the builders encodes them so).
 */
export function comparable(line) {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return line.map((item) => {
    const raw = typeof item === 'string' ? new TextEncoder().encode(item) : item;
    if (!(raw instanceof Uint8Array)) return { notBytes: String(item) };
    try {
      return strict.decode(raw);
    } catch {
      return { hex: Buffer.from(raw).toString('hex') };
    }
  });
}
