// Generates the command-method part of the package's TypeScript types from
// the Rust command table, so the table stays the one source of truth.
//
// It reads the `command_rows!` rows of src/commands/mod.rs,
//   method [as "jsName"] => ["WORDS", ...] (arg: Kind [= "default" | = omit], ...) [["TAIL"]] -> Reply;
// with the `///` doc lines above each row, and prints one method
// declaration per row for the `Commands<N>` interface of js/index.d.ts
// (`N` is the connection's native type: string, Uint8Array, or a custom
// encoder's). The enums `ArgKind` and `ReplyKind` of src/core/command.rs are
// read too: a kind added there without a TypeScript mapping here fails the
// build instead of being typed `any`.
//
//   node client-wasm/gen-types.mjs        prints the generated declarations
//
// finish-pkg.mjs calls `commandDeclarations()` when it assembles pkg/index.d.ts.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SRC = new URL('./src/', import.meta.url);

/** ArgKind → the TypeScript type of the parameter (see `ArgReader::arg` in src/js/convert.rs). */
export const ARG_TYPES = {
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
};

/**
 * ReplyKind → the type the Promise resolves to (see `convert::reply` in
 * src/js/convert.rs). `item` is the element type of list and set replies,
 * `key`/`value` those of dict replies (from `ITEM_TYPES` below).
 */
export const REPLY_TYPES = {
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
  // Pages of the scan cursors: never a table row (see src/js/cursor.rs).
};

/**
 * What the table's reply kinds cannot say: which Redis commands answer nil
 * items or integer values inside their containers. Keyed by the command
 * words; anything else holds native values.
 */
const ITEM_TYPES = {
  MGET: { item: 'N | null' },
  HMGET: { item: 'N | null' },
  'PUBSUB NUMSUB': { value: 'Int' },
};

