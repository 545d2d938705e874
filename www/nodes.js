// The "Nodes" view of a Redis Cluster: each shard with its slot ranges and
// how many slots they hold, its master and replicas (ids shortened, the
// full id in the title), and each master's essentials from INFO and
// DBSIZE, read from that node through `cluster.node(id)`. The bridge names
// nodes by opaque ids only: the page never learns an address.
import { count, h, shortId } from './dom.js';

/** `[[0, 5460], [10923, 10923]]` → `0–5460, 10923` and 5,462 slots. */
export function slotText(ranges) {
  const slots = ranges.reduce((sum, [start, end]) => sum + end - start + 1, 0);
  return { ranges: ranges.map(([start, end]) => (start === end ? String(start) : `${start}–${end}`)).join(', '), slots };
}

/**
 * INFO (parsed) and DBSIZE of each node of `session.nodes()` (the masters
 * of a cluster, or the one server): `[{ id, info, keys }]`.
 */
export function nodesInfo(session) {
  return Promise.all(session.nodes().map(async ({ id, conn }) => {
    const [info, keys] = await Promise.all([conn.info(), conn.dbsize()]);
    return { id, info: info.sections(), keys: Number(keys) };
  }));
}

const COLUMNS = ['shard', 'slots', 'master', 'role', 'memory', 'ops/s', 'keys', 'replicas'];

const idCell = (id, className = 'td.id') => h(className, {}, h('code', { textContent: shortId(id), title: id }));

/** The table of shards for `shards` (`cluster.shards`) and `stats` (`nodesInfo` of the masters). */
export function nodesTable(shards, stats) {
  const byId = new Map(stats.map((s) => [s.id, s]));
  const rows = shards.map((shard, i) => {
    const { ranges, slots } = slotText(shard.slots);
    const node = byId.get(shard.master);
    const get = (section, field) => node?.info.get(section)?.get(field) ?? '—';
    const cells = [
      h('td', { textContent: String(i + 1) }),
      h('td.slots', {}, h('span', { textContent: ranges }), h('span.sub', { textContent: ` (${count(slots)} slots)`, dataset: { slots: String(slots) } })),
      shard.master ? idCell(shard.master, 'td.master') : h('td.master', { textContent: 'none (failing over?)' }),
      h('td.role', { textContent: get('Replication', 'role') }),
      h('td.memory', { textContent: get('Memory', 'used_memory_human') }),
      h('td.ops', { textContent: node ? count(Number(get('Stats', 'instantaneous_ops_per_sec'))) : '—' }),
      h('td.keys', { textContent: node ? count(node.keys) : '—' }),
      h('td.replicas', {}, shard.replicas.length === 0 ? 'none'
        : shard.replicas.flatMap((id, at) => [at ? ' ' : '', h('code', { textContent: shortId(id), title: id })])),
    ];
    // Each cell names its column: a phone shows the rows as cards.
    cells.forEach((cell, at) => { cell.dataset.label = COLUMNS[at]; });
    return h('tr', { dataset: { master: shard.master ?? '' } }, cells);
  });
  const totalKeys = stats.reduce((sum, s) => sum + s.keys, 0);
  return [
    h('p.note.nodes-summary', { textContent: `${shards.length} shards · ${count(totalKeys)} keys in all · ids shortened, the full id on hover` }),
    h('table.items.nodes', {},
      h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { textContent: t })))),
      h('tbody', {}, rows)),
  ];
}
