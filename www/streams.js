// The stream viewer: entries a page at a time (XRANGE from an id, the next
// page starting just after the last id shown), XADD with any number of
// fields, XDEL, and the consumer groups with their consumers and pending
// entries (XINFO GROUPS, XINFO CONSUMERS, XPENDING), created with XGROUP
// CREATE and destroyed after a confirmation. Streams have no methods in
// the seed API: call() sends each command.
import { confirmDialog } from './dialog.js';
import { count, h, pairs } from './dom.js';
import { field, table } from './collections.js';

const PAGE = 20;
const PENDING_SHOWN = 10;

/** `f1 = v1, f2 = v2`. */
const fieldsText = (flat) => [...pairs(flat)].map(([f, v]) => `${f} = ${v}`).join(', ');

function entries({ conn, key, state, reload, action }, length, [first, last]) {
  state.starts ??= ['-'];
  return conn.call('XRANGE', key, state.starts.at(-1), '+', 'COUNT', PAGE).then((page) => {
    const rows = page.map(([id, flat]) => h('tr', { dataset: { id } },
      h('td.id', { textContent: id }),
      h('td', { textContent: fieldsText(flat) }),
      h('td.actions', {}, h('button.small.remove', {
        type: 'button', textContent: '×', title: `XDEL ${id}`, 'aria-label': `delete entry ${id}`,
        onclick: action(() => conn.call('XDEL', key, id)),
      }))));
    const lastShown = page.at(-1)?.[0];
    const more = lastShown !== undefined && lastShown !== last;
    return [
      h('div.pager', {},
        h('button.small.prev', { type: 'button', textContent: '‹ prev', disabled: state.starts.length === 1, onclick: () => { state.starts.pop(); reload(); } }),
        h('span.page-text', { textContent: `page ${state.starts.length} · ${count(length)} entries${first ? `, ${first} … ${last}` : ''}` }),
        // "(" makes the start exclusive: the next page begins after the last entry shown.
        h('button.small.next', { type: 'button', textContent: 'next ›', disabled: !more, onclick: () => { state.starts.push(`(${lastShown}`); reload(); } })),
      table(['id', 'fields', ''], rows),
    ];
  });
}

function addForm({ conn, key, action }) {
  const id = field('*', 'entry id', '.entry-id');
  const list = h('div.pairs');
  const addPair = () => {
    const name = field('', 'field', '.pair-field');
    const value = field('', 'value', '.pair-value');
    name.placeholder = 'field';
    value.placeholder = 'value';
    list.append(h('div.pair', {}, name, value));
  };
  addPair();
  return h('form.xadd', {
    onsubmit: action(() => {
      const words = [...list.querySelectorAll('.pair')].flatMap((pair) => [pair.querySelector('.pair-field').value, pair.querySelector('.pair-value').value]);
      if (words.some((w, i) => i % 2 === 0 && w === '')) throw new Error('Every field of a stream entry needs a name.');
      return conn.call('XADD', key, id.value.trim() || '*', ...words);
    }),
  }, h('h4', { textContent: 'Add an entry (XADD)' }), h('div.xadd-row', {}, h('label', {}, 'id ', id), list),
  h('div.buttons', {}, h('button.small.add-pair', { type: 'button', textContent: '+ field', onclick: addPair }), h('button.xadd-button', { type: 'submit', textContent: 'Add entry' })));
}

async function groups({ conn, key, label, action }) {
  const infos = (await conn.call('XINFO', 'GROUPS', key)).map(pairs);
  const details = await Promise.all(infos.map((info) => Promise.all([
    conn.call('XINFO', 'CONSUMERS', key, info.get('name')),
    conn.call('XPENDING', key, info.get('name'), '-', '+', PENDING_SHOWN),
  ])));
  const sections = infos.map((info, i) => {
    const name = info.get('name');
    const [consumers, pending] = details[i];
    return h('section.group', { dataset: { group: name } },
      h('div.group-head', {},
        h('strong', { textContent: name }),
        h('span.meta', { textContent: `${info.get('consumers')} consumers · ${info.get('pending')} pending · last delivered ${info.get('last-delivered-id')}${info.has('lag') ? ` · lag ${info.get('lag') ?? 'n/a'}` : ''}`, dataset: { pending: String(info.get('pending')) } }),
        h('button.small.remove.destroy-group', {
          type: 'button', textContent: 'Destroy',
          onclick: action(async () => {
            const sure = await confirmDialog({ title: 'Destroy this consumer group?', message: `${name} on ${label}`, details: [`Its ${info.get('pending')} pending entries are forgotten.`], confirm: 'Destroy', danger: true });
            if (!sure) return false;
            return conn.call('XGROUP', 'DESTROY', key, name);
          }),
        })),
      consumers.length === 0 ? h('p.note', { textContent: 'No consumers yet.' })
        : table(['consumer', 'pending', 'idle'], consumers.map(pairs).map((c) => h('tr', { dataset: { consumer: c.get('name') } },
          h('td', { textContent: c.get('name') }), h('td.pending', { textContent: String(c.get('pending')) }), h('td', { textContent: `${count(c.get('idle'))} ms` })))),
      pending.length === 0 ? null : h('details.pending', {},
        h('summary', { textContent: `first ${Math.min(pending.length, PENDING_SHOWN)} pending entries` }),
        table(['id', 'consumer', 'idle', 'deliveries'], pending.map(([id, consumer, idle, deliveries]) => h('tr', {},
          h('td.id', { textContent: id }), h('td', { textContent: consumer }), h('td', { textContent: `${count(idle)} ms` }), h('td', { textContent: String(deliveries) }))))));
  });
  const name = field('', 'group name', '.group-name');
  name.placeholder = 'group name';
  const from = h('select.group-start', { 'aria-label': 'deliver from' },
    h('option', { value: '$', textContent: 'new entries ($)' }), h('option', { value: '0', textContent: 'the first entry (0)' }));
  return [
    ...sections,
    infos.length === 0 ? h('p.note', { textContent: 'No consumer groups yet.' }) : null,
    h('h4', { textContent: 'New group (XGROUP CREATE)' }),
    h('form.group-create', { onsubmit: action(() => conn.call('XGROUP', 'CREATE', key, name.value.trim(), from.value)) },
      name, from, h('button', { type: 'submit', textContent: 'Create group' })),
  ];
}

/** Entries or consumer groups, one at a time: two toggle buttons above the part shown. */
export async function streamViewer(ctx) {
  const { conn, key, state, reload } = ctx;
  state.part ??= 'entries';
  const [length, first, last, groupCount] = await Promise.all([
    conn.call('XLEN', key),
    conn.call('XRANGE', key, '-', '+', 'COUNT', 1),
    conn.call('XREVRANGE', key, '+', '-', 'COUNT', 1),
    conn.call('XINFO', 'GROUPS', key).then((list) => list.length),
  ]);
  const toggle = (part, text) => h(`button.small.part-${part}`, {
    type: 'button', textContent: text, 'aria-pressed': String(state.part === part),
    onclick: () => { state.part = part; reload(); },
  });
  return [
    h('div.parts', { role: 'group', 'aria-label': 'stream view' }, toggle('entries', `Entries (${count(length)})`), toggle('groups', `Consumer groups (${groupCount})`)),
    ...(state.part === 'entries'
      ? [...await entries(ctx, length, [first[0]?.[0], last[0]?.[0]]), addForm(ctx)]
      : await groups(ctx)),
  ];
}