/** The variant names of `pub enum NAME` in a Rust source. */
function enumVariants(source, name) {
  const body = new RegExp(`pub enum ${name} \\{([\\s\\S]*?)\\n\\}`).exec(source)?.[1];
  if (!body) throw new Error(`gen-types: enum ${name} not found in src/core/command.rs`);
  return [...body.matchAll(/^\s+([A-Z]\w*)\s*[,({]/gm)].map(([, variant]) => variant);
}

function checkMapping(what, variants, mapping) {
  const missing = variants.filter((v) => !(v in mapping));
  const stale = Object.keys(mapping).filter((k) => !variants.includes(k));
  if (missing.length || stale.length) {
    throw new Error(`gen-types: ${what} has no TypeScript mapping for [${missing}] and maps unknown [${stale}]; update client-wasm/gen-types.mjs`);
  }
}

const ROW = /^(r#)?(\w+)(?:\s+as\s+"(\w+)")?\s*=>\s*\[([^\]]*)\]\s*\(([^)]*)\)\s*(?:\[([^\]]*)\])?\s*->\s*(\w+);$/;
const strings = (list) => [...(list ?? '').matchAll(/"([^"]*)"/g)].map(([, s]) => s);

/** The rows of `command_rows!`, each `{ name, words, args, tail, reply, doc, section }`. */
export function parseRows(modRs) {
  const start = modRs.indexOf('macro_rules! command_rows');
  const end = modRs.indexOf('command_rows!(command_table)');
  if (start < 0 || end < start) throw new Error('gen-types: command_rows! not found in src/commands/mod.rs');
  const lines = modRs.slice(start, end).split('\n').map((line) => line.trim());
  const body = lines.slice(lines.findIndex((line) => line.startsWith('$expand!')) + 1);
  const rows = [];
  let doc = [];
  let section = '';
  for (const line of body) {
    if (line.startsWith('///')) {
      doc.push(line.replace(/^\/\/\/ ?/, ''));
    } else if (line.startsWith('//')) {
      section = line.replace(/^\/\/ ?/, '');
      doc = [];
    } else if (line.includes('=>')) {
      const match = ROW.exec(line);
      if (!match) throw new Error(`gen-types: cannot read this command row: ${line}`);
      const [, , rustName, jsName, words, argList, tail, reply] = match;
      const args = argList.split(',').map((a) => a.trim()).filter(Boolean).map((arg) => {
        const parts = /^(\w+):\s*(\w+)(?:\s*=\s*(omit|"[^"]*"))?$/.exec(arg);
        if (!parts) throw new Error(`gen-types: cannot read argument '${arg}' of ${rustName}`);
        const [, name, kind, fallback] = parts;
        const omit = fallback === 'omit';
        return { name, kind, optional: fallback !== undefined, omit, default: omit ? undefined : fallback && JSON.parse(fallback) };
      });
      rows.push({ name: jsName ?? rustName, words: strings(words), args, tail: strings(tail), reply, doc, section });
      doc = [];
    }
  }
  if (rows.length === 0) throw new Error('gen-types: no command rows found');
  return rows;
}

/** The TypeScript parameter list of a row: optional from the first defaulted argument on. */
function parameters(row) {
  return row.args.map((arg, index) => {
    const type = ARG_TYPES[arg.kind];
    // An argument `= omit` is also skipped when it is `null`.
    const full = arg.omit ? `${type} | null` : type;
    const laterRequired = row.args.slice(index + 1).some((a) => !a.optional);
    if (!arg.optional) return `${arg.name}: ${type}`;
    return laterRequired ? `${arg.name}: ${full} | undefined` : `${arg.name}?: ${full}`;
  }).join(', ');
}

/** `BITCOUNT key [start=0] [end=-1]`: what a row sends, for its doc comment. */
function synopsis(row) {
  const args = row.args.map((arg) => {
    const spelled = ['NativeList', 'TextList'].includes(arg.kind) ? `${arg.name}…`
      : ['NativePairs', 'ScorePairs'].includes(arg.kind) ? `(${arg.name})…` : arg.name;
    if (arg.omit) return `[${spelled}]`;
    return arg.optional ? `[${spelled}=${arg.default === '' ? '""' : arg.default}]` : spelled;
  });
  return [...row.words, ...args, ...row.tail].join(' ');
}

function declaration(row) {
  const shape = { item: 'N', key: 'N', value: 'N', ...ITEM_TYPES[row.words.join(' ')] };
  const returns = REPLY_TYPES[row.reply](shape);
  const doc = [...row.doc, `Redis: \`${synopsis(row)}\``];
  return [
    '  /**',
    ...doc.map((line) => `   * ${line.replaceAll('*/', '*\\/')}`),
    '   */',
    `  ${row.name}(${parameters(row)}): Promise<${returns}>;`,
  ].join('\n');
}

/** The method declarations of every table row, grouped by the table's sections. */
export function commandDeclarations({
  modRs = readFileSync(new URL('commands/mod.rs', SRC), 'utf8'),
  commandRs = readFileSync(new URL('core/command.rs', SRC), 'utf8'),
} = {}) {
  checkMapping('ArgKind', enumVariants(commandRs, 'ArgKind'), ARG_TYPES);
  checkMapping('ReplyKind', enumVariants(commandRs, 'ReplyKind'), REPLY_TYPES);
  const rows = parseRows(modRs);
  const names = new Set();
  const out = [`  // ${rows.length} methods generated by client-wasm/gen-types.mjs from src/commands/mod.rs.`];
  let section = null;
  for (const row of rows) {
    if (names.has(row.name)) throw new Error(`gen-types: method ${row.name} is declared twice`);
    names.add(row.name);
    for (const arg of row.args) {
      if (!(arg.kind in ARG_TYPES)) throw new Error(`gen-types: ${row.name}: unknown argument kind ${arg.kind}`);
    }
    if (!REPLY_TYPES[row.reply]) throw new Error(`gen-types: ${row.name}: reply kind ${row.reply} cannot be a command row`);
    if (row.section !== section) {
      section = row.section;
      out.push('', `  // ${section}`);
    }
    out.push(declaration(row));
  }
  return { text: out.join('\n'), methods: [...names] };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${commandDeclarations().text}\n`);
}
