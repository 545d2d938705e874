// Renders client-wasm/js/methods.d.ts: the TypeScript declaration of every
// method, from the same data as the JS descriptors (commands/seed.json for
// the seed's methods, the normalized argument trees of shape.mjs for every
// other command), with the summaries of COMMAND DOCS. `N` is the
// connection's native type.
import { camel, isFlat } from './shape.mjs';

/** Seed argument kinds → parameter types (what js/args.js accepts in strict mode). */
const ARG_TYPES = {
  Native: 'N',
  NativeList: 'Many<N>',
  Int: 'Int',
  Float: 'number',
  Bit: 'boolean | 0 | 1',
  Text: 'string',
  TextList: 'Many<string>',
  ScoreBound: 'ZScoreBoundary | number',
  NativePairs: 'Pairs<N, N>',
  ScorePairs: 'Pairs<N, number>',
  CountedNativeList: 'Many<N>',
  FloatList: 'Many<number>',
  Choice: 'boolean',
};

/**
 * Reply kinds → what the Promise resolves to; `item` is the element type of
 * list and set replies, `key`/`value` those of dict replies.
 */
const REPLY_TYPES = {
  Status: () => 'StatusReply',
  StatusOrNull: () => 'StatusReply | null',
  Unit: () => 'void',
  Native: () => 'N | null',
  NativeOrTimeout: () => 'N',
  Text: () => 'string',
  Integer: () => 'Int',
  IntegerOrNull: () => 'Int | null',
  Boolean: () => 'boolean',
  Float: () => 'number',
  FloatOrNull: () => 'number | null',
  Plain: () => 'RedisValue<N>',
  List: ({ item }) => `ListReply<${item}>`,
  Set: ({ item }) => `SetReply<${item}>`,
  Dict: ({ key, value }) => `DictReply<${key}, ${value}>`,
  ZRange: () => 'ZRangeReply<N>',
  AsList: ({ item }) => `${/[ |]/.test(item) ? `(${item})` : item}[]`,
  AsSet: ({ item }) => `Set<${item}>`,
  AsDict: ({ key, value }) => `Map<${key}, ${value}>`,
  ZRangeAsDict: () => 'Map<N, number>',
  BooleanList: () => 'boolean[]',
  ConfigPair: () => 'ConfigPairReply',
  Info: () => 'InfoReply',
  ClientList: () => 'ClientListReply',
  BlockingPop: () => 'BlockingPopReply<N>',
  EvalScript: () => 'EvalScriptReply<N>',
};

/** What the reply kinds cannot say: which commands answer nil items or integer values. */
const ITEM_TYPES = {
  MGET: { item: 'N | null' },
  HMGET: { item: 'N | null' },
  'PUBSUB NUMSUB': { value: 'Int' },
};

const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends '
  + 'false finally for function if import in instanceof new null return super switch this throw true try typeof var '
  + 'void while with yield let static implements interface package private protected public await').split(' '));

const param = (name) => (RESERVED.has(name) ? `${name}_` : name);
const property = (name) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));
const pascal = (name) => name[0].toUpperCase() + name.slice(1);
const doc = (lines, indent = '  ') => [`${indent}/**`, ...lines.map((l) => `${indent} * ${l.replaceAll('*/', '*\\/')}`.trimEnd()), `${indent} */`];

// ------------------------------------------------------------------ generic shapes

const single = (n) => ({ ...n, multiple: false });
const words = (alts) => `Word<${alts.map((a) => JSON.stringify(a.token)).join(' | ')}>`;

/** The TypeScript type of a value for node `n` (see js/args.js for the rule). */
function valueType(n) {
  if (n.multiple && n.t !== 'q') return `Many<${valueType(single(n))}>`;
  switch (n.t) {
    case 'k': case 's': case 'p': return 'Arg<N>';
    case 'i': case 't': return 'Int';
    case 'd': return 'number';
    case 'T': return 'boolean';
    case 'o': return oneofType(n);
    case 'b': return blockType(n);
    case 'q': {
      const [first, second] = n.children;
      const key = 'kps'.includes(first.t) ? 'N' : valueType(first);
      return `Pairs<${key}, ${valueType(second)}> | Many<${objectType(n.children)}>`;
    }
    case 'x': return `Pairs<N, ${valueType(single(n.children[1]))}>`;
    default: throw new Error(`ts-types: no type for node ${n.t}`);
  }
}

