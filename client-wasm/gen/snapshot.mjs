// The command snapshot (client-wasm/commands/redis-commands.json) as the
// flat list every generated output is indexed by: each command and each
// subcommand one entry, sorted by upper-case full name (`CLIENT|SETNAME`),
// so an entry's position is its index in the Rust table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadSnapshot(root) {
  const snapshot = JSON.parse(readFileSync(join(root, 'client-wasm/commands/redis-commands.json'), 'utf8'));
  const entries = [];
  for (const [name, info] of Object.entries(snapshot.commands)) {
    entries.push({ name: name.toUpperCase(), container: null, info });
    for (const [subName, subInfo] of Object.entries(info.subcommands ?? {})) {
      entries.push({ name: subName.toUpperCase(), container: name.toUpperCase(), info: subInfo });
    }
  }
  // Byte order, as the Rust binary search compares (names are ASCII).
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const index = new Map(entries.map((entry, i) => [entry.name, i]));
  return { version: snapshot.redis_version, entries, index };
}

/** Every distinct value of `field` (an array of strings) over the entries, sorted. */
export function vocabulary(entries, field) {
  return [...new Set(entries.flatMap((entry) => entry.info[field]))].sort();
}
