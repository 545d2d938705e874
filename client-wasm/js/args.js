// Command lines built in JS, from the compact descriptors of commands.js.
//
// Every method's `build(encoder, strict, args)` returns the whole command
// line (Redis words first) as an Array of strings and Uint8Arrays, or throws
// the TypeError the seed's checks throw (the same messages: the Rust
// `ArgReader` of src/js/convert.rs was the model). Strings stay JS strings:
// the layer below encodes them. Building happens before anything is queued,
// so a bad argument loses nothing and a request is plain data (it can cross
// to a worker).
//
// Two families: the seed's rows (`seed`), whose arguments have the seed's
// kinds and defaults, and every other Redis command (`generic`), whose
// arguments follow Redis's own argument specs (COMMAND DOCS) by the rule in
// docs/USAGE.md: required arguments positional, optional ones in one
// trailing options object. This runs for every command: the simple paths
// allocate nothing but the line.

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function fail(message) {
  throw new TypeError(message);
}

/** A value's type for messages (never the value: it may be a secret). */
export function typeName(value) {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return 'Uint8Array';
  if (Array.isArray(value)) return 'Array';
  return typeof value;
}

/** Rust's `Display` of an f64: the shortest round-trip digits, never an exponent. */
function rustFloat(n) {
  if (Object.is(n, -0)) return '-0';
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text[0] === '-';
  const mantissa = text.slice(negative ? 1 : 0, e);
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot < 0 ? mantissa.length : dot) + Number(text.slice(e + 1));
  const plain = point <= 0 ? `0.${'0'.repeat(-point)}${digits}`
    : point >= digits.length ? digits + '0'.repeat(point - digits.length)
      : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${plain}` : plain;
}

/** A value's type, and the number itself when that is what is wrong with it. */
function describeValue(value) {
  if (typeof value !== 'number') return typeName(value);
  if (Number.isNaN(value)) return 'the number NaN';
  if (!Number.isFinite(value)) return `the number ${value > 0 ? 'inf' : '-inf'}`;
  return `the number ${rustFloat(value)}`;
}

/** An argument's name in messages: `d`, item `d[i]`, or `d` with a suffix. */
function where(d, i) {
  return i === undefined ? d : typeof i === 'number' ? `${d}[${i}]` : d + i;
}

/** Relaxed type checks send a value as JS prints it; raw bytes stay raw. */
function loose(value) {
  return value instanceof Uint8Array ? value : String(value);
}

// ------------------------------------------------------------------ readers
// Each reads one JS value into one line item: (encoder, strict, value, d, i).

/** A key or value in the encoder's native type. */
export function native(enc, strict, v, d, i) {
  const kind = enc == null ? 'utf8' : enc.nativeKind;
  if (kind === 'utf8') {
    if (typeof v === 'string') return v;
    if (strict) fail(`${where(d, i)} must be a string (UTF8Encoder), got ${typeName(v)}`);
    return loose(v);
  }
  if (kind === 'bytes') {
    if (v instanceof Uint8Array) return v;
    if (strict) fail(`${where(d, i)} must be a Uint8Array (BytesEncoder), got ${typeName(v)}`);
    return loose(v);
  }
  const encoded = enc.encodeFromNative(v);
  if (encoded instanceof Uint8Array) return encoded;
  return fail(`${where(d, i)} must be a value the custom encoder turns into a Uint8Array, got ${typeName(v)}`);
}

/** An integer: a `number` without a fraction, or a `BigInt`. */
function int(enc, strict, v, d, i) {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) <= MAX_SAFE) return String(v);
  } else if (typeof v === 'bigint') {
    return String(v);
  }
  if (strict) fail(`${where(d, i)} must be an integer, got ${describeValue(v)}`);
  return loose(v);
}

/** A float `number`, spelled as Redis reads it (`+inf`, `-inf`). */
function float(enc, strict, v, d, i) {
  if (typeof v === 'number' && !Number.isNaN(v)) {
    return v === Infinity ? '+inf' : v === -Infinity ? '-inf' : rustFloat(v);
  }
  if (strict) fail(`${where(d, i)} must be a number, got ${describeValue(v)}`);
  return loose(v);
}

/** A boolean, sent as `1` or `0` (0 and 1 pass too). */
function bit(enc, strict, v, d, i) {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v === 0 || v === 1) return v === 1 ? '1' : '0';
  if (strict) fail(`${where(d, i)} must be a boolean or 0/1, got ${describeValue(v)}`);
  return loose(v);
}

/** A plain string, whatever the encoder. */
function text(enc, strict, v, d, i) {
  if (typeof v === 'string') return v;
  if (strict) fail(`${where(d, i)} must be a string, got ${typeName(v)}`);
  return loose(v);
}

const utf8 = new TextDecoder();

/** A `ZScoreBoundary` (`value`, `excludeBoundary`) or a number for an inclusive one. */
function scoreBound(enc, strict, v, d, i) {
  if (typeof v === 'number') return float(enc, strict, v, d, i);
  if (typeof v === 'object' && v !== null) {
    const bound = v.value;
    let spelled = bound;
    if (bound !== '-inf' && bound !== '+inf' && bound !== 'inf') {
      spelled = float(enc, strict, bound, `${where(d, i)}.value`);
      if (spelled instanceof Uint8Array) spelled = utf8.decode(spelled);
    }
    return v.excludeBoundary ? `(${spelled}` : spelled;
  }
  if (strict) fail(`${where(d, i)} must be a ZScoreBoundary or a number, got ${typeName(v)}`);
  return loose(v);
}

/** A string-typed argument of a generic command: native, or a number sent as its decimal text. */
function word(enc, strict, v, d, i) {
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : native(enc, strict, v, d, i);
}

// ------------------------------------------------------------------ shapes

const isIterable = (v) => typeof v === 'object' && v !== null && typeof v[Symbol.iterator] === 'function';
const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)
  && !(v instanceof Uint8Array) && !(v instanceof Map) && typeof v[Symbol.iterator] !== 'function';

/**
 * Any iterable, each item read by `read` into `line`. A lone string is
 * never meant as a list of characters: strict mode refuses it (and any
 * other non-iterable), relaxed mode reads it as a one-item list.
 */
function list(line, enc, strict, v, d, read) {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) line.push(read(enc, strict, v[i], d, i));
  } else if (isIterable(v)) {
    let i = 0;
    for (const item of v) line.push(read(enc, strict, item, d, i++));
  } else {
    if (strict) fail(`${d} must be an iterable (such as an Array), got ${typeName(v)}`);
    line.push(read(enc, strict, v, d));
  }
}

/** The `[key, value]` entries of a `Map`, an iterable of pairs or a plain object. */
function entries(v, d) {
  const notPairs = () => fail(`${d} must be a Map or a plain object, got ${typeName(v)}`);
  if (typeof v !== 'object' || v === null) notPairs();
  if (v instanceof Map) return v;
  if (isIterable(v)) {
    const items = [...v];
    for (const item of items) if (!Array.isArray(item) || item.length !== 2) notPairs();
    return items;
  }
  return Object.entries(v);
}

// ------------------------------------------------------------------ seed rows

/** Seed argument kinds: how one argument becomes line items. */
const ROW_KINDS = {
  Native: (line, enc, strict, v, d) => line.push(native(enc, strict, v, d)),
  NativeList: (line, enc, strict, v, d) => list(line, enc, strict, v, d, native),
  Int: (line, enc, strict, v, d) => line.push(int(enc, strict, v, d)),
  Float: (line, enc, strict, v, d) => line.push(float(enc, strict, v, d)),
  Bit: (line, enc, strict, v, d) => line.push(bit(enc, strict, v, d)),
  Text: (line, enc, strict, v, d) => line.push(text(enc, strict, v, d)),
  TextList: (line, enc, strict, v, d) => list(line, enc, strict, v, d, text),
  ScoreBound: (line, enc, strict, v, d) => line.push(scoreBound(enc, strict, v, d)),
  NativePairs(line, enc, strict, v, d) {
    for (const [field, value] of entries(v, d)) {
      line.push(native(enc, strict, field, d, ': a field'), native(enc, strict, value, d, ': a value'));
    }
  },
  ScorePairs(line, enc, strict, v, d) {
    for (const [member, score] of entries(v, d)) {
      line.push(float(enc, strict, score, d, ': a score'), native(enc, strict, member, d, ': a member'));
    }
  },
  FloatList: (line, enc, strict, v, d) => list(line, enc, strict, v, d, float),
  /** `numkeys key...`: the count, then the keys. */
  CountedNativeList(line, enc, strict, v, d) {
    const at = line.push('') - 1;
    list(line, enc, strict, v, d, native);
    line[at] = String(line.length - at - 1);
  },
};

/** The single-item kinds: their reader, for rows built without pushing. */
const SINGLE = { Native: native, Int: int, Float: float, Bit: bit, Text: text, ScoreBound: scoreBound };

const KIND_CODES = {
  N: 'Native', L: 'NativeList', I: 'Int', F: 'Float', B: 'Bit', T: 'Text', U: 'TextList',
  S: 'ScoreBound', P: 'NativePairs', Z: 'ScorePairs',
};

/**
 * One seed argument from its compact spelling: `name:K` (required),
 * `name:K=default` (sent when undefined), `name:K?` (left out when
 * undefined or null), or an object for the special kinds.
 */
function seedArg(method, spec) {
  let arg = spec;
  if (typeof spec === 'string') {
    const [, name, code, rest] = /^(\w+):(\w)(.*)$/.exec(spec);
    arg = { name, kind: KIND_CODES[code] };
    if (rest === '?') arg.default = null;
    else if (rest.startsWith('=')) arg.default = rest.slice(1);
  }
  return {
    ...arg,
    d: `${method}: argument '${arg.name}'`,
    send: typeof arg.default === 'string' ? arg.default : undefined,
    skip: arg.default === null,
    nullable: arg.default === null || arg.nullable === true,
    // A Choice is truthy or not: undefined is a value for it.
    readUndefined: arg.undefined === 'read' || arg.kind === 'Choice',
    emit: ROW_KINDS[arg.kind] ?? SPECIAL_KINDS[arg.kind](method, arg),
  };
}

/** Kinds of special.rs's methods, made from their options in the data. */
const SPECIAL_KINDS = {
  /** Truthy or not: one of two words (`linsert`'s BEFORE/AFTER, `shutdown`'s SAVE/NOSAVE). */
  Choice: (method, { words: [yes, no] }) => (line, enc, strict, v) => line.push(v ? yes : no),
  /** One of a few words, any case (`zinterstore`'s aggregate). */
  Oneof(method, { choices, expect }) {
    return (line, enc, strict, v, d) => {
      const choice = typeof v === 'string' ? v.toUpperCase() : '';
      if (!choices.includes(choice)) fail(`${d} must be ${expect}`);
      line.push(choice);
    };
  },
  /** An object of named options, each sent as its word (and value) in the object's key order (`set`). */
  Options(method, { options, extension, example }) {
    const known = new Map([...options, ...(extension?.options ?? [])].map((o) => [o[0], o]));
    const expected = [...known.keys()].join(', ');
    return (line, enc, strict, v) => {
      if (typeof v !== 'object') fail(`${method}: options must be an object such as ${example}`);
      for (const key of Object.keys(v)) {
        const value = v[key];
        if (value === undefined) continue;
        const option = known.get(key);
        if (!option) fail(`${method}: unknown option '${key}' (expected ${expected})`);
        const [, word, kind, reply] = option;
        if (kind === 'Int') {
          line.push(word, int(enc, strict, value, `${method}: option '${key}'`));
        } else if (typeof value !== 'boolean') {
          fail(`${method}: option '${key}' must be a boolean`);
        } else if (value) {
          line.push(word);
          if (reply) line.reply = reply;
        }
      }
    };
  },
};

/** What a single-item reader returns for an argument left out. */
const SKIP = Symbol('skip');

/** One single-item argument's reader, with its omission rule: (enc, strict, v) → item or SKIP. */
function argReader(arg) {
  const { d, send } = arg;
  const read = SINGLE[arg.kind];
  if (arg.readUndefined) return (enc, strict, v) => read(enc, strict, v, d);
  if (arg.skip) return (enc, strict, v) => (v === undefined || v === null ? SKIP : read(enc, strict, v, d));
  if (send !== undefined) return (enc, strict, v) => (v === undefined ? send : read(enc, strict, v, d));
  const required = `${d} is required`;
  return (enc, strict, v) => (v === undefined ? fail(required) : read(enc, strict, v, d));
}

/**
 * A row's line: its words, each argument (in `order` if given), then its
 * tail. The leading single-item arguments are read into a line allocated at
 * its final size (GET, SET, HSET...); list and pair arguments are pushed.
 */
function rowBuilder(words, args, tail, order) {
  const lead = order ? 0 : args.findIndex((arg) => !SINGLE[arg.kind] || arg.token);
  const fixed = lead < 0 ? args.length : lead;
  const readers = args.slice(0, fixed).map(argReader);
  const rest = (order ?? args.map((_, j) => j)).slice(fixed);
  const w = words.length;
  return (enc, strict, a) => {
    let line;
    if (fixed === 1 && w === 1) {
      const x = readers[0](enc, strict, a[0]);
      line = x === SKIP ? [words[0]] : [words[0], x];
    } else if (fixed === 2 && w === 1) {
      const x = readers[0](enc, strict, a[0]);
      const y = readers[1](enc, strict, a[1]);
      line = x === SKIP || y === SKIP ? [words[0], x, y].filter((item) => item !== SKIP) : [words[0], x, y];
    } else if (fixed === 3 && w === 1) {
      const x = readers[0](enc, strict, a[0]);
      const y = readers[1](enc, strict, a[1]);
      const z = readers[2](enc, strict, a[2]);
      line = x === SKIP || y === SKIP || z === SKIP ? [words[0], x, y, z].filter((item) => item !== SKIP) : [words[0], x, y, z];
    } else {
      line = new Array(w + fixed);
      for (let k = 0; k < w; k++) line[k] = words[k];
      let at = w;
      for (let j = 0; j < fixed; j++) {
        const x = readers[j](enc, strict, a[j]);
        if (x !== SKIP) line[at++] = x;
      }
      line.length = at;
    }
    for (let r = 0; r < rest.length; r++) {
      const j = rest[r];
      const arg = args[j];
      const v = a[j];
      if (!arg.readUndefined && (v === undefined || (v === null && arg.nullable))) {
        if (arg.send === undefined && !arg.skip) fail(`${arg.d} is required`);
        if (arg.send !== undefined) {
          if (arg.token) line.push(arg.token);
          line.push(arg.send);
        }
        continue;
      }
      if (arg.token) line.push(arg.token);
      arg.emit(line, enc, strict, v, arg.d);
    }
    for (let t = 0; t < tail.length; t++) line.push(tail[t]);
    return line;
  };
}

/** `call(name, ...args)`: numbers and big integers as their decimal text, anything else through the encoder. */
function callBuilder(enc, strict, a) {
  const line = new Array(a.length);
  line[0] = text(enc, strict, a[0], 'call: the command name');
  for (let i = 1; i < a.length; i++) {
    const v = a[i];
    line[i] = typeof v === 'number' || typeof v === 'bigint' ? String(v) : native(enc, strict, v, `call: argument ${i}`);
  }
  return line;
}

/** Beyond the seed: `hset(key, fields)` with a Map, plain object or pairs sets several fields. */
function pairsExtension(method, row) {
  const d = `${method}: argument 'fields'`;
  const [word] = row.words;
  return (enc, strict, a) => {
    const fields = a[1];
    if (a[2] !== undefined || typeof fields !== 'object' || fields === null || fields instanceof Uint8Array) {
      return row.build(enc, strict, a);
    }
    const line = [word, native(enc, strict, a[0], `${method}: argument 'key'`)];
    ROW_KINDS.NativePairs(line, enc, strict, fields, d);
    return line;
  };
}

/**
 * Beyond the seed: `zrange(key, start, stop, { sortby, rev, limit })`, the
 * options of Redis's own ZRANGE. `sortby: 'BYSCORE'` reads start/stop as
 * score boundaries (default: the whole range), `'BYLEX'` as lex ranges
 * (`'[a'`, `'-'`) and sends no WITHSCORES: the reply is then a list of
 * members, and `zrangeAsDict` refuses it.
 */
function zrangeExtension(method, row, nodes) {
  const [word] = row.words;
  const [key, start, stop] = row.args;
  const members = row.reply === 'ZRange' ? 'List' : null;
  const options = optionsOf(method, nodes);
  return (enc, strict, a) => {
    const opts = a[3];
    if (opts === undefined || opts === null) return row.build(enc, strict, a);
    options.check(opts);
    const sortby = typeof opts.sortby === 'string' ? opts.sortby.toUpperCase() : null;
    let read = int;
    let bounds = [start.send, stop.send];
    if (sortby === 'BYSCORE') {
      read = scoreBound;
      bounds = opts.rev ? ['+inf', '-inf'] : ['-inf', '+inf'];
    } else if (sortby === 'BYLEX') {
      if (!members) fail(`${method}: sortby 'BYLEX' gives no scores: use zrange`);
      read = native;
      bounds = opts.rev ? ['+', '-'] : ['-', '+'];
    }
    if (a[0] === undefined) fail(`${key.d} is required`);
    const line = [word, native(enc, strict, a[0], key.d),
      a[1] === undefined ? bounds[0] : read(enc, strict, a[1], start.d),
      a[2] === undefined ? bounds[1] : read(enc, strict, a[2], stop.d)];
    for (let j = 0; j < nodes.length; j++) emitKey(line, enc, strict, nodes[j], opts, options.names[j], options.objD);
    if (sortby === 'BYLEX') line.reply = members;
    else line.push(...row.tail);
    return line;
  };
}

/**
 * The descriptor of a seed method: `args` is a space-separated string of
 * compact arguments or an Array of them (objects for the special kinds).
 */
export function seed(name, cmd, reply, words, args = '', tail = '', ext = undefined) {
  if (ext?.build === 'call') return { name, cmd, reply, build: callBuilder };
  const parsed = (typeof args === 'string' ? args.split(' ').filter(Boolean) : args).map((a) => seedArg(name, a));
  const row = { words: words.split(' '), args: parsed, tail: tail ? tail.split(' ') : [], reply };
  row.build = rowBuilder(row.words, parsed, row.tail, ext?.order);
  let build = row.build;
  if (ext?.extension === 'pairs') build = pairsExtension(name, row);
  if (ext?.extension === 'zrange') build = zrangeExtension(name, row, ext.options.map(node));
  return { name, cmd, reply, build };
}

// ------------------------------------------------------------------ generic commands
//
// A node of Redis's argument tree, from commands.js's compact arrays
// `[type, key, token, flags, children]` (see client-wasm/gen/shape.mjs's
// `compact`): type k key, s string, p pattern,
// i integer, t unix-time, d double, T pure-token, b block, o oneof,
// q a repeated block of two (pairs: MSET's key value), x a block of two
// repeated arguments (XREAD's STREAMS key... id...), n a count of the next
// argument's items (numkeys); `key` names it in JS.

const OPTIONAL = 1;
const MULTIPLE = 2;
const MULTIPLE_TOKEN = 4;
const POSITIONAL = 8;
const FLAT = 16;
const VALUE_TYPES = 'kspitd';

/** A JS name from a Redis word: `NO-EVICT` → `noEvict`. */
const camel = (word) => word.toLowerCase().replace(/[^a-z0-9]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''));

function node([t, k, token = '', f = 0, children = []]) {
  // A oneof of pure tokens only comes as one string: 'LEFT|RIGHT'.
  if (typeof children === 'string') children = children.split('|').map((word) => ['T', 0, word]);
  const n = {
    t, k: k === 0 ? camel(token) : k, token, optional: (f & OPTIONAL) !== 0, multiple: (f & MULTIPLE) !== 0,
    perItem: (f & MULTIPLE_TOKEN) !== 0, positional: (f & POSITIONAL) !== 0,
    // A flat oneof's alternatives are keys of its object (`getex(k, { ex: 10 })`).
    flat: (f & FLAT) !== 0, children: children.map(node),
  };
  if (t === 'o') {
    // Its token alternatives by their word in upper case.
    n.words = new Map(n.children.filter((c) => c.t === 'T').map((c) => [c.token.toUpperCase(), c.token]));
    n.allTokens = n.children.every((c) => c.t === 'T');
    const plain = n.children.filter((c) => VALUE_TYPES.includes(c.t));
    n.bare = plain.length === 1 ? plain[0] : null;
  }
  if (t === 'b') {
    n.known = keysOf(n.children);
    n.allOptional = n.children.every((c) => c.optional);
  }
  // The one item of a repeated node (its token, if repeated, with it).
  if (n.multiple && t !== 'q') n.item = { ...n, multiple: false, token: n.perItem ? token : '' };
  if (t === 'x') n.items = n.children.map((c) => ({ ...c, multiple: false, item: undefined }));
  return n;
}

/** The keys an object of these nodes may have. */
function keysOf(nodes) {
  return new Set(nodes.flatMap((n) => (n.flat ? n.children.map((c) => c.k) : [n.k])));
}

/** Whether a value counts as given: `undefined`, `null` and a `false` pure token do not. */
const given = (n, v) => v !== undefined && v !== null && !(n.t === 'T' && v === false);

/**
 * One node of an object (an options object, a block's object) from `v`:
 * `d` names it in messages (`objD.key` when null); a flat oneof takes
 * whichever of its alternatives' keys is given, and refuses two.
 */
function emitKey(line, enc, strict, n, v, d, objD) {
  if (n.flat) {
    let chosen = null;
    for (const alt of n.children) {
      if (!given(alt, v[alt.k])) continue;
      if (chosen) fail(`${objD} '${chosen.k}' and '${alt.k}' exclude each other`);
      chosen = alt;
    }
    if (!chosen) return;
    if (n.token) line.push(n.token);
    emit(line, enc, strict, chosen, v[chosen.k], d?.[chosen.k] ?? `${objD}.${chosen.k}`);
    return;
  }
  const value = v[n.k];
  if (given(n, value)) emit(line, enc, strict, n, value, d ?? `${objD}.${n.k}`);
  else if (!n.optional) fail(`${d ?? `${objD}.${n.k}`} is required`);
}

/** Describes for an object's nodes: `base.key` (for a flat oneof, one per alternative). */
function describes(nodes, name) {
  return nodes.map((n) => (n.flat ? Object.fromEntries(n.children.map((c) => [c.k, name(c.k)])) : name(n.k)));
}

function checkKeys(v, known, unknown) {
  for (const key of Object.keys(v)) {
    if (!known.has(key)) fail(`${unknown} '${key}' (expected ${[...known].join(', ')})`);
  }
}

/**
 * One node's items for the given value `v`; `d` (with item index `i`)
 * names it in messages.
 */
function emit(line, enc, strict, n, v, d, i) {
  if (n.item) {
    if (n.token && !n.perItem) line.push(n.token);
    const item = n.item;
    if (Array.isArray(v)) {
      for (let j = 0; j < v.length; j++) emit(line, enc, strict, item, v[j], d, j);
    } else if (isIterable(v)) {
      let j = 0;
      for (const value of v) emit(line, enc, strict, item, value, d, j++);
    } else {
      if (strict) fail(`${where(d, i)} must be an iterable (such as an Array), got ${typeName(v)}`);
      emit(line, enc, strict, item, v, d, i);
    }
    return;
  }
  switch (n.t) {
    case 'k': case 's': case 'p':
      if (n.token) line.push(n.token);
      line.push(word(enc, strict, v, d, i));
      return;
    case 'i': case 't':
      if (n.token) line.push(n.token);
      line.push(int(enc, strict, v, d, i));
      return;
    case 'd':
      if (n.token) line.push(n.token);
      line.push(float(enc, strict, v, d, i));
      return;
    case 'T':
      if (typeof v !== 'boolean' && strict) fail(`${where(d, i)} must be a boolean, got ${typeName(v)}`);
      if (v) line.push(n.token);
      return;
    case 'b':
      emitBlock(line, enc, strict, n, v, where(d, i));
      return;
    case 'o':
      emitOneof(line, enc, strict, n, v, where(d, i));
      return;
    case 'q':
      emitPairs(line, enc, strict, n, v, where(d, i));
      return;
    case 'x': {
      // All the first halves, then all the second halves.
      if (n.token) line.push(n.token);
      const pairs = [...pairEntries(n, v, where(d, i))];
      const [first, second] = n.items;
      for (let j = 0; j < pairs.length; j++) emit(line, enc, strict, first, pairs[j][0], d, j);
      for (let j = 0; j < pairs.length; j++) emit(line, enc, strict, second, pairs[j][1], d, j);
      return;
    }
    default:
      throw new Error(`args.js: unknown argument type ${n.t}`);
  }
}

/**
 * A block: an object of its arguments, an Array of them in order, `true`
 * when all of them are optional, or, for a block of one argument, that
 * argument's value.
 */
function emitBlock(line, enc, strict, n, v, d) {
  if (n.token) line.push(n.token);
  const kids = n.children;
  if (v === true && n.allOptional) return;
  if (kids.length === 1 && !(isPlainObject(v) && kids[0].k in v)) {
    emit(line, enc, strict, kids[0], v, d);
    return;
  }
  if (Array.isArray(v)) {
    for (let j = 0; j < kids.length; j++) {
      if (given(kids[j], v[j])) emit(line, enc, strict, kids[j], v[j], d, j);
      else if (!kids[j].optional) fail(`${d}[${j}] is required`);
    }
    return;
  }
  if (!isPlainObject(v)) fail(`${d} must be an object or an Array, got ${typeName(v)}`);
  checkKeys(v, n.known, `${d} has no key`);
  for (let j = 0; j < kids.length; j++) emitKey(line, enc, strict, kids[j], v, null, d);
}

/**
 * A oneof: a token alternative's word (any case), an object with one key
 * naming the alternative, or, when one alternative alone is a plain value,
 * that value.
 */
function emitOneof(line, enc, strict, n, v, d) {
  if (n.token) line.push(n.token);
  if (typeof v === 'string') {
    const token = n.words.get(v) ?? n.words.get(v.toUpperCase());
    if (token !== undefined) {
      line.push(token);
      return;
    }
  }
  if (!n.allTokens) {
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      const alt = keys.length === 1 && n.children.find((c) => c.k === keys[0]);
      if (alt) {
        emit(line, enc, strict, alt, v[keys[0]], `${d}.${alt.k}`);
        return;
      }
    }
    if (n.bare) {
      emit(line, enc, strict, n.bare, v, d);
      return;
    }
  }
  const choices = n.children.map((c) => (c.t === 'T' ? `'${c.token}'` : `{ ${c.k}: … }`)).join(', ');
  fail(`${d} must be one of ${choices}${typeof v === 'string' ? '' : `, got ${typeName(v)}`}`);
}

/** Pairs: a Map, a plain object, or an iterable of `[a, b]` Arrays or of objects. */
function* pairEntries(n, v, d) {
  const [first, second] = n.children;
  if (v instanceof Map) {
    yield* v;
  } else if (isIterable(v)) {
    for (const item of v) {
      if (Array.isArray(item) && item.length === 2) yield item;
      else if (isPlainObject(item)) yield [item[first.k], item[second.k]];
      else fail(`${d} must be a Map, a plain object or pairs, got ${typeName(item)} in it`);
    }
  } else if (isPlainObject(v)) {
    yield* Object.entries(v);
  } else {
    fail(`${d} must be a Map, a plain object or pairs, got ${typeName(v)}`);
  }
}

function emitPairs(line, enc, strict, n, v, d) {
  if (n.token && !n.perItem) line.push(n.token);
  const [first, second] = n.children;
  let j = 0;
  for (const [a, b] of pairEntries(n, v, d)) {
    if (n.perItem) line.push(n.token);
    if (a === undefined || b === undefined) fail(`${d}[${j}] is not a pair`);
    emit(line, enc, strict, first, a, d, j);
    emit(line, enc, strict, second, b, d, j++);
  }
}

/** A trailing options object of these nodes: its check, and its nodes' names in messages. */
function optionsOf(method, nodes) {
  const known = keysOf(nodes);
  const names = describes(nodes, (k) => `${method}: option '${k}'`);
  const check = (opts) => {
    if (typeof opts !== 'object' || Array.isArray(opts)) fail(`${method}: options must be an object, got ${typeName(opts)}`);
    checkKeys(opts, known, `${method}: unknown option`);
  };
  return { names, check, objD: `${method}: options` };
}

/**
 * The builder of a generic command: required arguments positional in
 * Redis's order, optional ones in one trailing options object; the line
 * follows Redis's order.
 */
function compileGeneric(method, words, specs) {
  const nodes = specs.map(node);
  const steps = [];
  const optional = [];
  let positional = 0;
  for (let j = 0; j < nodes.length; j++) {
    const n = nodes[j];
    if (n.t === 'n') {
      // numkeys: the count of the next argument's items, always positional.
      const counted = nodes[++j];
      steps.push({ at: positional++, d: `${method}: argument '${counted.k}'`, counted });
    } else if (n.t === 'T' && !n.optional) {
      steps.push({ fixed: n.token });
    } else if (n.optional && !n.positional) {
      steps.push({ option: optional.push(n) - 1, n });
    } else {
      steps.push({ n, at: positional++, d: `${method}: argument '${n.k}'` });
    }
  }
  const options = optionsOf(method, optional);
  const most = positional + (optional.length ? 1 : 0);
  return (enc, strict, a) => {
    if (a.length > most) fail(`${method}: takes at most ${most} argument${most === 1 ? '' : 's'}, got ${a.length}`);
    let opts = optional.length ? a[positional] : undefined;
    if (opts === null) opts = undefined;
    if (opts !== undefined) options.check(opts);
    const line = words.slice();
    for (const step of steps) {
      if (step.fixed !== undefined) {
        line.push(step.fixed);
      } else if (step.option !== undefined) {
        if (opts !== undefined) emitKey(line, enc, strict, step.n, opts, options.names[step.option], options.objD);
      } else if (step.counted) {
        const at = line.push('') - 1;
        const v = a[step.at];
        if (v !== undefined && v !== null) emit(line, enc, strict, step.counted, v, step.d);
        else if (!step.counted.optional) fail(`${step.d} is required`);
        line[at] = String(line.length - at - 1);
      } else {
        const v = a[step.at];
        if (given(step.n, v)) emit(line, enc, strict, step.n, v, step.d);
        else if (!step.n.optional) fail(`${step.d} is required`);
      }
    }
    return line;
  };
}

/**
 * The descriptor of a generic command, named by its words (`CLIENT
 * NO-EVICT` → `clientNoEvict`); its builder is compiled on first use.
 * `api` marks a command whose method the stateful layer writes by hand
 * (`multi`, `subscribe`, `scan`...): its descriptor is there for that layer.
 */
export function generic(cmd, words, specs, api) {
  const name = camel(words);
  let build = (enc, strict, a) => {
    build = compileGeneric(name, words.split(' '), specs);
    return build(enc, strict, a);
  };
  const method = { name, cmd, reply: 'Plain', build: (enc, strict, a) => build(enc, strict, a) };
  if (api) method.api = true;
  return method;
}

/** A command documented without arguments that takes some (`debug(...args)`): arguments as `call()` takes them. */
export function variadic(cmd, words) {
  const name = camel(words);
  const prefix = words.split(' ');
  return {
    name,
    cmd,
    reply: 'Plain',
    build(enc, strict, a) {
      const line = prefix.slice();
      for (let i = 0; i < a.length; i++) line.push(word(enc, strict, a[i], `${name}: argument ${i + 1}`));
      return line;
    },
  };
}

/** A container command (`client(subcommand, ...args)`): any subcommand, arguments as `call()` takes them. */
export function container(cmd, command) {
  const name = camel(command);
  const d = `${name}: argument 'subcommand'`;
  return {
    name,
    cmd,
    reply: 'Plain',
    build(enc, strict, a) {
      if (a[0] === undefined) fail(`${d} is required`);
      const line = new Array(a.length + 1);
      line[0] = command;
      line[1] = text(enc, strict, a[0], d);
      for (let i = 1; i < a.length; i++) line[i + 1] = word(enc, strict, a[i], `${name}: argument ${i + 1}`);
      return line;
    },
  };
}
