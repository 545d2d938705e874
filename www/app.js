// The demo page: a console, a key browser, live pub/sub and a latency
// chart, each in its own module and each using the package as any
// application would. This module connects and wires them together.
//
//   import { Connection, BytesEncoder } from 'redis-wasm';
//   const conn = await Connection.create({ url: 'ws://127.0.0.1:7379/' });
import { BytesEncoder, Connection } from './pkg/index.js';
import { startChart } from './chart.js';
import { startConsole } from './console.js';
import { startKeyBrowser } from './keys.js';
import { startPubSub } from './pubsub.js';

// The bridge that served this page, or another one given as ?bridge=ws://...
const url = new URLSearchParams(location.search).get('bridge')
  ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

const statusBadge = document.getElementById('status');
const toast = document.getElementById('toast');

function setStatus(kind, text = kind) {
  statusBadge.textContent = text;
  statusBadge.className = `status ${kind}`;
}

/** Shows an error from a panel for a few seconds. */
function report(err) {
  toast.textContent = `${err?.name ?? 'Error'}: ${err?.message ?? err}`;
  toast.hidden = false;
  clearTimeout(report.timer);
  report.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}

/**
 * Two connections: `conn` with the default UTF8Encoder (strings in and out)
 * for the panels, `raw` with a BytesEncoder (Uint8Array in and out) for the
 * console, which shows binary replies byte for byte. Retried until the
 * bridge answers.
 */
async function connect() {
  for (let attempt = 0; ; attempt++) {
    try {
      const conn = await Connection.create({ url });
      const raw = await Connection.create({ url, encoder: new BytesEncoder() });
      return { conn, raw };
    } catch (err) {
      setStatus('disconnected');
      if (attempt === 0) {
        const entry = document.createElement('div');
        entry.className = 'entry';
        entry.innerHTML = '<div class="cmd">(connect)</div><div class="reply error"></div>';
        entry.lastChild.textContent = `(error) ${err.message}`;
        document.getElementById('output').append(entry);
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

const { conn, raw } = await connect();
setStatus('connected');

const server = (await conn.info('server').catch(() => null))?.sections().get('Server');
if (server) document.getElementById('server').textContent = `Redis ${server.get('redis_version')} via ${new URL(url).host}`;

const pubsub = startPubSub({ conn, url, report });
startConsole({ raw, conn, statusChanged: showConnection });
startKeyBrowser({ conn, raw, report });
startChart({ conn });

/** The indicator: connected, or reconnecting while any connection is down (they reconnect by themselves). */
function showConnection() {
  const up = [conn, raw, ...pubsub.connections()].every((c) => c.isConnected);
  setStatus(up ? 'connected' : 'reconnecting', up ? 'connected' : 'reconnecting…');
}
setInterval(showConnection, 500);
