// The key browser: SCAN with a pattern and a type filter, a page of keys
// at a time, shown as a namespace tree; the selected key's viewer
// (keyview.js); a form for new keys; and bulk delete of everything the
// pattern and filter match, counted first, confirmed, with progress.
//
// It scans every node the keys live on (each master of a cluster, through
// its ClusterNode, or the one server) with the session's BytesEncoder
// connection, so names arrive as their bytes and are shown escaped
// (keynames.js); reads and writes of one key go through the session's
// connection, which routes them to the key's master on a cluster.
import { confirmDialog } from './dialog.js';
import { count, h, plural, shortId } from './dom.js';
import { keyArg, keyName, nameOf } from './keynames.js';
import { openKey } from './keyview.js';
import { buildTree, renderTree } from './tree.js';

/** Keys one page of the scan adds (about: SCAN's COUNT is a hint). */
const PAGE_KEYS = 1000;
const SCAN_COUNT = 1000;
/** The most keys held in the page; past it, narrow the pattern. */
const MAX_KEYS = 200_000;
/** Keys per UNLINK of a bulk delete, and per pipelined TYPE batch. */
const BATCH = 500;

const TYPES = ['string', 'hash', 'list', 'set', 'zset', 'stream'];

const utf8 = new TextEncoder();
const utf8Text = new TextDecoder();

/**
 * One SCAN call on a node's BytesEncoder connection: `[nextCursor, keys]`,
 * the keys as their bytes. The package's scan() cursor has no TYPE
 * filter; call() sends it (every argument as bytes).
 */
async function scanStep(raw, cursor, pattern, type) {
  const words = [cursor, 'MATCH', pattern, 'COUNT', String(SCAN_COUNT), ...(type ? ['TYPE', type] : [])];
  const [next, keys] = await raw.call('SCAN', ...words.map((word) => utf8.encode(word)));
  return [utf8Text.decode(next), keys];
}

/** A scan of every node: each with its cursor, whether it is done, and the keys it gave. */
const scanOf = (nodes) => nodes.map(({ id, conn, raw }) => ({ id, conn, raw, cursor: '0', done: false, found: 0 }));

/**
 * One SCAN step on each node not done yet, side by side; `add(bytes, node)`
 * for each key. Resolves to whether every node is done.
 */
async function stepAll(scans, pattern, type, add) {
  await Promise.all(scans.filter((node) => !node.done).map(async (node) => {
    const [cursor, keys] = await scanStep(node.raw, node.cursor, pattern, type);
    node.cursor = cursor;
    node.done = cursor === '0';
    for (const key of keys) add(key, node);
  }));
  return scans.every((node) => node.done);
}

/**
 * Every key matching `pattern` (and `type`) on every node, as shown name
 * → bytes (SCAN may give a key twice); `progress(n)` after each round of
 * SCAN calls; stops early when `stopped()` says so.
 */
async function scanAll(nodes, pattern, type, { progress, stopped }) {
  const keys = new Map();
  const scans = scanOf(nodes);
  let done = false;
  while (!done && !stopped() && keys.size < MAX_KEYS) {
    done = await stepAll(scans, pattern, type, (bytes) => keys.set(keyName(bytes), bytes));
    progress(keys.size);
  }
  return keys;
}

