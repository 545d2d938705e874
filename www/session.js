// The open connection to a bridge, shared by every panel, and its state.
//
// A session holds two connections to the same bridge: `conn` with the
// default UTF8Encoder (strings) for the panels, and `raw` with a
// BytesEncoder (Uint8Array) for the console and binary values, plus any
// a panel adds (`track`, the pub/sub subscriber). Opening another
// connection replaces them all and tells the panels ('change').
//
// The state ('connecting', 'connected', 'reconnecting', 'disconnected')
// and a log of events ('log') come from the Connections' lifecycle events.
import { BytesEncoder, Connection } from './pkg/index.js';

const LIFECYCLE = ['connect', 'ready', 'reconnecting', 'error', 'close', 'end'];
const LOG_MAX = 50;

export class Session extends EventTarget {
  conn = null;
  raw = null;
  /** What the connections were opened with: `{ url, token, db }` (and later protocol, cache). */
  options = null;
  /** The saved name of this connection, or its URL. */
  label = '';
  state = 'disconnected';
  events = [];
  #connections = [];

  /**
   * Opens `conn` and `raw` with `options` after closing the current ones.
   * Rejects (with the client's error) when the bridge refuses or Redis
   * refuses AUTH/SELECT; the previous connections are closed either way.
   */
  async open(options, label = options.url) {
    this.close();
    this.label = label;
    this.#setState('connecting', `connecting to ${options.url}${options.db ? ` db ${options.db}` : ''}`);
    const created = [];
    try {
      created.push(await Connection.create(options));
      created.push(await Connection.create({ ...options, encoder: new BytesEncoder() }));
    } catch (err) {
      for (const c of created) c.close();
      this.#setState('disconnected', `failed: ${err.message}`, 'error');
      throw err;
    }
    [this.conn, this.raw] = created;
    this.options = options;
    for (const c of created) this.track(c);
    this.#setState('connected', `connected to ${options.url}`);
    this.dispatchEvent(new Event('change'));
  }

  /** Closes every connection of the session. */
  close() {
    for (const c of this.#connections) c.close();
    this.#connections = [];
    if (this.conn) {
      this.conn = null;
      this.raw = null;
      this.options = null;
      this.#setState('disconnected', 'closed');
      this.dispatchEvent(new Event('change'));
    }
  }

  /** Another connection of this session: watched for the state and closed with it. */
  track(connection) {
    this.#connections.push(connection);
    for (const type of LIFECYCLE) connection.addEventListener(type, (event) => this.#lifecycle(connection, event));
  }

  #lifecycle(connection, event) {
    if (!this.#connections.includes(connection)) return;
    const { attempt, delay } = event.detail ?? {};
    const text = {
      reconnecting: `reconnecting: attempt ${attempt}, next try in ${delay} ms`,
      error: `error: ${event.error?.message ?? event.detail?.message ?? event.message ?? 'connection error'}`,
      close: 'connection closed',
      end: 'gave up reconnecting',
    }[event.type] ?? event.type;
    this.log(event.type, text, event.type === 'error' || event.type === 'end' ? 'error' : 'info');
    this.#setState(this.#connections.every((c) => c.isConnected) ? 'connected' : (event.type === 'end' ? 'disconnected' : 'reconnecting'));
  }

  #setState(state, text, level = 'info') {
    const changed = state !== this.state;
    this.state = state;
    if (text) this.log(state, text, level);
    if (changed) this.dispatchEvent(new Event('state'));
  }

  /** Adds a line to the connection log. */
  log(kind, text, level = 'info') {
    this.events.push({ at: new Date(), kind, text, level });
    if (this.events.length > LOG_MAX) this.events.shift();
    this.dispatchEvent(new Event('log'));
  }
}
