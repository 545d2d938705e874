// The server panel: an overview from INFO (version, uptime, memory used
// and peak, clients, ops/s, keyspace hit ratio, keys per database),
// refreshed every two seconds while the panel is shown; the slowlog and
// the client list. A bridge for the web refuses INFO, SLOWLOG and CLIENT
// LIST: each part then says so instead of showing an error.
//
// On a Redis Cluster the panel starts with the Nodes view (nodes.js), and
// the overview, slowlog and clients are those of the master picked below
// it, read through `cluster.node(id)`: the Cluster's own INFO would answer
// for a different master each time.
import { count, h, shortId } from './dom.js';
import { nodesInfo, nodesTable } from './nodes.js';
import { notAllowed } from './refusal.js';

const REFRESH_MS = 2000;
const SLOWLOG_SHOWN = 25;

/** `db0:keys=3,expires=1,avg_ttl=0` → `{ keys: 3, expires: 1, avg_ttl: 0 }`. */
export function keyspaceLine(text) {
  return Object.fromEntries(String(text).split(',').map((part) => part.split('=')).map(([k, v]) => [k, Number(v)]));
}

/** Hits / (hits + misses) as a percentage with one decimal, or `—` before any lookup. */
export function hitRatio(hits, misses) {
  const total = hits + misses;
  return total === 0 ? '—' : `${((hits * 100) / total).toFixed(1)} %`;
}