export function startKeyBrowser({ session, report }) {
  const form = document.getElementById('key-search');
  const patternInput = document.getElementById('key-pattern');
  const typeSelect = document.getElementById('key-type');
  const delimiterInput = document.getElementById('key-delimiter');
  const counts = document.getElementById('key-count');
  const more = document.getElementById('key-more');
  const all = document.getElementById('key-all');
  const tree = document.getElementById('key-tree');
  const view = document.getElementById('key-view');
  const bulk = document.getElementById('bulk-progress');

  /** The scan shown: its pattern, type, nodes (each with its cursor), keys (shown names), and whether it is complete. */
  let scan = null;
  /** Types learned so far, for the badges. */
  const types = new Map();
  const expanded = new Set();
  let selected = null;
  let total = null;

  const conn = () => session.conn;

  function badge(key) {
    const type = types.get(key);
    return h(`span.badge${type ? `.t-${type}` : ''}`, { textContent: type ?? '…', dataset: { badgeFor: key } });
  }

  /** Fetches the types of the rendered keys not known yet: TYPE for each, pipelined. */
  async function fillBadges() {
    const unknown = [...tree.querySelectorAll('li.leaf')].map((li) => li.dataset.key).filter((key) => !types.has(key));
    for (let at = 0; at < unknown.length; at += BATCH) {
      const batch = unknown.slice(at, at + BATCH);
      const replies = await Promise.all(batch.map((key) => conn().type(keyArg(key)).then((r) => r.status, () => null)));
      batch.forEach((key, i) => { if (replies[i]) types.set(key, replies[i]); });
    }
    for (const element of tree.querySelectorAll('.badge[data-badge-for]')) {
      const type = types.get(element.dataset.badgeFor);
      if (type && element.textContent !== type) element.replaceWith(badge(element.dataset.badgeFor));
    }
  }

  function showCounts() {
    const { keys, done, pattern, type, nodes } = scan;
    const what = `${pattern}${type ? `, type ${type}` : ''}`;
    const cluster = session.isCluster;
    counts.replaceChildren(
      h('strong', { textContent: plural(keys.size, 'key') }),
      ` ${done ? 'match' : 'so far match'} ${what}`,
      total === null ? '' : ` · ${count(total)} in ${cluster ? 'the cluster' : 'this database'}`,
      keys.size >= MAX_KEYS ? h('span.warn', { textContent: ` · stopped at ${count(MAX_KEYS)}: narrow the pattern` }) : '',
      // On a cluster, what each master gave: its keys live on it alone.
      cluster ? h('span.node-counts', {}, nodes.map((node) => h('span.node-count', {
        textContent: ` · ${shortId(node.id)}: ${count(node.found)}${node.done ? '' : '+'}`,
        title: `master ${node.id}: ${plural(node.found, 'key')} ${node.done ? 'match' : 'so far'}`,
        dataset: { node: node.id, found: String(node.found) },
      }))) : '');
    counts.dataset.loaded = String(keys.size);
    counts.dataset.done = String(done);
    more.hidden = all.hidden = done;
  }

  function render() {
    const delimiter = delimiterInput.value;
    renderTree(tree, buildTree(scan.keys, delimiter), {
      expanded,
      selected: () => selected,
      onOpen: (key) => open(key),
      badge,
      onRender: () => fillBadges().catch(report),
    });
    if (scan.keys.size === 0) tree.replaceChildren(h('li.note', { textContent: scan.done ? 'No keys match.' : 'Scanning…' }));
  }

  /** Scans on until `enough()` or the end, then shows the tree. The tree is `aria-busy` meanwhile. */
  async function advance(enough) {
    const state = scan;
    tree.ariaBusy = 'true';
    more.disabled = all.disabled = true;
    try {
      while (!state.done && !enough(state)) {
        const { pattern, type } = state;
        const all = await stepAll(state.nodes, pattern, type, (bytes, node) => {
          const name = keyName(bytes);
          if (state.keys.has(name)) return;
          state.keys.add(name);
          node.found += 1;
          if (type) types.set(name, type);
        });
        if (state !== scan) return; // a new scan started meanwhile
        state.done = all || state.keys.size >= MAX_KEYS;
      }
      // DBSIZE of each node: on a cluster, the Cluster's own would answer for one master.
      const sizes = await Promise.all(state.nodes.map((node) => node.conn.dbsize())).catch(() => null);
      total = sizes && sizes.reduce((sum, n) => sum + Number(n), 0);
      if (state !== scan) return;
      render();
      showCounts();
    } finally {
      if (state === scan) {
        tree.ariaBusy = 'false';
        more.disabled = all.disabled = false;
      }
    }
  }

  function nextPage() {
    const target = (scan?.keys.size ?? 0) + PAGE_KEYS;
    return advance((state) => state.keys.size >= target);
  }

  function startScan() {
    scan = { pattern: patternInput.value || '*', type: typeSelect.value, nodes: scanOf(session.nodes()), keys: new Set(), done: false };
    return nextPage();
  }

  // ------------------------------------------------------------ viewer

  function placeholder() {
    selected = null;
    for (const li of tree.querySelectorAll('[aria-selected="true"]')) li.setAttribute('aria-selected', 'false');
    view.replaceChildren(h('p.placeholder', { textContent: 'Select a key in the tree to view and edit it, or create one.' }),
      newKeyForm());
  }

  /** The key is gone (deleted or renamed): drop it from the tree. */
  function forget(key) {
    scan?.keys.delete(key);
    types.delete(key);
    if (scan) {
      render();
      showCounts();
    }
  }

  /** Adds a key the viewer created or renamed to, then shows it. */
  function remember(key) {
    if (scan && !scan.keys.has(key)) {
      scan.keys.add(key);
      render();
      showCounts();
    }
  }

  /** Opens the key shown as `key` (its name, escaped as keynames.js does). */
  function open(key) {
    selected = key;
    for (const li of tree.querySelectorAll('li.leaf')) li.setAttribute('aria-selected', String(li.dataset.key === key));
    return openKey({
      view,
      conn: conn(),
      raw: session.raw,
      key: keyArg(key),
      label: key,
      report,
      isCurrent: () => selected === key,
      onType: (type) => {
        if (type === 'none') types.delete(key);
        else types.set(key, type);
      },
      onGone: () => { forget(key); placeholder(); },
      onRenamed: (to) => {
        forget(key);
        remember(to);
        return open(to);
      },
    }).catch(report);
  }

  // ------------------------------------------------------------ new keys

  function newKeyForm() {
    const type = h('select.new-type', { 'aria-label': 'type of the new key' }, TYPES.map((t) => h('option', { textContent: t })));
    const name = h('input.new-name', { placeholder: 'key name', title: '\\xNN escapes for any byte, \\\\ for a backslash', 'aria-label': 'name of the new key', spellcheck: false });
    const extra = h('input.new-extra', { 'aria-label': 'field or score', spellcheck: false });
    const value = h('input.new-value', { placeholder: 'value', 'aria-label': 'value of the new key', spellcheck: false });
    const extraLabel = { hash: 'field', zset: 'score', stream: 'field' };
    const sync = () => {
      extra.hidden = !(type.value in extraLabel);
      extra.placeholder = extraLabel[type.value] ?? '';
    };
    type.addEventListener('change', sync);
    sync();
    return h('form.new-key', {
      onsubmit: async (event) => {
        event.preventDefault();
        if (!name.value.trim()) return;
        const key = keyArg(name.value.trim());
        const label = nameOf(key);
        const c = conn();
        const create = {
          string: () => c.set(key, value.value, { onlyIfNotExists: true }),
          hash: () => c.hset(key, extra.value || 'field', value.value),
          list: () => c.rpush(key, [value.value]),
          set: () => c.sadd(key, [value.value]),
          zset: () => c.zadd(key, new Map([[value.value, Number(extra.value || 0)]])),
          stream: () => c.call('XADD', key, '*', extra.value || 'field', value.value),
        }[type.value];
        view.ariaBusy = 'true';
        try {
          // Adding to an existing key of another type would be a WRONGTYPE error; to one of the same type, a surprise.
          if (await c.exists(key)) throw new Error(`${label} already exists`);
          await create();
          types.set(label, type.value);
          remember(label);
          await open(label);
        } catch (err) {
          report(err);
        } finally {
          view.ariaBusy = 'false';
        }
      },
    }, h('h3', { textContent: 'New key' }), h('div.new-key-fields', {}, type, name, extra, value, h('button', { type: 'submit', textContent: 'Create' })));
  }

  // ------------------------------------------------------------ bulk delete

  let stopBulk = false;

  async function bulkDelete() {
    const pattern = patternInput.value || '*';
    const type = typeSelect.value;
    const bar = bulk.querySelector('progress');
    const label = bulk.querySelector('.bulk-text');
    bulk.hidden = false;
    stopBulk = false;
    bar.removeAttribute('value');
    try {
      // Count first: the dialog shows exactly what will be deleted.
      const keys = await scanAll(session.nodes(), pattern, type, {
        progress: (n) => { label.textContent = `counting: ${count(n)} keys match so far…`; },
        stopped: () => stopBulk,
      });
      if (stopBulk) return;
      if (keys.size === 0) {
        label.textContent = 'No keys match: nothing to delete.';
        return;
      }
      const what = `matching ${pattern}${type ? ` of type ${type}` : ''}`;
      const sure = await confirmDialog({
        title: `Delete ${plural(keys.size, 'key')}?`,
        message: `Every key ${what}: ${plural(keys.size, 'key')}. This cannot be undone.`,
        details: [...keys.keys()].slice(0, 5).concat(keys.size > 5 ? [`… and ${count(keys.size - 5)} more`] : []),
        confirm: `Delete ${count(keys.size)}`,
        danger: true,
      });
      if (!sure) {
        label.textContent = 'Nothing deleted.';
        return;
      }
      const list = [...keys.values()];
      const raw = session.raw;
      bar.max = list.length;
      let deleted = 0;
      let done = 0;
      for (let at = 0; at < list.length && !stopBulk; at += BATCH) {
        const batch = list.slice(at, at + BATCH);
        // UNLINK frees the memory in the background; a key deleted meanwhile counts as not deleted.
        // One key a command, pipelined: on a cluster the keys of a batch are in many slots.
        const replies = await Promise.all(batch.map((key) => raw.call('UNLINK', key)));
        deleted += replies.reduce((sum, n) => sum + Number(n), 0);
        done += batch.length;
        bar.value = done;
        label.textContent = `deleted ${count(deleted)} of ${count(list.length)}`;
      }
      label.textContent = `${stopBulk ? 'Stopped: ' : ''}deleted ${plural(deleted, 'key')} of ${count(list.length)}.`;
      if (selected && keys.has(selected)) placeholder();
      await startScan();
    } catch (err) {
      label.textContent = `Bulk delete failed: ${err.message}`;
      report(err);
    } finally {
      bulk.dataset.state = 'done';
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (bulk.dataset.state !== 'running') bulk.hidden = true;
    startScan().catch(report);
  });
  typeSelect.addEventListener('change', () => startScan().catch(report));
  delimiterInput.addEventListener('change', () => { expanded.clear(); if (scan) render(); });
  more.addEventListener('click', () => nextPage().catch(report));
  document.getElementById('key-new-button').addEventListener('click', () => {
    placeholder();
    view.querySelector('.new-name').focus();
  });
  all.addEventListener('click', () => advance(() => false).catch(report));
  document.getElementById('bulk-delete').addEventListener('click', () => {
    bulk.dataset.state = 'running';
    bulkDelete();
  });
  bulk.querySelector('button').addEventListener('click', () => { stopBulk = true; });

  session.addEventListener('change', () => {
    types.clear();
    expanded.clear();
    scan = null;
    tree.replaceChildren();
    counts.replaceChildren();
    placeholder();
    if (session.conn) startScan().catch(report);
  });
  placeholder();
}