function oneofType(n) {
  const tokens = n.children.filter((c) => c.t === 'T');
  const valued = n.children.filter((c) => c.t !== 'T');
  const parts = tokens.length ? [words(tokens)] : [];
  for (const alt of valued) parts.push(`{ ${property(alt.k)}: ${valueType(alt)} }`);
  const plain = valued.filter((c) => 'kspitd'.includes(c.t));
  if (plain.length === 1) parts.push(valueType(plain[0]));
  return parts.join(' | ');
}

/** `{ a: A; b?: B }`: a flat oneof's alternatives are optional keys of the object. */
function objectType(nodes) {
  const fields = nodes.flatMap((n) => (isFlat(n)
    ? n.children.map((alt) => `${property(alt.k)}?: ${valueType(alt)}`)
    : [`${property(n.k)}${n.optional ? '?' : ''}: ${valueType(n)}`]));
  return `{ ${fields.join('; ')} }`;
}

function blockType(n) {
  const kids = n.children;
  const parts = [];
  if (kids.length === 1) {
    parts.push(valueType(kids[0]), objectType(kids));
  } else {
    parts.push(objectType(kids));
    const lastRequired = kids.findLastIndex((c) => !c.optional);
    const items = kids.map((c, j) => (c.optional && j > lastRequired ? `${param(camel(c.k))}?: ${valueType(c)}`
      : `${param(camel(c.k))}: ${valueType(c)}${c.optional ? ' | undefined' : ''}`));
    parts.push(`[${items.join(', ')}]`);
  }
  if (kids.every((c) => c.optional)) parts.push('true');
  return parts.join(' | ');
}

/** Redis's own synopsis of an argument list: `key [NOMKSTREAM] [MAXLEN|MINID ...]`. */
function synopsis(args) {
  const one = (a) => {
    const flags = a.flags ?? [];
    let inner = a.name;
    if (a.type === 'pure-token') inner = a.token || '""';
    else if (a.type === 'block') inner = synopsis(a.arguments);
    else if (a.type === 'oneof') inner = a.arguments.map(one).join(' | ');
    if (a.token && a.type !== 'pure-token') inner = `${a.token} ${inner}`;
    if (a.type === 'oneof' && !flags.includes('optional')) inner = `<${inner}>`;
    if (flags.includes('multiple')) inner = `${inner} [${flags.includes('multiple_token') ? inner : a.name} ...]`;
    return flags.includes('optional') ? `[${inner}]` : inner;
  };
  return (args ?? []).map(one).join(' ');
}

function entryDoc(entry) {
  const { info } = entry;
  const lines = [];
  if (info.summary) lines.push(info.summary.replace(/\s+$/, '') + (/[.!?]$/.test(info.summary.trim()) ? '' : '.'));
  lines.push(`Redis: \`${[entry.name.replace('|', ' '), synopsis(info.arguments)].filter(Boolean).join(' ')}\``
    + (info.since ? ` (since ${info.since})` : ''));
  if (info.deprecated_since) {
    lines.push(`@deprecated since Redis ${info.deprecated_since}${info.replaced_by ? `: ${info.replaced_by.replace(/\s+/g, ' ')}` : ''}`);
  }
  return lines;
}

