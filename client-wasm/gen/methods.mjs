// Every JS method, as data: the seed's methods (commands/seed.json) first,
// then one per remaining table entry, named by the rule of docs/USAGE.md
// (`xadd`, `clientNoEvict`); where a name is a seed method's, the seed's
// wins. Each method knows its table index (`cmd`), its reply kind and what
// its builder needs; js-methods.mjs and ts-types.mjs render it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { methodName, shape } from './shape.mjs';

export function loadSeed(root) {
  return JSON.parse(readFileSync(join(root, 'client-wasm/commands/seed.json'), 'utf8'));
}

/** The table index a command line's words resolve to, as the Rust `lookup` resolves them. */
function indexOfWords(snapshot, words) {
  const [name, sub] = words.map((w) => w.toUpperCase());
  const container = snapshot.index.get(name);
  if (container === undefined) throw new Error(`seed: no command ${name} in the table`);
  const subcommand = sub === undefined ? undefined : snapshot.index.get(`${name}|${sub}`);
  return subcommand ?? container;
}

/** The methods in METHODS order: `{ name, cmd, entry, seed?, options?, shape?, container?, variadic?, api? }`. */
export function methods(snapshot, seed) {
  const out = [];
  const names = new Set();
  const add = (method) => {
    if (names.has(method.name)) throw new Error(`methods: ${method.name} is declared twice`);
    names.add(method.name);
    out.push(method);
  };
  for (const row of seed.methods) {
    const cmd = row.build === 'call' ? -1 : indexOfWords(snapshot, row.words);
    const method = { name: row.method, cmd, entry: snapshot.entries[cmd], seed: row };
    // zrange's options beyond the seed are Redis's own ZRANGE options, less
    // the WITHSCORES the seed's row sends itself.
    if (row.extension === 'zrange') method.options = shape(method.entry).options.filter((n) => n.k !== 'withscores');
    add(method);
  }
  const api = new Set(seed.api);
  for (const [cmd, entry] of snapshot.entries.entries()) {
    const name = methodName(entry.name);
    if (names.has(name)) continue;
    const method = { name, cmd, entry, api: api.has(name) };
    const words = entry.name.split('|').length;
    if (entry.info.subcommands) method.container = true;
    // Documented without arguments, yet it takes some (DEBUG, COMMAND GETKEYS): any, as call() takes them.
    else if (!entry.info.arguments && Math.abs(entry.info.arity) > words) method.variadic = true;
    else method.shape = shape(entry);
    add(method);
  }
  return out;
}
