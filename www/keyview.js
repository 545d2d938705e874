// One key, opened: its type, TTL and memory, the actions every key has
// (rename and delete, both confirmed first; TTL), and the viewer and
// editor for its type. Every edit goes through `action()`, which marks
// the view `aria-busy`, runs the command, shows the key again and reports
// a failure without losing what was typed.
//
// `key` is what commands are given (text, or the exact bytes of a name that
// is not printable UTF-8), `label` the name shown (keynames.js).
import { confirmDialog } from './dialog.js';
import { formatBytes, formatTtl, h } from './dom.js';
import { collectionViewers } from './collections.js';
import { keyArg, nameOf } from './keynames.js';
import { notAllowed } from './refusal.js';
import { streamViewer } from './streams.js';
import { stringViewer } from './strings.js';

const viewers = { string: stringViewer, ...collectionViewers, stream: streamViewer };

/** Per-key state viewers keep across reloads (the page they are on), reset for another key. */
let kept = { key: null, state: {} };

export async function openKey(args) {
  const { view, conn, key, label, report, isCurrent, onType, onGone } = args;
  if (kept.key !== label) kept = { key: label, state: {} };
  view.ariaBusy = 'true';
  try {
    const [type, ttl, memory] = await Promise.all([
      conn.type(key).then((r) => r.status),
      conn.pttl(key),
      // MEMORY USAGE has no method of its own: call() sends any command. Bridges for the web refuse it.
      conn.call('MEMORY', 'USAGE', key).catch((err) => ({ refused: notAllowed(err) ?? err.message })),
    ]);
    onType(type);
    if (!isCurrent()) return;
    if (type === 'none') {
      onGone();
      report(new Error(`${label} does not exist (any more)`));
      return;
    }
    const reload = () => openKey(args);
    const action = (run) => async (event) => {
      event?.preventDefault();
      view.ariaBusy = 'true';
      try {
        if ((await run()) !== false) await reload();
      } catch (err) {
        report(err);
      } finally {
        view.ariaBusy = 'false';
      }
    };
    const ctx = { ...args, type, action, reload, state: kept.state };
    const viewer = viewers[type];
    const body = viewer ? await viewer(ctx) : [h('p.note', { textContent: `No viewer for type ${type}: use the console.` })];
    if (!isCurrent()) return;
    const memoryText = memory?.refused ? `memory: ${memory.refused}` : formatBytes(memory);
    view.replaceChildren(
      h('div.key-head', {},
        h('strong.key-name', { textContent: label }),
        h(`span.badge.t-${type}`, { textContent: type }),
        h('span.meta', { textContent: `TTL ${formatTtl(ttl)} · ${memoryText}`, dataset: { ttl: String(ttl) } })),
      keyActions(ctx, ttl),
      h('div.key-body', {}, body));
  } finally {
    view.ariaBusy = 'false';
  }
}

function keyActions({ conn, key, label, action, onRenamed, onGone }, ttl) {
  const renameInput = h('input.rename', { value: label, 'aria-label': 'new name (\\xNN escapes for any byte)', spellcheck: false });
  const ttlInput = h('input.ttl', { value: ttl > 0 ? String(Math.ceil(ttl / 1000)) : '', placeholder: 'seconds', 'aria-label': 'TTL in seconds', inputMode: 'numeric' });
  return h('div.key-actions', {},
    h('form.rename-form', {
      onsubmit: action(async () => {
        const to = keyArg(renameInput.value);
        const toLabel = nameOf(to);
        if (!renameInput.value || toLabel === label) return false;
        const exists = await conn.exists(to);
        const sure = await confirmDialog({
          title: 'Rename this key?',
          message: `${label} → ${toLabel}`,
          details: exists ? [`${toLabel} exists and will be overwritten.`] : [],
          confirm: 'Rename',
          danger: Boolean(exists),
        });
        if (!sure) return false;
        await conn.rename(key, to);
        await onRenamed(toLabel);
        return false;
      }),
    }, renameInput, h('button.rename-button', { type: 'submit', textContent: 'Rename' })),
    h('form.ttl-form', {
      onsubmit: action(async () => {
        const seconds = ttlInput.value.trim();
        if (!/^\d+$/.test(seconds) || Number(seconds) === 0) throw new Error('The TTL is a whole number of seconds above 0 (Persist removes it).');
        await conn.expire(key, Number(seconds));
      }),
    }, ttlInput, h('button.ttl-button', { type: 'submit', textContent: 'Set TTL' }),
    h('button.persist-button', { type: 'button', textContent: 'Persist', disabled: ttl < 0, onclick: action(() => conn.persist(key)) })),
    h('button.delete', {
      type: 'button',
      textContent: 'Delete',
      onclick: action(async () => {
        if (!await confirmDialog({ title: 'Delete this key?', message: label, details: ['This cannot be undone.'], confirm: 'Delete', danger: true })) return false;
        await conn.delete([key]);
        onGone();
        return false;
      }),
    }));
}
