// The connection manager: a form for the bridge URL, token and database,
// connections saved in localStorage (the token only when "remember" is
// ticked), what went wrong when a bridge refuses, and the connection's
// state with its last events.
import { diagnose } from './diagnose.js';
import { confirmDialog } from './dialog.js';
import { h } from './dom.js';

const SAVED_KEY = 'redis-wasm-gui:connections';
const LAST_KEY = 'redis-wasm-gui:last';

function readSaved() {
  try {
    const list = JSON.parse(localStorage.getItem(SAVED_KEY));
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function writeSaved(list) {
  try { localStorage.setItem(SAVED_KEY, JSON.stringify(list)); } catch { /* private mode: not kept */ }
}

/** The saved connection that was used last, if it still exists. */
export function lastSaved() {
  let name = null;
  try { name = localStorage.getItem(LAST_KEY); } catch { /* private mode */ }
  return readSaved().find((c) => c.name === name) ?? null;
}

/** The `Connection.create` options a saved connection stands for. */
export const optionsOf = (saved) => ({
  url: saved.url,
  token: saved.token,
  db: saved.db ?? 0,
  protocol: saved.protocol ?? 2,
  clientSideCache: saved.cache || undefined,
});

export function startConnectionManager({ session, defaultUrl, showPanel }) {
  const form = document.getElementById('conn-form');
  const fields = {
    name: document.getElementById('conn-name'),
    url: document.getElementById('conn-url'),
    token: document.getElementById('conn-token'),
    db: document.getElementById('conn-db'),
    protocol: document.getElementById('conn-protocol'),
    cache: document.getElementById('conn-cache'),
    remember: document.getElementById('conn-remember'),
  };
  const problem = document.getElementById('conn-error');
  const savedList = document.getElementById('saved-list');
  const stateBox = document.getElementById('conn-state');
  const logList = document.getElementById('conn-log');
  const badge = document.getElementById('status');
  fields.url.value = defaultUrl;

  // The cache works over RESP3 only: ticking it picks RESP3.
  fields.cache.addEventListener('change', () => {
    if (fields.cache.checked) fields.protocol.value = '3';
  });
  fields.protocol.addEventListener('change', () => {
    if (fields.protocol.value === '2') fields.cache.checked = false;
  });

  /** What the form asks for, as `Connection.create` options. */
  function optionsFromForm() {
    const db = Number(fields.db.value || 0);
    return {
      url: fields.url.value.trim(),
      token: fields.token.value || undefined,
      db,
      protocol: Number(fields.protocol.value),
      clientSideCache: fields.cache.checked || undefined,
    };
  }


  function fill(saved) {
    fields.name.value = saved.name;
    fields.url.value = saved.url;
    fields.db.value = String(saved.db ?? 0);
    fields.protocol.value = String(saved.protocol ?? 2);
    fields.cache.checked = Boolean(saved.cache);
    fields.token.value = saved.token ?? '';
    fields.remember.checked = saved.token !== undefined;
  }

  const connectButton = document.getElementById('conn-connect');

  async function connect(options, label) {
    problem.hidden = true;
    form.ariaBusy = 'true';
    connectButton.disabled = true;
    try {
      await session.open(options, label);
      return true;
    } catch (err) {
      await showProblem(err, options);
      showPanel('connection');
      return false;
    } finally {
      form.ariaBusy = 'false';
      connectButton.disabled = false;
    }
  }

  async function showProblem(err, options) {
    const { title, causes, log } = await diagnose(err, options);
    problem.replaceChildren(h('div', {},
      h('strong', { textContent: title }),
      h('p.note', { textContent: `The client said: ${err.message}` }),
      log ? h('p', { textContent: 'Likely causes, most likely first:' }) : null,
      h('ul', {}, causes.map((text) => h('li', { textContent: text }))),
      log ? h('p.note', { textContent: `The bridge's log (its stderr) says which: look for ${log}.` }) : null));
    problem.hidden = false;
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const options = optionsFromForm();
    connect(options, fields.name.value.trim() || options.url);
  });

  document.getElementById('conn-save').addEventListener('click', () => {
    const options = optionsFromForm();
    if (!options.url) return;
    const name = fields.name.value.trim() || `${new URL(options.url, location.href).host}${options.db ? ` db ${options.db}` : ''}`;
    const entry = { name, url: options.url, db: options.db, protocol: options.protocol, cache: Boolean(options.clientSideCache) };
    // The token is a secret: kept on this device only when asked to.
    if (fields.remember.checked && options.token) entry.token = options.token;
    writeSaved([...readSaved().filter((c) => c.name !== name), entry]);
    fields.name.value = name;
    renderSaved();
  });

  function renderSaved() {
    const list = readSaved();
    savedList.replaceChildren(...list.map((saved) => h('li.saved', { dataset: { name: saved.name } },
      h('button.link.saved-connect', {
        type: 'button',
        textContent: saved.name,
        title: `connect to ${saved.url}`,
        onclick: async () => {
          fill(saved);
          if (await connect(optionsOf(saved), saved.name)) {
            try { localStorage.setItem(LAST_KEY, saved.name); } catch { /* private mode */ }
          }
        },
      }),
      h('span.saved-url', { textContent: `${saved.url} · db ${saved.db ?? 0} · RESP${saved.protocol ?? 2}${saved.cache ? ' · cache' : ''}${saved.token ? ' · token remembered' : ''}` }),
      h('button.small.saved-edit', { type: 'button', textContent: 'Edit', onclick: () => { fill(saved); fields.url.focus(); } }),
      h('button.small.remove.saved-remove', {
        type: 'button',
        textContent: 'Forget',
        'aria-label': `forget ${saved.name}`,
        onclick: async () => {
          if (!await confirmDialog({ title: 'Forget this connection?', message: saved.name, details: [saved.url], confirm: 'Forget', danger: true })) return;
          writeSaved(readSaved().filter((c) => c.name !== saved.name));
          renderSaved();
        },
      }))));
    if (list.length === 0) savedList.append(h('li.note', { textContent: 'None yet: fill in the form and press Save.' }));
  }

  const stateText = { connecting: 'connecting…', connected: 'connected', reconnecting: 'reconnecting…', disconnected: 'disconnected' };
  function renderState() {
    badge.textContent = stateText[session.state];
    badge.className = `status ${session.state}`;
    const options = session.options;
    stateBox.replaceChildren(h('div', {},
      h(`span.status.${session.state}`, { textContent: stateText[session.state] }),
      options ? h('span', { textContent: ` ${session.label} · db ${options.db ?? 0}${options.token ? ' · with a token' : ''}` }) : null));
  }

  function renderLog() {
    logList.replaceChildren(...session.events.slice().reverse().map(({ at, kind, text, level }) => h(`li.event.${level}`, { dataset: { kind } },
      h('time', { textContent: at.toLocaleTimeString('en-GB') }), ' ', h('span', { textContent: text }))));
  }

  session.addEventListener('state', renderState);
  session.addEventListener('log', renderLog);
  renderState();
  renderSaved();
  return { connect, fill };
}