export function formatUptime(seconds) {
  const d = Math.floor(seconds / 86400);
  const hours = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d}d ${hours}h` : hours ? `${hours}h ${m}m` : `${m}m ${seconds % 60}s`;
}

/** A part of the panel that could not be shown: the bridge's refusal, or the error. */
function unavailable(err) {
  const why = notAllowed(err);
  return h(`p.${why ? 'refused' : 'error'}`, { textContent: why ?? `${err.name}: ${err.message}` });
}

function metric(name, label, value, sub = '') {
  return h('div.metric', { dataset: { metric: name } },
    h('dt', { textContent: label }), h('dd', {}, h('span.value', { textContent: value }), sub ? h('span.sub', { textContent: sub }) : null));
}

function overview(info) {
  const get = (section, field) => info.get(section)?.get(field);
  const hits = Number(get('Stats', 'keyspace_hits'));
  const misses = Number(get('Stats', 'keyspace_misses'));
  const dbs = [...(info.get('Keyspace') ?? new Map())].map(([db, line]) => ({ db, ...keyspaceLine(line) }));
  const maxmemory = Number(get('Memory', 'maxmemory'));
  const card = h('dl.metrics', {},
    metric('version', 'Redis', get('Server', 'redis_version'), `${get('Server', 'redis_mode')} · up ${formatUptime(Number(get('Server', 'uptime_in_seconds')))}`),
    metric('memory', 'Memory used', get('Memory', 'used_memory_human'), `peak ${get('Memory', 'used_memory_peak_human')}${maxmemory ? ` · max ${get('Memory', 'maxmemory_human')}` : ''}`),
    metric('clients', 'Clients', count(Number(get('Clients', 'connected_clients'))), `${get('Clients', 'blocked_clients')} blocked`),
    metric('ops', 'Ops/s', count(Number(get('Stats', 'instantaneous_ops_per_sec'))), `${count(Number(get('Stats', 'total_commands_processed')))} commands in all`),
    metric('hit-ratio', 'Keyspace hits', hitRatio(hits, misses), `${count(hits)} hits · ${count(misses)} misses`),
    metric('keys', 'Keys', count(dbs.reduce((sum, d) => sum + d.keys, 0)), `in ${dbs.length} database${dbs.length === 1 ? '' : 's'}`));
  const keyspace = dbs.length === 0 ? h('p.note', { textContent: 'Every database is empty.' })
    : h('table.items.keyspace', {},
      h('thead', {}, h('tr', {}, ['database', 'keys', 'with expiry', 'average TTL'].map((t) => h('th', { textContent: t })))),
      h('tbody', {}, dbs.map(({ db, keys, expires, avg_ttl: ttl }) => h('tr', { dataset: { db } },
        h('td', { textContent: db }), h('td.keys', { textContent: count(keys) }), h('td', { textContent: count(expires) }),
        h('td', { textContent: ttl ? `${count(Math.round(ttl / 1000))} s` : '—' })))));
  return [card, h('h3', { textContent: 'Keyspace' }), keyspace];
}

function slowlog(entries) {
  if (entries.length === 0) return h('p.note', { textContent: 'The slowlog is empty.' });
  return h('table.items.slowlog', {},
    h('thead', {}, h('tr', {}, ['#', 'when', 'µs', 'command', 'client'].map((t) => h('th', { textContent: t })))),
    h('tbody', {}, entries.map(([id, at, micros, args, addr, name]) => h('tr', {},
      h('td', { textContent: String(id) }),
      h('td', { textContent: new Date(Number(at) * 1000).toLocaleTimeString('en-GB') }),
      h('td.num', { textContent: count(Number(micros)) }),
      h('td.command', { textContent: args.join(' ') }),
      h('td', { textContent: [addr, name].filter(Boolean).join(' ') })))));
}

function clients(list) {
  const columns = ['id', 'addr', 'name', 'db', 'age', 'idle', 'cmd'];
  return h('table.items.clients', {},
    h('thead', {}, h('tr', {}, columns.map((t) => h('th', { textContent: t })))),
    h('tbody', {}, list.map((client) => h('tr', { dataset: { id: client.get('id') } }, columns.map((c) => h('td', { textContent: client.get(c) ?? '' }))))));
}

export function startServerPanel({ session, isShown }) {
  const parts = {
    overview: document.getElementById('server-overview'),
    slowlog: document.getElementById('server-slowlog'),
    clients: document.getElementById('server-clients'),
  };
  const updated = document.getElementById('server-updated');
  const clusterBox = document.getElementById('server-cluster');
  const nodesPart = document.getElementById('server-nodes');
  const nodePick = document.getElementById('server-node');

  /** Keeps the master picker in step with the topology; the one picked stays picked. */
  function syncPicker() {
    const masters = session.nodes().map((node) => node.id);
    const shown = [...nodePick.options].map((option) => option.value);
    if (masters.join() === shown.join()) return;
    const picked = nodePick.value;
    nodePick.replaceChildren(...masters.map((id, i) => h('option', { value: id, textContent: `shard ${i + 1}: master ${shortId(id)}`, title: id })));
    if (masters.includes(picked)) nodePick.value = picked;
  }

  /** The connection the overview, slowlog and clients read: the picked master's on a cluster. */
  function target() {
    if (!session.isCluster) return session.conn;
    syncPicker();
    return session.conn.node(nodePick.value);
  }
  let timer = null;

  /** Fills `element` with `build(await fetch())`, or says why it cannot. */
  async function part(element, fetch, build) {
    try {
      element.replaceChildren(...[build(await fetch())].flat());
      element.dataset.state = 'shown';
    } catch (err) {
      element.replaceChildren(unavailable(err));
      element.dataset.state = notAllowed(err) ? 'refused' : 'error';
    }
  }

  async function refresh() {
    if (!session.conn) return;
    clusterBox.hidden = !session.isCluster;
    const conn = target();
    await Promise.all([
      session.isCluster ? part(nodesPart, () => nodesInfo(session), (stats) => nodesTable(session.conn.shards, stats)) : null,
      part(parts.overview, async () => (await conn.info()).sections(), overview),
      part(parts.slowlog, () => conn.call('SLOWLOG', 'GET', SLOWLOG_SHOWN), slowlog),
      part(parts.clients, async () => (await conn.clientList()).clients(), clients),
    ]);
    updated.textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
    updated.dataset.at = String(Date.now());
  }

  async function loop() {
    if (isShown() && document.visibilityState === 'visible') await refresh().catch(() => {});
    timer = setTimeout(loop, REFRESH_MS);
  }

  document.getElementById('server-refresh').addEventListener('click', () => refresh());
  nodePick.addEventListener('change', () => refresh());
  return {
    /** Called when the panel is shown: refresh now, then every REFRESH_MS. */
    shown() {
      clearTimeout(timer);
      loop();
    },
  };
}
