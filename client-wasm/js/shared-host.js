// The worker logic behind SharedConnection (shared.js): it owns the
// sockets, and every tab of the origin talks to it over a port. It runs in
// the SharedWorker (shared-worker.js, over MessagePorts) or, where there is
// no SharedWorker, in the leader tab (shared-leader.js, over ports it makes
// on a BroadcastChannel): `serve` takes anything with `postMessage`,
// `onmessage`, `start` and `close`, so both hosts run this same code.
//
// - One data Connection per set of options carries every tab's plain
//   commands (the core matches replies by order, so tabs' pipelines can
//   interleave on it); with `clientSideCache`, its cache serves every tab.
// - What would hold or change that connection gets one of its own, leased
//   for the time it needs it: a transaction (sent as one batch by the tab),
//   a blocking command. SELECT, AUTH, HELLO, CLIENT SETNAME, WATCH and
//   SUBSCRIBE through `call()` are refused (`__sharedRole` says which).
// - One subscribed Connection per set of options: channels and patterns
//   are counted across tabs, and each message goes once to each tab that
//   subscribed to it.
// - A tab holds the Web Lock `redis-wasm-tab:<id>` while it lives; when the
//   host is granted it, the tab is gone: its leases close, its
//   subscriptions are dropped, and with the last tab the sockets close.

// The package initialises the wasm with a top-level await, and a module
// worker's `connect` events start as soon as its own top level has run:
// so the package is imported here, not statically, and `serve` waits for it.
let Connection;
let BytesEncoder;
let sharedRole;
const loaded = Promise.all([import('./index.js'), import('./redis_wasm.js')]).then(([pkg, glue]) => {
  ({ Connection, BytesEncoder } = pkg);
  sharedRole = glue.__sharedRole;
});

/** Options seen → the sockets opened for them. */
const clients = new Map();

/** Idle leased connections kept for reuse, per client. */
const SPARE_LEASES = 1;

class Client {
  constructor(options) {
    this.options = { ...options, encoder: undefined };
    this.bytes = options.encoder === 'bytes';
    this.tabs = new Set();
    this.spare = [];
    this.data = this.connect();
    this.data.then((conn) => {
      for (const name of ['connect', 'ready', 'reconnecting', 'error', 'close', 'end', 'invalidate']) {
        conn.addEventListener(name, (event) => {
          const detail = { ...event.detail };
          if (detail.error) detail.error = packError(detail.error);
          for (const tab of this.tabs) tab.post({ event: name, detail });
        });
      }
    }, () => {});
    this.subscription = null;
    this.counts = { subscribe: new Map(), psubscribe: new Map() };
  }

  connect() {
    return Connection.create({ ...this.options, ...(this.bytes ? { encoder: new BytesEncoder() } : {}) });
  }

  /** A connection of the tab's own, until `release`. */
  async lease(tab) {
    const conn = this.spare.pop() ?? await this.connect();
    tab.leases.add(conn);
    return conn;
  }

  /** Keeps a leased connection spare, or closes it. */
  release(tab, conn) {
    tab.leases.delete(conn);
    if (tab.gone || !conn.isConnected || conn.inUse || this.spare.length >= SPARE_LEASES) conn.close();
    else this.spare.push(conn);
  }

  /** Runs `work` on a leased connection. */
  async leased(tab, work) {
    const conn = await this.lease(tab);
    try {
      return await work(conn);
    } finally {
      this.release(tab, conn);
    }
  }

  /** The subscribed connection, opened on first use, delivering to tabs. */
  subscribed() {
    this.subscription ??= (async () => {
      const conn = await this.connect();
      const subscription = await conn.startSubscribe();
      (async () => {
        for (;;) {
          const message = await subscription.nextPublished();
          const { channel, value, pattern } = message;
          for (const tab of this.tabs) {
            if (pattern === null ? tab.channels.subscribe.has(channel) : tab.channels.psubscribe.has(pattern)) {
              tab.post({ message: { channel, value, pattern } });
            }
          }
        }
      })().catch(() => {});
      return { conn, subscription };
    })();
    return this.subscription;
  }

  /** A tab (un)subscribes: Redis hears of a name when the first tab wants it and the last lets go. */
  async change(tab, op, names) {
    const kind = op.startsWith('p') ? 'psubscribe' : 'subscribe';
    const adding = !op.includes('unsubscribe');
    const mine = tab.channels[kind];
    const counts = this.counts[kind];
    const asked = adding ? names : (names.length ? names : [...mine]);
    const changed = [];
    for (const name of asked) {
      if (adding === mine.has(name)) continue;
      if (adding) mine.add(name);
      else mine.delete(name);
      const count = (counts.get(name) ?? 0) + (adding ? 1 : -1);
      if (count === 0) counts.delete(name);
      else counts.set(name, count);
      if (count === (adding ? 1 : 0)) changed.push(name);
    }
    if (changed.length === 0) return;
    const { subscription } = await this.subscribed();
    await subscription[adding ? kind : `${kind.startsWith('p') ? 'p' : ''}unsubscribe`](changed);
  }

