// The open connection to a bridge, shared by every panel, and its state.
//
// A session holds two connections to the same bridge: `conn` with the
// default UTF8Encoder (strings) for the panels, and `raw` with a
// BytesEncoder (Uint8Array) for the console, key names and binary values,
// plus any a panel adds (`track`, the pub/sub subscriber). Opening another
// connection replaces them all and tells the panels ('change').
//
// `conn` is opened without type checks so that a key name that is not
// UTF-8 can be passed to it as its exact bytes (a Uint8Array) while the
// replies stay strings.
//
// With `options.cluster` both are a `Cluster` (commands routed by slot);
// `nodes()` gives each master's `ClusterNode`, so a panel scans or reads
// INFO node by node.
//
// The state ('connecting', 'connected', 'reconnecting', 'disconnected')
// and a log of events ('log') come from the Connections' lifecycle events.
import { BytesEncoder, Cluster, Connection } from './pkg/index.js';

/**
 * The URL a Cluster is given: a cluster bridge serves its topology feed
 * and nodes under `/ws` (`/ws/cluster`, `/ws/node/<id>`), so a bare
 * `ws://host/` means `ws://host/ws`.
 */
export function clusterUrl(url) {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws';
  return parsed.href;
}

/** Opens a Connection, or a Cluster with `options.cluster`, with `extra` options. */
export function openClient(options, extra = {}) {
  const { cluster, db, clientSideCache, ...common } = options;
  if (cluster) return Cluster.create({ ...common, url: clusterUrl(common.url), ...extra });
  return Connection.create({ ...common, db, clientSideCache, ...extra });
}

const LIFECYCLE = ['connect', 'ready', 'reconnecting', 'error', 'close', 'end'];
const LOG_MAX = 50;

export class Session extends EventTarget {
  conn = null;
  raw = null;
  /** What the connections were opened with: `{ url, token, db, protocol, clientSideCache, cluster }`. */
  options = null;
  /** The saved name of this connection, or its URL. */
  label = '';
  state = 'disconnected';
  events = [];
  #connections = [];
  /** Whether each client without `isConnected` (a Cluster) is up, from its last lifecycle event. */
  #up = new WeakMap();

  /** Whether `client` is connected: its `isConnected`, or what its events said last (a Cluster has no such getter). */
  isUp(client) {
    return client.isConnected ?? this.#up.get(client) ?? true;
  }

  /** Whether the panels' connection is up. */
  get connected() {
    return Boolean(this.conn) && this.isUp(this.conn);
  }

  /**
   * Opens `conn` and `raw` with `options` after closing the current ones.
   * Rejects (with the client's error) when the bridge refuses or Redis
   * refuses AUTH/SELECT; the previous connections are closed either way.
   */
  async open(options, label = options.url) {
    this.close();
    this.label = label;
    this.#setState('connecting', `connecting to ${options.cluster ? `the cluster at ${clusterUrl(options.url)}` : options.url}${options.db ? ` db ${options.db}` : ''}`);
    const created = [];
    try {
      created.push(await openClient(options, { enableTypechecking: false }));
      created.push(await openClient(options, { encoder: new BytesEncoder() }));
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

  /** Whether the session is a Redis Cluster. */
  get isCluster() {
    return Boolean(this.options?.cluster);
  }

  /**
   * Where the keys live: each master of a cluster as `{ id, conn, raw }`
   * (its `ClusterNode`s), or the one server as `{ id: null, conn, raw }`.
   */
  nodes() {
    if (!this.conn) return [];
    if (!this.isCluster) return [{ id: null, conn: this.conn, raw: this.raw }];
    // Each Cluster learns the topology on its own feed: a master one of them has no pool for yet is left out this time.
    const known = (id) => this.conn.nodes.includes(id) && this.raw.nodes.includes(id);
    return this.conn.shards.filter((shard) => shard.master && known(shard.master))
      .map(({ master }) => ({ id: master, conn: this.conn.node(master), raw: this.raw.node(master) }));
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
    // A Cluster is up while its topology feed (connection 0) is: a node's socket that reconnects shows in the log only.
    if (!event.detail?.connection) {
      if (event.type === 'ready') this.#up.set(connection, true);
      if (['reconnecting', 'close', 'end'].includes(event.type)) this.#up.set(connection, false);
    }
    const { attempt, delay } = event.detail ?? {};
    const text = {
      reconnecting: `reconnecting: attempt ${attempt}, next try in ${delay} ms`,
      error: `error: ${event.error?.message ?? event.detail?.message ?? event.message ?? 'connection error'}`,
      close: 'connection closed',
      end: 'gave up reconnecting',
    }[event.type] ?? event.type;
    this.log(event.type, text, event.type === 'error' || event.type === 'end' ? 'error' : 'info');
    this.#setState(this.#connections.every((c) => this.isUp(c)) ? 'connected' : (event.type === 'end' ? 'disconnected' : 'reconnecting'));
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