function genericDeclaration(method, optionTypes) {
  const { entry, name } = method;
  if (method.container) {
    return [...doc([...entryDoc(entry), `Any subcommand of \`${entry.name}\`, its arguments as \`call()\` takes them.`]),
      `  ${name}(subcommand: string, ...args: Arg<N>[]): Promise<RedisValue<N>>;`];
  }
  if (method.variadic) {
    return [...doc([...entryDoc(entry), 'Its arguments are not documented: any, as `call()` takes them.']),
      `  ${name}(...args: Arg<N>[]): Promise<RedisValue<N>>;`];
  }
  const { positional, options } = method.shape;
  const params = positional.map((n, j) => {
    const type = valueType(n);
    if (!n.optional) return `${param(n.k)}: ${type}`;
    const laterRequired = positional.slice(j + 1).some((m) => !m.optional);
    return laterRequired ? `${param(n.k)}: ${type} | null | undefined` : `${param(n.k)}?: ${type} | null`;
  });
  if (options.length) {
    const type = `${pascal(name)}Options`;
    optionTypes.push([...doc([`The options of \`${name}\` (Redis \`${entry.name.replace('|', ' ')}\`).`], ''),
      `export interface ${type}<N = string> {`,
      ...options.flatMap((n) => (isFlat(n) ? n.children : [n]).map((m) => `  ${property(m.k)}?: ${valueType(m)};`)),
      '}'].join('\n'));
    params.push(`options?: ${type}<N> | null`);
  }
  return [...doc(entryDoc(entry)), `  ${name}(${params.join(', ')}): Promise<RedisValue<N>>;`];
}

// ------------------------------------------------------------------ seed methods

function seedArgInfo(arg) {
  if (Array.isArray(arg)) {
    const [name, kind, fallback] = arg;
    return { name, kind, optional: fallback !== undefined, nullable: fallback === null, fallback };
  }
  const optional = arg.default !== undefined || arg.kind === 'Choice';
  return { name: arg.name, kind: arg.kind, optional, nullable: arg.default === null || arg.nullable === true, fallback: arg.default, arg };
}

function seedType(info) {
  if (info.kind === 'Options') return 'SetOptions';
  if (info.kind === 'Oneof') return `Word<${info.arg.choices.map((c) => JSON.stringify(c)).join(' | ')}>`;
  const type = ARG_TYPES[info.kind];
  if (!type) throw new Error(`ts-types: seed argument kind ${info.kind} has no TypeScript type`);
  return type;
}

function seedParams(args) {
  return args.map((info, j) => {
    const type = seedType(info) + (info.nullable ? ' | null' : '');
    if (!info.optional) return `${param(info.name)}: ${type}`;
    return args.slice(j + 1).some((a) => !a.optional) ? `${param(info.name)}: ${type} | undefined` : `${param(info.name)}?: ${type}`;
  });
}

/** `BITCOUNT key [start=0] [end=-1]`: what a seed method sends. */
function seedSynopsis(row, args) {
  const spelled = args.map((a) => {
    const name = ['NativeList', 'TextList', 'CountedNativeList', 'FloatList'].includes(a.kind) ? `${a.name}…`
      : ['NativePairs', 'ScorePairs'].includes(a.kind) ? `(${a.name})…` : a.name;
    if (!a.optional) return name;
    return typeof a.fallback === 'string' ? `[${name}=${a.fallback === '' ? '""' : a.fallback}]` : `[${name}]`;
  });
  return [...row.words, ...spelled, ...(row.tail ?? [])].join(' ');
}

