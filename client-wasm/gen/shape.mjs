// Redis's argument specs (COMMAND DOCS) as the JS API takes them: one
// normalized tree per command, shared by the JS descriptors and the
// TypeScript types so both follow the one rule of docs/USAGE.md.
//
// A node: { t, k, name, token, optional, multiple, perItem, children, doc }.
// `t` is the JS shape: k key, s string, p pattern, i integer, t unix-time,
// d double, T pure-token, b block, o oneof, q a repeated block of two
// arguments (pairs: MSET's key value), x a block of two repeated arguments
// (XREAD's STREAMS key... id...), n the count of the next argument's items
// (numkeys, computed). `k` is its JS name: its token in lower case when it
// has one (Redis's own word: `count`, `limit`, `store`, `ex`), else its
// name in camelCase; where two arguments of one object would share a name,
// they take their names (then a number).

const TYPES = { key: 'k', string: 's', pattern: 'p', integer: 'i', 'unix-time': 't', double: 'd', 'pure-token': 'T', block: 'b', oneof: 'o' };

export const camel = (word) => word.toLowerCase().replace(/[^a-z0-9]+(.)?/g, (_, c) => (c ? c.toUpperCase() : ''));

/** A JS method name: `xadd`, `clientNoEvict`, `sortRo`. */
export function methodName(entryName) {
  return camel(entryName.replace('|', '-'));
}

function leaf(arg, where) {
  const t = TYPES[arg.type];
  if (!t) throw new Error(`${where}: argument ${arg.name} has an unknown type ${arg.type}`);
  const flags = arg.flags ?? [];
  return {
    t,
    name: arg.name,
    token: arg.token ?? (t === 'T' ? '' : ''),
    optional: flags.includes('optional'),
    multiple: flags.includes('multiple'),
    perItem: flags.includes('multiple_token'),
    doc: arg.summary,
    children: (arg.arguments ?? []).map((child) => leaf(child, `${where} ${arg.name}`)),
  };
}

/** Gives every node of one object its JS key (see the module docs). */
function nameLevel(nodes) {
  // A flat oneof's alternatives are keys of this object too.
  const members = nodes.flatMap((n) => (isFlat(n) ? n.children : [n]));
  const byToken = (n) => (/^[A-Za-z][A-Za-z0-9_-]*$/.test(n.token) ? camel(n.token) : camel(n.name));
  for (const n of members) n.k = byToken(n);
  const clash = (n) => members.filter((m) => m.k === n.k).length > 1;
  for (const n of members.filter(clash)) n.k = camel(n.name);
  const seen = new Map();
  for (const n of members) {
    const count = (seen.get(n.k) ?? 0) + 1;
    seen.set(n.k, count);
    if (count > 1) n.k += count;
  }
  for (const n of members) nameChildren(n);
}

function nameChildren(n) {
  if (n.t === 'b' || n.t === 'q' || n.t === 'x') nameLevel(n.children);
  else if (n.t === 'o') for (const alt of n.children) nameChildren(nameAlternative(alt));
}

/** A oneof's alternatives are named like keys (`{ ex: 10 }`), each on its own. */
function nameAlternative(alt) {
  alt.k ??= /^[A-Za-z][A-Za-z0-9_-]*$/.test(alt.token) ? camel(alt.token) : camel(alt.name);
  return alt;
}

/**
 * Whether a word of Redis introduces the argument: its token, a pure token,
 * a block whose first argument has one, a oneof whose every valued
 * alternative has one (GETEX's EX/PX/EXAT/PXAT/PERSIST). A choice between
 * pure tokens (`ASC|DESC`) is itself the word, not introduced by one.
 */
function introduced(n) {
  if (n.token || n.t === 'T') return true;
  if (n.t === 'b' || n.t === 'q' || n.t === 'x') return Boolean(n.children[0].token) && !n.children[0].optional;
  if (n.t === 'o') return !n.children.every((c) => c.t === 'T') && n.children.filter((c) => c.t !== 'T').every(introduced);
  return false;
}

/** An optional, unrepeated oneof with a valued alternative: its alternatives sit in its object. */
export const isFlat = (n) => n.t === 'o' && n.optional && !n.positional && !n.multiple && n.children.some((c) => c.t !== 'T');

/** Refines block shapes and numkeys, bottom up. */
function refine(nodes, where) {
  for (let j = 0; j < nodes.length; j++) {
    const n = nodes[j];
    refine(n.children, where);
    if (n.t === 'b' && n.multiple && n.children.length === 2 && n.children.every((c) => !c.multiple && 'kspitd'.includes(c.t))) {
      n.t = 'q';
    } else if (n.t === 'b' && !n.multiple && n.children.length === 2 && n.children.every((c) => c.multiple && !c.optional && !c.token)) {
      n.t = 'x';
    } else if (n.t === 'i' && n.name === 'numkeys') {
      const next = nodes[j + 1];
      if (!next?.multiple) throw new Error(`${where}: numkeys is not followed by a repeated argument`);
      n.t = 'n';
    }
  }
}

/** The normalized argument tree of one table entry. */
export function shape(entry) {
  const nodes = (entry.info.arguments ?? []).map((arg) => leaf(arg, entry.name));
  refine(nodes, entry.name);
  // The list a numkeys counts is positional; so are the optional arguments
  // at the end that no word of Redis introduces (`PFADD key [element ...]`,
  // `GEODIST ... [M|KM|FT|MI]`): an options key would be a made-up name.
  // The other optional ones are options.
  for (const [j, n] of nodes.entries()) n.positional = n.optional && nodes[j - 1]?.t === 'n';
  let run = nodes.length;
  while (run > 0 && nodes[run - 1].optional && (nodes[run - 1].positional || !introduced(nodes[run - 1]))) run--;
  // ...unless an option comes before them (GEORADIUS_RO's ASC|DESC follows WITHCOORD...).
  if (!nodes.slice(0, run).some((n) => n.optional && !n.positional)) {
    for (const n of nodes.slice(run)) n.positional = true;
  }
  const positional = nodes.filter((n) => n.t !== 'n' && !(n.t === 'T' && !n.optional) && (!n.optional || n.positional));
  const options = nodes.filter((n) => n.optional && !n.positional);
  // Positional arguments and options are two objects for naming.
  nameLevel(positional);
  nameLevel(options);
  for (const n of nodes.filter((m) => m.t === 'n' || (m.t === 'T' && !m.optional))) n.k = camel(n.name);
  return { nodes, positional, options };
}

/**
 * The compact array commands.js carries for a node: `[t, key, token, flags,
 * children]`; flags: 1 optional, 2 repeated, 4 token per item, 8 optional
 * but positional, 16 a flat oneof. A key spelled as its token is 0; a
 * oneof of pure tokens only has its tokens as one string (`'LEFT|RIGHT'`).
 */
export function compact(n) {
  const flags = (n.optional ? 1 : 0) | (n.multiple ? 2 : 0) | (n.perItem ? 4 : 0)
    | (n.positional ? 8 : 0) | (isFlat(n) ? 16 : 0);
  const tokensOnly = n.t === 'o' && n.children.every((c) => c.t === 'T' && !c.optional && !c.multiple && !c.token.includes('|'));
  const children = tokensOnly ? n.children.map((c) => c.token).join('|') : n.children.map(compact);
  const out = [n.t, n.token && n.k === camel(n.token) ? 0 : n.k, n.token, flags, children];
  while (out.length > 2) {
    const last = out[out.length - 1];
    if (last === '' || last === 0 || (Array.isArray(last) && last.length === 0)) out.pop();
    else break;
  }
  return out;
}
