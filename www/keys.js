// The key browser: SCAN with a pattern through the package's cursor, a page
// of keys at a time, each with its type, TTL and memory; a viewer and
// editor per type; rename, expire, delete, and a form for new keys.
//
// `conn` is a `Connection<string>`; `raw` a `Connection<Uint8Array>`, used to
// read string values exactly (binary ones are shown as hex, read-only).
import { printable, hexDump } from './render.js';

const PAGE = 50;
/** Items a viewer shows at most. */
const SHOWN = 200;

/** Creates an element: `h('button.small', { onclick }, 'Save')`. */
function h(tag, props = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const element = document.createElement(name);
  if (classes.length) element.className = classes.join(' ');
  for (const [prop, value] of Object.entries(props)) {
    if (prop.startsWith('on')) element.addEventListener(prop.slice(2), value);
    else if (prop === 'dataset') Object.assign(element.dataset, value);
    else if (value !== undefined) element[prop] = value;
  }
  element.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return element;
}

export function formatTtl(ms) {
  if (ms === -1) return 'no expiry';
  if (ms === -2) return 'gone';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '—';
  n = Number(n);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function startKeyBrowser({ conn, raw, report }) {
  const list = document.querySelector('#key-list tbody');
  const more = document.getElementById('key-more');
  const count = document.getElementById('key-count');
  const patternInput = document.getElementById('key-pattern');
  const view = document.getElementById('key-view');
  /** The scan in progress: its cursor, whether it is complete, how many keys it gave. */
  let scanning = null;
  let selected = null;

  /** Type, TTL and memory of `keys`: 3 commands a key, all sent in one pipeline. */
  async function describeKeys(keys) {
    const pending = keys.map((key) => Promise.all([
      conn.type(key).then((reply) => reply.status),
      conn.pttl(key),
      // MEMORY USAGE has no method of its own: call() sends any command.
      conn.call('MEMORY', 'USAGE', key).catch(() => null),
    ]));
    return (await Promise.all(pending)).map(([type, ttl, memory], i) => ({ key: keys[i], type, ttl, memory }));
  }

  function row({ key, type, ttl, memory }) {
    return h('tr', { dataset: { key }, onclick: () => open(key).catch(report), className: key === selected ? 'selected' : '' },
      h('td.key', { textContent: key, title: key }),
      h(`td.type`, {}, h(`span.badge.t-${type}`, { textContent: type })),
      h('td.ttl', { textContent: formatTtl(ttl) }),
      h('td.mem', { textContent: formatBytes(memory) }));
  }

  function findRow(key) {
    return [...list.rows].find((tr) => tr.dataset.key === key);
  }

  async function refreshRow(key) {
    const [info] = await describeKeys([key]);
    const old = findRow(key);
    if (info.type === 'none') {
      old?.remove();
      return info;
    }
    if (old) old.replaceWith(row(info));
    else list.prepend(row(info));
    return info;
  }

  /** The next page of the scan: the cursor hands out keys; SCAN pages are fetched as needed. */
  async function loadMore() {
    const state = scanning;
    if (!state || state.done) return;
    more.disabled = true;
    const keys = [];
    while (keys.length < PAGE) {
      const key = await state.cursor.fetchone();
      if (key === null) {
        state.done = true;
        break;
      }
      keys.push(key);
    }
    const infos = await describeKeys(keys);
    if (state !== scanning) return; // a new scan started meanwhile
    for (const info of infos) if (info.type !== 'none' && !findRow(info.key)) list.append(row(info));
    state.shown += keys.length;
    count.textContent = `${state.shown} key${state.shown === 1 ? '' : 's'}${state.done ? '' : ' so far'}`;
    more.hidden = state.done;
    more.disabled = false;
  }

  async function scan() {
    scanning = { cursor: conn.scan(patternInput.value || '*'), done: false, shown: 0 };
    list.replaceChildren();
    await loadMore().catch(report);
  }

  // ------------------------------------------------------------ viewer

  function close() {
    selected = null;
    view.ariaBusy = 'false';
    view.replaceChildren(h('p.placeholder', { textContent: 'Select a key to view and edit it, or create one below.' }));
    for (const tr of list.rows) tr.classList.remove('selected');
  }

  /** Runs an edit, then shows the key again (or reports the error). The view is `aria-busy` meanwhile. */
  function action(run) {
    return async (event) => {
      event?.preventDefault();
      view.ariaBusy = 'true';
      try {
        await run();
        if (selected) await open(selected);
      } catch (err) {
        report(err);
      } finally {
        view.ariaBusy = 'false';
      }
    };
  }

  function table(head, rows) {
    return h('table.items', {}, h('thead', {}, h('tr', {}, head.map((t) => h('th', { textContent: t })))), h('tbody', {}, rows));
  }

  function input(value, label, className = '') {
    return h(`input${className}`, { value, ariaLabel: label, spellcheck: false });
  }

  /** A row of inputs and a button, for adding an item. */
  function adder(fields, label, run) {
    const inputs = fields.map((f) => input('', f, '.add-field'));
    inputs.forEach((el, i) => { el.placeholder = fields[i]; });
    return h('form.adder', { onsubmit: action(() => run(...inputs.map((el) => el.value))) }, inputs, h('button', { textContent: label }));
  }

  const viewers = {
    async string(key) {
      const bytes = await raw.get(new TextEncoder().encode(key));
      if (bytes === null) return [];
      const text = printable(bytes);
      if (text === null) {
        return [h('p.note', { textContent: `Binary value, ${bytes.length} bytes (read-only here):` }), h('pre.hex', { textContent: hexDump(bytes) })];
      }
      const area = h('textarea.string-value', { value: text, rows: 4, spellcheck: false, ariaLabel: 'value' });
      // set() has no KEEPTTL option; call() sends any command as it is.
      const save = action(() => conn.call('SET', key, area.value, 'KEEPTTL'));
      return [area, h('button.save', { textContent: 'Save', onclick: save })];
    },

    async hash(key) {
      const rows = [];
      // hscan: a cursor, so a huge hash is read a page at a time.
      for await (const [field, value] of conn.hscan(key)) {
        if (rows.length === SHOWN) break;
        const valueInput = input(value, `value of ${field}`, '.item-value');
        rows.push(h('tr', { dataset: { field } },
          h('td', { textContent: field }),
          h('td', {}, valueInput),
          h('td.actions', {},
            h('button.save', { textContent: 'Save', onclick: action(() => conn.hset(key, field, valueInput.value)) }),
            h('button.remove', { textContent: '×', title: 'delete field', onclick: action(() => conn.hdel(key, [field])) }))));
      }
      return [table(['field', 'value', ''], rows), adder(['field', 'value'], 'Add field', (f, v) => conn.hset(key, f, v))];
    },

    async list(key) {
      const items = await conn.lrangeAsList(key, 0, SHOWN - 1);
      const rows = items.map((value, index) => {
        const valueInput = input(value, `item ${index}`, '.item-value');
        return h('tr', { dataset: { index } },
          h('td', { textContent: String(index) }),
          h('td', {}, valueInput),
          h('td.actions', {},
            h('button.save', { textContent: 'Save', onclick: action(() => conn.lset(key, index, valueInput.value)) }),
            // LREM removes the first item equal to the value.
            h('button.remove', { textContent: '×', title: 'remove', onclick: action(() => conn.lrem(key, 1, value)) })));
      });
      return [table(['#', 'value', ''], rows), adder(['value'], 'Push', (v) => conn.rpush(key, [v]))];
    },

    async set(key) {
      const members = await conn.sscan(key).fetchall();
      const rows = [...members].slice(0, SHOWN).sort().map((member) => h('tr', { dataset: { member } },
        h('td', { textContent: member }),
        h('td.actions', {}, h('button.remove', { textContent: '×', title: 'remove', onclick: action(() => conn.srem(key, [member])) }))));
      return [table(['member', ''], rows), adder(['member'], 'Add', (m) => conn.sadd(key, [m]))];
    },

    async zset(key) {
      const scores = await conn.zrangeAsDict(key, 0, SHOWN - 1);
      const rows = [...scores].map(([member, score]) => {
        const scoreInput = input(String(score), `score of ${member}`, '.item-value');
        return h('tr', { dataset: { member } },
          h('td', { textContent: member }),
          h('td', {}, scoreInput),
          h('td.actions', {},
            h('button.save', { textContent: 'Save', onclick: action(() => conn.zadd(key, new Map([[member, Number(scoreInput.value)]]))) }),
            h('button.remove', { textContent: '×', title: 'remove', onclick: action(() => conn.zrem(key, [member])) })));
      });
      return [table(['member', 'score', ''], rows), adder(['member', 'score'], 'Add', (m, s) => conn.zadd(key, new Map([[m, Number(s)]])))];
    },

    async stream(key) {
      // No stream methods in the seed API: call() reaches XLEN and XRANGE.
      const [length, entries] = await Promise.all([conn.call('XLEN', key), conn.call('XRANGE', key, '-', '+', 'COUNT', SHOWN)]);
      const rows = entries.map(([id, fields]) => h('tr', {},
        h('td', { textContent: id }),
        h('td', { textContent: fields.map((f, i) => (i % 2 ? ` = ${f}` : `${i ? ', ' : ''}${f}`)).join('') })));
      return [h('p.note', { textContent: `${length} entries (read-only)` }), table(['id', 'fields'], rows)];
    },
  };

  async function open(key) {
    view.ariaBusy = 'true';
    try {
      await show(key);
    } finally {
      view.ariaBusy = 'false';
    }
  }

  async function show(key) {
    selected = key;
    for (const tr of list.rows) tr.classList.toggle('selected', tr.dataset.key === key);
    const info = await refreshRow(key);
    if (selected !== key) return;
    if (info.type === 'none') {
      close();
      return;
    }
    const viewer = viewers[info.type];
    const body = viewer ? await viewer(key) : [h('p.note', { textContent: `No viewer for type ${info.type}.` })];
    if (selected !== key) return;

    const renameInput = input(key, 'new name', '.rename');
    const ttlInput = input(info.ttl > 0 ? String(Math.ceil(info.ttl / 1000)) : '', 'TTL in seconds', '.ttl');
    ttlInput.placeholder = 'seconds';
    view.replaceChildren(
      h('div.key-head', {},
        h('strong.key-name', { textContent: key }),
        h(`span.badge.t-${info.type}`, { textContent: info.type }),
        h('span.meta', { textContent: `TTL ${formatTtl(info.ttl)} · ${formatBytes(info.memory)}` })),
      h('div.key-actions', {},
        h('form', {
          onsubmit: action(async () => {
            const to = renameInput.value;
            if (!to || to === key) return;
            await conn.rename(key, to);
            findRow(key)?.remove();
            selected = to;
          }),
        }, renameInput, h('button.rename-button', { textContent: 'Rename' })),
        h('form', {
          onsubmit: action(async () => {
            const seconds = ttlInput.value.trim();
            // An empty TTL removes the expiry.
            if (seconds === '' || Number(seconds) < 0) await conn.persist(key);
            else await conn.expire(key, Math.round(Number(seconds)));
          }),
        }, ttlInput, h('button.ttl-button', { textContent: 'Set TTL' })),
        h('button.delete', {
          textContent: 'Delete',
          onclick: async () => {
            try {
              await conn.delete([key]);
              findRow(key)?.remove();
              close();
            } catch (err) {
              report(err);
            }
          },
        })),
      h('div.key-body', {}, body));
  }

  // ------------------------------------------------------------ new keys

  const newType = document.getElementById('new-key-type');
  const newName = document.getElementById('new-key-name');
  const newValue = document.getElementById('new-key-value');
  const newExtra = document.getElementById('new-key-extra');
  const extraLabel = { hash: 'field', zset: 'score', stream: 'field' };
  const syncNewForm = () => {
    newExtra.hidden = !(newType.value in extraLabel);
    newExtra.placeholder = extraLabel[newType.value] ?? '';
  };
  newType.addEventListener('change', syncNewForm);
  syncNewForm();

  document.getElementById('key-new').addEventListener('submit', async (event) => {
    event.preventDefault();
    const [key, value, extra] = [newName.value.trim(), newValue.value, newExtra.value];
    if (!key) return;
    const create = {
      string: () => conn.set(key, value, { onlyIfNotExists: true }),
      hash: () => conn.hset(key, extra, value),
      list: () => conn.rpush(key, [value]),
      set: () => conn.sadd(key, [value]),
      zset: () => conn.zadd(key, new Map([[value, Number(extra || 0)]])),
      stream: () => conn.call('XADD', key, '*', extra || 'field', value),
    }[newType.value];
    view.ariaBusy = 'true';
    try {
      if ((await conn.exists(key)) && newType.value === 'string') throw new Error(`${key} already exists`);
      await create();
      newName.value = '';
      newValue.value = '';
      newExtra.value = '';
      await open(key);
    } catch (err) {
      report(err);
    } finally {
      view.ariaBusy = 'false';
    }
  });

  document.getElementById('key-search').addEventListener('submit', (event) => {
    event.preventDefault();
    scan();
  });
  more.addEventListener('click', () => loadMore().catch(report));
  close();
  scan();
}
