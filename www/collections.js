// Viewers and editors for hashes, lists, sets and sorted sets, a page at
// a time: hashes and sets by cursor (HSCAN, SSCAN with an optional MATCH),
// lists and sorted sets by index (LRANGE, ZRANGE). The page a viewer is
// on is kept in `ctx.state` so that an edit shows the same page again.
import { count, h } from './dom.js';

const PAGE = 100;

export function table(head, rows) {
  return h('table.items', {}, h('thead', {}, h('tr', {}, head.map((t) => h('th', { textContent: t })))), h('tbody', {}, rows));
}

export function field(value, label, className = '') {
  return h(`input${className}`, { value, 'aria-label': label, spellcheck: false });
}

/** A row of inputs and a button for adding an item; `run(...values)`. */
function adder(names, label, run, action) {
  const inputs = names.map((name) => field('', name, '.add-field'));
  inputs.forEach((input, i) => { input.placeholder = names[i]; });
  return h('form.adder', { onsubmit: action(() => run(...inputs.map((input) => input.value))) },
    inputs, h('button', { type: 'submit', textContent: label }));
}

/** "items 101–200 of 1,234" between ‹ prev and next › buttons (disabled without a handler). */
function pager(text, { prev, next }) {
  return h('div.pager', {},
    h('button.small.prev', { type: 'button', textContent: '‹ prev', disabled: !prev, onclick: prev }),
    h('span.page-text', { textContent: text }),
    h('button.small.next', { type: 'button', textContent: 'next ›', disabled: !next, onclick: next }));
}

/**
 * One page of a cursor scan (`HSCAN`/`SSCAN`), with the cursors of the
 * pages before it kept for "prev" and a MATCH filter.
 */
async function cursorPage(ctx, command, total, noun) {
  const { conn, key, state, reload } = ctx;
  state.cursors ??= ['0'];
  state.match ??= '*';
  const cursor = state.cursors.at(-1);
  const [nextCursor, items] = await conn.call(command, key, cursor, 'MATCH', state.match, 'COUNT', PAGE);
  const filter = field(state.match, `${noun} pattern`, '.match');
  const controls = h('div.collection-controls', {},
    h('form.match-form', {
      onsubmit: (event) => {
        event.preventDefault();
        state.match = filter.value || '*';
        state.cursors = ['0'];
        reload();
      },
    }, filter, h('button.small', { type: 'submit', textContent: 'Filter' })),
    pager(`page ${state.cursors.length} · ${count(total)} ${noun}s in all`, {
      prev: state.cursors.length > 1 ? () => { state.cursors.pop(); reload(); } : null,
      next: nextCursor !== '0' ? () => { state.cursors.push(nextCursor); reload(); } : null,
    }));
  return { items, controls };
}

/** A page by index: `{ start, stop, controls }` for `total` items. */
function indexPage({ state, reload }, total, noun) {
  state.start ??= 0;
  if (state.start >= total) state.start = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
  const start = state.start;
  const stop = Math.min(total, start + PAGE) - 1;
  const controls = h('div.collection-controls', {}, pager(`${noun}s ${count(total ? start + 1 : 0)}–${count(stop + 1)} of ${count(total)}`, {
    prev: start > 0 ? () => { state.start = Math.max(0, start - PAGE); reload(); } : null,
    next: stop + 1 < total ? () => { state.start = start + PAGE; reload(); } : null,
  }));
  return { start, stop, controls };
}

/** A sorted-set score typed by a person: a number (or inf), else an error that names it. */
function scoreOf(text) {
  const score = Number(text.trim().replace(/^([+-]?)inf$/i, '$1Infinity'));
  if (text.trim() === '' || Number.isNaN(score)) throw new Error(`A score is a number, not "${text}".`);
  return score;
}

function saveButton(onclick) {
  return h('button.small.save', { type: 'button', textContent: 'Save', onclick });
}

