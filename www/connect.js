// The connection manager: a form for the bridge URL, token and database
// (or cluster mode), connections saved in localStorage (the token only
// when "remember" is ticked), what went wrong when a bridge refuses, and
// the connection's state with its last events.
//
// A page only sees a failed WebSocket, never the bridge's 400 "this bridge
// serves a cluster", and a refused Connection keeps retrying until its
// connect timeout. So the page's first, automatic connection (to the
// bridge that served it, or ?bridge=) asks first whether the bridge's
// cluster feed takes a WebSocket (a plain bridge answers 404 at once), and
// connects in cluster mode when it does. A plain connection from the form
// to a bridge that serves a cluster is not tried: the page says at once
// to tick "Redis Cluster".
import { diagnose } from './diagnose.js';
import { confirmDialog } from './dialog.js';
import { h } from './dom.js';
import { clusterUrl } from './session.js';

const PROBE_MS = 3000;

/** Whether the bridge at `url` serves a cluster: its topology feed (`…/ws/cluster`) takes a WebSocket. */
function servesCluster(url) {
  let feed;
  try {
    feed = new URL(clusterUrl(url));
  } catch {
    return Promise.resolve(false);
  }
  feed.pathname = `${feed.pathname.replace(/\/$/, '')}/cluster`;
  return new Promise((resolve) => {
    let socket;
    try {
      socket = new WebSocket(feed.href);
    } catch {
      resolve(false); // not a WebSocket URL: the connection says why
      return;
    }
    const done = (answer) => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = null;
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), PROBE_MS);
    socket.onopen = () => done(true);
    socket.onerror = () => done(false);
  });
}

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
  cluster: saved.cluster || undefined,
});

/** `ws://… · db 0 · RESP2`, what a connection's options say in a line. */
const summary = (saved) => `${saved.url} · ${saved.cluster ? 'cluster' : `db ${saved.db ?? 0}`} · RESP${saved.protocol ?? 2}${saved.cache ? ' · cache' : ''}`;

export function startConnectionManager({ session, defaultUrl, showPanel }) {
  const form = document.getElementById('conn-form');
  const fields = {
    name: document.getElementById('conn-name'),
    url: document.getElementById('conn-url'),
    token: document.getElementById('conn-token'),
    db: document.getElementById('conn-db'),
    protocol: document.getElementById('conn-protocol'),
    cache: document.getElementById('conn-cache'),
    cluster: document.getElementById('conn-cluster'),
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
  // A cluster has db 0 only and no client-side cache: both are disabled, and the note says why.
  const clusterNote = document.getElementById('conn-cluster-note');
  function syncCluster() {
    const cluster = fields.cluster.checked;
    if (cluster) {
      fields.db.value = '0';
      fields.cache.checked = false;
    }
    fields.db.disabled = fields.cache.disabled = cluster;
    fields.db.title = fields.cache.title = cluster ? clusterNote.textContent : '';
    clusterNote.hidden = !cluster;
  }
  fields.cluster.addEventListener('change', syncCluster);

  /** What the form asks for, as `Connection.create` options. */
  function optionsFromForm() {
    const db = Number(fields.db.value || 0);
    return {
      url: fields.url.value.trim(),
      token: fields.token.value || undefined,
      db,
      protocol: Number(fields.protocol.value),
      clientSideCache: fields.cache.checked || undefined,
      cluster: fields.cluster.checked || undefined,
    };
  }


  function fill(saved) {
    fields.name.value = saved.name;
    fields.url.value = saved.url;
    fields.db.value = String(saved.db ?? 0);
    fields.protocol.value = String(saved.protocol ?? 2);
    fields.cache.checked = Boolean(saved.cache);
    fields.cluster.checked = Boolean(saved.cluster);
    syncCluster();
    fields.token.value = saved.token ?? '';
    fields.remember.checked = saved.token !== undefined;
  }

  const connectButton = document.getElementById('conn-connect');

  /**
   * Opens `options`; with `detect` (the page's automatic first
   * connection), in cluster mode when the bridge serves a cluster (only
   * for db 0 without the cache, which a cluster has not).
   */
  async function connect(options, label, { detect = false } = {}) {
    problem.hidden = true;
    form.ariaBusy = 'true';
    connectButton.disabled = true;
    try {
      if (!options.cluster && await servesCluster(options.url)) {
        if (!detect || options.db || options.clientSideCache) {
          showProblem(null, {
            title: 'This bridge serves a Redis Cluster',
            causes: ['It refuses plain connections ("cluster_only"): tick "Redis Cluster" and connect again.',
              'A cluster has database 0 only, and no client-side cache.'],
            log: null,
          });
          showPanel('connection');
          return false;
        }
        options = { ...options, cluster: true };
        fields.cluster.checked = true;
        syncCluster();
        session.log('cluster', 'this bridge serves a Redis Cluster: connecting in cluster mode');
      }
      await session.open(options, label);
      return true;
    } catch (err) {
      showProblem(err, await diagnose(err, options));
      showPanel('connection');
      return false;
    } finally {
      form.ariaBusy = 'false';
      connectButton.disabled = false;
    }
  }

  function showProblem(err, { title, causes, log }) {
    problem.replaceChildren(h('div', {},
      h('strong', { textContent: title }),
      err ? h('p.note', { textContent: `The client said: ${err.message}` }) : null,
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
    if (options.cluster) entry.cluster = true;
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
      h('span.saved-url', { textContent: `${summary(saved)}${saved.token ? ' · token remembered' : ''}` }),
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
      options ? h('span', { textContent: ` ${session.label} · ${options.cluster ? `Redis Cluster of ${session.nodes().length} masters` : `db ${options.db ?? 0}`}${options.token ? ' · with a token' : ''}` }) : null));
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
