// A Redis GUI that runs entirely in the page: every panel talks to Redis
// through the package, over a WebSocket to redis-ws-bridge, as any
// application would. This module opens the first connection, switches
// panels (tabs, #hash links, Alt+1…6) and shows errors.
//
//   import { Connection } from 'redis-wasm';
//   const conn = await Connection.create({ url: 'ws://127.0.0.1:7379/', token, db });
import { startChart } from './chart.js';
import { lastSaved, optionsOf, startConnectionManager } from './connect.js';
import { startConsole } from './console.js';
import { startKeyBrowser } from './keys.js';
import { startPubSub } from './pubsub.js';
import { startServerPanel } from './server.js';
import { Session } from './session.js';

const PANELS = ['connection', 'keys', 'server', 'console', 'pubsub', 'live'];
const DEFAULT_PANEL = 'keys';

const toast = document.getElementById('toast');

/** Shows an error from a panel for a few seconds. */
function report(err) {
  toast.textContent = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  toast.hidden = false;
  clearTimeout(report.timer);
  report.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}

// ------------------------------------------------------------ panels

const tabs = new Map(PANELS.map((name) => [name, document.getElementById(`tab-${name}`)]));
const panels = new Map(PANELS.map((name) => [name, document.getElementById(`panel-${name}`)]));
let current = null;
const onShow = new Map();

/** Shows a panel; `focus` puts the keyboard on its tab (keyboard navigation), else the panel may take it. */
function showPanel(name, { focus = false } = {}) {
  if (!panels.has(name)) name = DEFAULT_PANEL;
  current = name;
  for (const [other, tab] of tabs) {
    const selected = other === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    panels.get(other).hidden = !selected;
  }
  if (focus) tabs.get(name).focus();
  if (location.hash !== `#${name}`) history.replaceState(null, '', `${location.pathname}${location.search}#${name}`);
  onShow.get(name)?.({ focus });
}
const isShown = (name) => () => current === name;

document.querySelector('nav[role=tablist]').addEventListener('click', (event) => {
  const tab = event.target.closest('[role=tab]');
  if (tab) showPanel(tab.dataset.panel);
});
// Arrow keys move between tabs (and show the panel), as WAI-ARIA tabs do.
document.querySelector('nav[role=tablist]').addEventListener('keydown', (event) => {
  const at = PANELS.indexOf(current);
  const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: PANELS.length - 1 }[event.key];
  if (to === undefined) return;
  event.preventDefault();
  showPanel(PANELS[(to + PANELS.length) % PANELS.length], { focus: true });
});
document.addEventListener('keydown', (event) => {
  if (!event.altKey || event.ctrlKey || event.metaKey) return;
  const index = Number(event.key) - 1;
  if (PANELS[index]) {
    event.preventDefault();
    showPanel(PANELS[index], { focus: true });
  }
});
window.addEventListener('hashchange', () => showPanel(location.hash.slice(1)));
document.getElementById('status').addEventListener('click', () => showPanel('connection', { focus: true }));

// ------------------------------------------------------------ start

const session = new Session();
// The bridge that served this page, or another one given as ?bridge=ws://...
const ownBridge = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const asked = new URLSearchParams(location.search).get('bridge');
const manager = startConnectionManager({ session, defaultUrl: asked ?? ownBridge, showPanel });
startKeyBrowser({ session, report });
const server = startServerPanel({ session, isShown: isShown('server') });
const chart = startChart({ session, isShown: isShown('live') });
startConsole({ session });
startPubSub({ session, report });
onShow.set('server', () => server.shown());
onShow.set('live', () => chart.shown());
onShow.set('console', ({ focus }) => { if (!focus) document.getElementById('command').focus(); });

const serverLabel = document.getElementById('server');
session.addEventListener('change', async () => {
  serverLabel.textContent = '';
  if (!session.conn) return;
  const info = await session.conn.info('server').then((reply) => reply.sections().get('Server'), () => null);
  const where = session.isCluster ? ` · cluster of ${session.nodes().length} masters` : session.options.db ? ` · db ${session.options.db}` : '';
  serverLabel.textContent = `${info ? `Redis ${info.get('redis_version')} · ` : ''}${session.label}${where}`;
});

showPanel(location.hash.slice(1) || DEFAULT_PANEL);
const saved = asked ? null : lastSaved();
if (saved) {
  manager.fill(saved);
  manager.connect(optionsOf(saved), saved.name);
} else {
  manager.connect({ url: asked ?? ownBridge, db: 0 }, asked ?? 'this page\'s bridge', { detect: true });
}