function removeButton(what, onclick) {
  return h('button.small.remove', { type: 'button', textContent: '×', title: `remove ${what}`, 'aria-label': `remove ${what}`, onclick });
}

export const collectionViewers = {
  async hash(ctx) {
    const { conn, key, action } = ctx;
    const { items, controls } = await cursorPage(ctx, 'HSCAN', await conn.hlen(key), 'field');
    const rows = [];
    for (let i = 0; i + 1 < items.length; i += 2) {
      const [name, value] = [items[i], items[i + 1]];
      const input = field(value, `value of ${name}`, '.item-value');
      rows.push(h('tr', { dataset: { field: name } },
        h('td', { textContent: name }),
        h('td', {}, input),
        h('td.actions', {},
          saveButton(action(() => conn.hset(key, name, input.value))),
          removeButton(name, action(() => conn.hdel(key, [name]))))));
    }
    return [controls, table(['field', 'value', ''], rows), adder(['field', 'value'], 'Add field', (f, v) => conn.hset(key, f, v), action)];
  },

  async list(ctx) {
    const { conn, key, action } = ctx;
    const { start, stop, controls } = indexPage(ctx, await conn.llen(key), 'item');
    const items = await conn.lrangeAsList(key, start, stop);
    const rows = items.map((value, i) => {
      const index = start + i;
      const input = field(value, `item ${index}`, '.item-value');
      return h('tr', { dataset: { index } },
        h('td.index', { textContent: String(index) }),
        h('td', {}, input),
        h('td.actions', {},
          saveButton(action(() => conn.lset(key, index, input.value))),
          // Removing by index: mark the item, then remove the mark, in one transaction.
          removeButton(`item ${index}`, action(async () => {
            const mark = `redis-wasm-gui:removed:${crypto.randomUUID()}`;
            const tx = await conn.multi();
            await Promise.all([tx.lset(key, index, mark), tx.lrem(key, 1, mark), tx.exec()]);
          }))));
    });
    const value = field('', 'value to push', '.add-field');
    value.placeholder = 'value';
    const push = (head) => action(() => (head ? conn.lpush(key, [value.value]) : conn.rpush(key, [value.value])));
    return [controls, table(['#', 'value', ''], rows),
      h('form.adder', { onsubmit: push(false) }, value,
        h('button.push-head', { type: 'button', textContent: 'Push to head', onclick: push(true) }),
        h('button.push-tail', { type: 'submit', textContent: 'Push to tail' }))];
  },

  async set(ctx) {
    const { conn, key, action } = ctx;
    const { items, controls } = await cursorPage(ctx, 'SSCAN', await conn.scard(key), 'member');
    const rows = items.slice().sort().map((member) => h('tr', { dataset: { member } },
      h('td', { textContent: member }),
      h('td.actions', {}, removeButton(member, action(() => conn.srem(key, [member]))))));
    return [controls, table(['member', ''], rows), adder(['member'], 'Add', (m) => conn.sadd(key, [m]), action)];
  },

  async zset(ctx) {
    const { conn, key, action } = ctx;
    const { start, stop, controls } = indexPage(ctx, await conn.zcard(key), 'member');
    const scores = await conn.zrangeAsDict(key, start, stop);
    const rows = [...scores].map(([member, score], i) => {
      const input = field(String(score), `score of ${member}`, '.item-value');
      input.inputMode = 'decimal';
      return h('tr', { dataset: { member } },
        h('td.index', { textContent: String(start + i) }),
        h('td', { textContent: member }),
        h('td', {}, input),
        h('td.actions', {},
          saveButton(action(() => conn.zadd(key, new Map([[member, scoreOf(input.value)]])))),
          removeButton(member, action(() => conn.zrem(key, [member])))));
    });
    return [controls, table(['rank', 'member', 'score', ''], rows),
      adder(['member', 'score'], 'Add', (m, s) => conn.zadd(key, new Map([[m, scoreOf(s)]])), action)];
  },
};