function seedDeclaration(method, zrangeOptions) {
  const row = method.seed;
  if (row.build === 'call') {
    return [...doc([row.doc, 'Numbers and bigints are sent as their decimal text, other arguments through the encoder.']),
      '  call(name: string, ...args: Arg<N>[]): Promise<RedisValue<N>>;'];
  }
  const args = row.args.map(seedArgInfo);
  const shape = { item: 'N', key: 'N', value: 'N', ...ITEM_TYPES[row.words.join(' ')] };
  const returns = REPLY_TYPES[row.reply]?.(shape);
  if (!returns) throw new Error(`ts-types: ${row.method}: reply kind ${row.reply} has no TypeScript type`);
  const lines = doc([row.doc, `Redis: \`${seedSynopsis(row, args)}\``]);
  const params = seedParams(args);
  const sig = (ps, result) => `  ${row.method}(${ps.join(', ')}): Promise<${result}>;`;
  if (row.method === 'set') lines.push(sig([...params.slice(0, 2), 'options: SetOptions & { get: true }'], 'N | null'));
  if (row.extension === 'pairs') lines.push(sig([params[0], 'fields: Pairs<N, N>'], returns));
  if (row.extension === 'zrange') {
    // By rank (the seed's form, with options), by score, by lex (members only), or any.
    const [key] = params;
    const bounds = (type) => [`start?: ${type}`, `stop?: ${type}`];
    const sortby = row.reply === 'ZRange' ? zrangeOptions : `Omit<${zrangeOptions}, 'sortby'> & { sortby?: Word<'BYSCORE'> }`;
    lines.push(sig([key, ...bounds('Int'), `options?: ${zrangeOptions} & { sortby?: undefined } | null`], returns));
    lines.push(sig([key, ...bounds('ZScoreBoundary | number'), `options?: ${zrangeOptions} & { sortby: Word<'BYSCORE'> }`], returns));
    if (row.reply === 'ZRange') {
      lines.push(sig([key, ...bounds('N'), `options?: ${zrangeOptions} & { sortby: Word<'BYLEX'> }`], 'ListReply<N>'));
      lines.push(sig([key, ...bounds('Int | ZScoreBoundary | N'), `options?: ${sortby} | null`], `${returns} | ListReply<N>`));
    } else {
      lines.push(sig([key, ...bounds('Int | ZScoreBoundary'), `options?: ${sortby} | null`], returns));
    }
    return lines;
  }
  lines.push(sig(params, returns));
  return lines;
}

export function renderTypes({ version }, methods) {
  const optionTypes = [];
  const zrange = methods.find((m) => m.seed?.extension === 'zrange');
  const zrangeOptions = 'ZRangeOptions';
  const zrangeNodes = zrange?.options ?? [];
  optionTypes.push([...doc(['The options `zrange` and `zrangeAsDict` take beyond the seed (those of Redis `ZRANGE`).'], ''),
    `export interface ${zrangeOptions} {`,
    ...zrangeNodes.map((n) => `  ${property(n.k)}?: ${valueType(n)};`),
    '}'].join('\n'));
  const seedLines = [];
  const genericLines = [];
  for (const method of methods) {
    if (method.seed) seedLines.push(...seedDeclaration(method, zrangeOptions));
    // The stateful layer's own methods (multi, subscribe, scan...) are declared by hand in index.d.ts.
    else if (!method.api) genericLines.push(...genericDeclaration(method, optionTypes));
  }
  return `// GENERATED by client-wasm/gen/generate.mjs from redis ${version}'s COMMAND DOCS
// and commands/seed.json: do not edit.
import type {
  Arg, BlockingPopReply, ClientListReply, ConfigPairReply, DictReply, EvalScriptReply, InfoReply, Int, ListReply,
  Many, Pairs, RedisValue, SetOptions, SetReply, StatusReply, Word, ZRangeReply, ZScoreBoundary,
} from './index.js';

/**
 * Every command method of the seed's \`RedisProtocol\`, on \`Connection\`,
 * \`Pool\` and \`Transaction\`. Every one returns a Promise, and every failure
 * is a rejection: \`TypeError\` for a wrong argument (before anything is
 * sent), \`ErrorReply\` for an error reply, \`NotConnectedError\` when there is
 * no connection.
 */
export interface Commands<N> {
${seedLines.join('\n')}
}

/**
 * A method for every other command of Redis ${version}, named and shaped by
 * the rule of docs/USAGE.md: the command in lower case, a subcommand
 * appended in camelCase; required arguments positional in Redis's order,
 * optional ones in one trailing options object. Each resolves to the plain
 * decoding of the reply, as \`call()\` does.
 */
export interface RedisCommands<N> {
${genericLines.join('\n')}
}

${optionTypes.join('\n\n')}
`;
}