  /** A tab left: its subscriptions go, and with the last tab the sockets close. */
  async left(tab) {
    this.tabs.delete(tab);
    for (const conn of tab.leases) conn.close();
    for (const kind of ['subscribe', 'psubscribe']) {
      const names = [...tab.channels[kind]];
      if (names.length) await this.change(tab, kind === 'subscribe' ? 'unsubscribe' : 'punsubscribe', names).catch(() => {});
    }
    if (this.tabs.size > 0) return;
    clients.delete(this.key);
    for (const conn of this.spare.splice(0)) conn.close();
    this.data.then((conn) => conn.close(), () => {});
    this.subscription?.then(({ conn }) => conn.close(), () => {});
  }
}

/** Reply classes do not survive structured cloning: they travel by name. */
async function pack(value) {
  const name = value?.constructor?.name;
  if (typeof value?._all === 'function') return { reply: name, items: await value._all() };
  switch (name) {
    case 'StatusReply': return { reply: name, args: [value.status] };
    case 'ConfigPairReply': return { reply: name, args: [value.parameter, value.value] };
    case 'BlockingPopReply': return { reply: name, args: [value.listName, value.value] };
    case 'InfoReply':
    case 'ClientListReply': return { reply: name, args: [value.raw] };
    case 'EvalScriptReply': return { reply: name, args: [await value.returnValue()] };
    default: return { value };
  }
}

function packError(err) {
  return { name: err?.name ?? 'Error', message: err?.message ?? String(err), command: err?.command };
}

class Tab {
  constructor(port) {
    this.port = port;
    this.leases = new Set();
    this.channels = { subscribe: new Set(), psubscribe: new Set() };
    this.gone = false;
    this.txs = new Map();
    this.nextTx = 1;
    this.leaving = new AbortController();
    port.onmessage = ({ data }) => this.handle(data);
    port.start();
  }

  post(message) {
    if (!this.gone) this.port.postMessage(message);
  }

  async handle({ id, op, ...body }) {
    if (op === 'close') return this.leave();
    try {
      const result = await this[`op_${op}`](body);
      this.post({ id, ok: true, ...(op === 'tx' ? { outcomes: result } : await pack(result)) });
    } catch (err) {
      this.post({ id, ok: false, error: packError(err) });
    }
  }

  async op_open({ tab, options }) {
    const key = JSON.stringify(options);
    if (!clients.has(key)) clients.set(key, Object.assign(new Client(options), { key }));
    this.client = clients.get(key);
    this.client.tabs.add(this);
    // Granted once the tab no longer holds it: it closed or crashed.
    navigator.locks.request(`redis-wasm-tab:${tab}`, { signal: this.leaving.signal }, () => this.leave()).catch(() => {});
    try {
      await this.client.data;
    } catch (err) {
      this.leave();
      throw err;
    }
  }

  async op_send({ cmd, kind, line }) {
    const role = sharedRole(cmd, kind, line);
    if (role === 'lease') return this.client.leased(this, (conn) => conn.__send(cmd, kind, line));
    if (role !== null) throw Object.assign(new Error(role), { name: 'RedisError' });
    return (await this.client.data).__send(cmd, kind, line);
  }

  /** A transaction that watches keys begins now, on a leased connection kept until it ends. */
  async op_begin({ watch }) {
    const conn = await this.client.lease(this);
    try {
      const tx = await conn.multi(watch);
      const id = this.nextTx++;
      this.txs.set(id, { conn, tx });
      return id;
    } catch (err) {
      this.client.release(this, conn);
      throw err;
    }
  }

  /** A transaction's commands, as one batch: on the connection `begin` leased, or on one leased now. */
  async op_tx({ tx: id, commands, discard }) {
    const begun = id === undefined ? null : this.txs.get(id);
    if (id !== undefined && !begun) throw Object.assign(new Error('Transaction already finished or invalid.'), { name: 'TransactionError' });
    this.txs.delete(id);
    const conn = begun?.conn ?? await this.client.lease(this);
    try {
      const tx = begun?.tx ?? await conn.multi();
      if (discard) return tx.discard();
      const replies = commands.map(({ cmd, kind, line }) => tx.__send(cmd, kind, line)
        .then(async (value) => ({ ok: true, ...await pack(value) }), (err) => ({ ok: false, error: packError(err) })));
      await tx.exec();
      return Promise.all(replies);
    } finally {
      this.client.release(this, conn);
    }
  }

  op_subscribe({ names }) { return this.client.change(this, 'subscribe', names); }
  op_psubscribe({ names }) { return this.client.change(this, 'psubscribe', names); }
  op_unsubscribe({ names }) { return this.client.change(this, 'unsubscribe', names); }
  op_punsubscribe({ names }) { return this.client.change(this, 'punsubscribe', names); }

  async op_cacheStats() {
    return (await this.client.data).cacheStats();
  }

  leave() {
    if (this.gone) return;
    this.gone = true;
    this.leaving.abort();
    this.port.close();
    this.client?.left(this);
  }
}

/** Serves one tab over `port`; resolves to its Tab (`leave()` ends it). */
export async function serve(port) {
  await loaded;
  return new Tab(port);
}
