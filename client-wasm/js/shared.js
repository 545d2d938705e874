// SharedConnection: one connection per origin and bridge URL, shared by
// every tab through one host that owns the sockets (shared-host.js): a
// SharedWorker (shared-worker.js), or where there is none, the leader tab
// elected with a Web Lock (shared-leader.js).
//
// A tab builds each command line itself (the same generated methods as a
// Connection's) and posts it, numbered, to the host; the host sends it and
// posts the outcome back. Reply classes do not survive structured cloning,
// so they travel as `{ reply, args | items }` and are made again here. A
// tab holds a Web Lock for as long as it lives: the host waits on it, so a
// closed or crashed tab's leases, subscriptions and requests are released
// at once (neither a MessagePort nor a BroadcastChannel has a close event).
import * as wasm from './redis_wasm.js';

const WORKER = new URL('./shared-worker.js', import.meta.url);

let classes;
const cls = () => (classes ??= wasm.__classes());

/** A value as the worker packed it (see `pack` in shared-worker.js). */
export function unpack(packed) {
  if (packed.reply === undefined) return packed.value;
  const Reply = cls()[packed.reply];
  if (packed.items === undefined) return new Reply(...packed.args);
  const reply = new Reply(packed.items.length);
  for (const item of packed.items) reply._push(item);
  reply._end();
  return reply;
}

/** An error as the worker packed it, as its own class again. */
export function unpackError({ name, message, command }) {
  const ErrorClass = cls()[name];
  if (name === 'TypeError' || !ErrorClass) return Object.assign(new (name === 'TypeError' ? TypeError : Error)(message), { name });
  return new ErrorClass(message, command);
}

/**
 * The tab's end of its link to the host: requests by number, replies,
 * events and messages. `send` (a subclass's) carries a request there.
 */
export class Port {
  constructor({ onEvent, onMessage }) {
    this.next = 1;
    this.waiting = new Map();
    this.ended = null;
    this.onEvent = onEvent;
    this.onMessage = onMessage;
  }

  receive(data) {
    if (data.id !== undefined) {
      const waiter = this.waiting.get(data.id);
      this.waiting.delete(data.id);
      if (data.ok) waiter?.resolve(data.outcomes ?? unpack(data));
      else waiter?.reject(unpackError(data.error));
    } else if (data.event) {
      this.onEvent(data.event, data.detail);
    } else if (data.message) {
      this.onMessage(data.message);
    }
  }

  call(op, body = {}) {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send({ id, op, ...body });
    });
  }

  /** Every request still waiting rejects with `error`, and so does every later one. */
  fail(error) {
    this.ended = error;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}

/** The link to the SharedWorker: its MessagePort. */
class WorkerPort extends Port {
  constructor(port, handlers) {
    super(handlers);
    this.port = port;
    port.onmessage = ({ data }) => this.receive(data);
    port.start();
  }

  send(message) { this.port.postMessage(message); }

  open(body) { return this.call('open', body); }

  /** The tab leaves: the worker lets its leases go; what still waits rejects. */
  close(error) {
    this.send({ op: 'close' });
    this.fail(error);
    this.port.close();
  }
}

/** The options a worker can take (structured-cloneable, no class instances). */
function cloneable(options, who) {
  if (!options || typeof options !== 'object' || typeof options.url !== 'string') {
    throw new TypeError(`${who}: options must be an object such as { url: 'ws://127.0.0.1:7379' }`);
  }
  if (options.WebSocket !== undefined) throw new TypeError(`${who}: options.WebSocket cannot cross to the shared worker`);
  const { encoder, ...rest } = options;
  const kind = encoder?.nativeKind ?? 'utf8';
  if (kind !== 'utf8' && kind !== 'bytes') throw new TypeError(`${who}: only UTF8Encoder and BytesEncoder cross to the shared worker`);
  if (encoder && !(encoder instanceof cls()[kind === 'bytes' ? 'BytesEncoder' : 'UTF8Encoder'])) {
    throw new TypeError(`${who}: only UTF8Encoder and BytesEncoder cross to the shared worker`);
  }
  return { options: { ...rest, encoder: kind }, encoder: encoder ?? new (cls().UTF8Encoder)() };
}

/** Where the host runs: `sharing` 'auto' (the default), 'worker' or 'leader'. */
function hostOf(sharing, who) {
  if (!['auto', 'worker', 'leader'].includes(sharing)) {
    throw new TypeError(`${who}: options.sharing must be 'auto', 'worker' or 'leader'`);
  }
  const worker = sharing === 'worker' || (sharing === 'auto' && typeof SharedWorker !== 'undefined');
  if (!globalThis.navigator?.locks || (worker ? typeof SharedWorker : typeof BroadcastChannel) === 'undefined') {
    throw new TypeError(`${who}: this runtime has no ${worker ? 'SharedWorker' : 'BroadcastChannel'} or Web Locks (use Connection)`);
  }
  return worker ? 'worker' : 'leader';
}

/** The Connection API, every command going through the origin's one shared host. */
export class SharedConnection {
  #port;
  #builders;
  #events = new EventTarget();
  #connected = true;
  #release;
  /** Transactions whose WATCH runs at the host: they end if it goes. */
  #begun = new Set();

  /** Opens (or joins) the origin's shared connection for these options. */
  static async create(options) {
    const who = 'SharedConnection.create';
    const { sharing = 'auto', ...rest } = options ?? {};
    const host = hostOf(sharing, who);
    const { options: shared, encoder } = cloneable(options && rest, who);
    const tab = crypto.randomUUID();
    // Held until the tab closes or goes: the host waits for it to be free.
    let release;
    await new Promise((held) => {
      navigator.locks.request(`redis-wasm-tab:${tab}`, () => {
        held();
        return new Promise((done) => { release = done; });
      });
    });
    let link;
    if (host === 'worker') {
      const worker = new SharedWorker(WORKER, { type: 'module', name: `redis-wasm ${shared.url}` });
      link = (handlers) => new WorkerPort(worker.port, handlers);
    } else {
      const { LeaderPort } = await import('./shared-leader.js');
      link = (handlers) => new LeaderPort(shared.url, handlers);
    }
    const conn = new SharedConnection(link, encoder, shared.enableTypechecking ?? true, release);
    try {
      await conn.#port.open({ tab, options: shared });
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  constructor(link, encoder, strict, release) {
    this.#release = release;
    this.#port = link({
      onEvent: (name, detail) => {
        if (name === 'ready' || name === 'leader') this.#connected = true;
        if (name === 'close' || name === 'end') this.#connected = false;
        if (detail?.error) detail.error = unpackError(detail.error);
        this.#events.dispatchEvent(new CustomEvent(name, { detail }));
      },
      onMessage: (message) => this.#subscription?.deliver(message),
      onLost: (error) => this.#lost(error),
    });
    this.#builders = { encoder, strict };
    wasm.__adopt(this, this.#builders);
  }

  /** The host went (a leader tab closed): what lived there ends with `error`. */
  #lost(error) {
    this.#connected = false;
    this.#subscription?.close(error);
    this.#subscription = null;
    for (const tx of this.#begun) tx.end(error);
    this.#begun.clear();
  }

  /** Sends a line built by a command method (see install.js). */
  __send(cmd, kind, line, signal) {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const sent = this.#port.call('send', { cmd, kind, line });
    if (!signal) return sent;
    return new Promise((resolve, reject) => {
      // The worker still sends it; its reply is not waited for here.
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      sent.then(resolve, reject);
    });
  }

  /** A transaction: its commands leave as one batch, on a connection of its own. */
  async multi(watch) {
    const keys = watch === undefined || watch === null ? [] : Array.from(watch);
    // Watched keys are watched from now, on a connection leased until exec or discard.
    const begun = keys.length ? await this.#port.call('begin', { watch: keys }) : undefined;
    const tx = new SharedTransaction((commands, discard) => {
      this.#begun.delete(tx);
      return this.#port.call('tx', { tx: begun, commands, discard });
    });
    if (begun !== undefined) this.#begun.add(tx);
    return wasm.__adopt(tx, this.#builders);
  }

  #subscription = null;

  /** Pub/sub through the worker's one subscribed connection. */
  async startSubscribe() {
    this.#subscription ??= new SharedSubscription((op, names) => this.#port.call(op, { names }));
    return this.#subscription;
  }

  /** Iterate the keys matching `match` (all keys by default). */
  scan(match) { return new SharedCursor((at) => this.call('SCAN', at, ...matching(match)), 'keys'); }
  /** Iterate the members of a set. */
  sscan(key, match) { return new SharedCursor((at) => this.call('SSCAN', key, at, ...matching(match)), 'set'); }
  /** Iterate the fields of a hash: items are `[field, value]`. */
  hscan(key, match) { return new SharedCursor((at) => this.call('HSCAN', key, at, ...matching(match)), 'hash'); }
  /** Iterate a sorted set: items are `[member, score]`. */
  zscan(key, match) { return new SharedCursor((at) => this.call('ZSCAN', key, at, ...matching(match)), 'zset'); }

  /** Loads a Lua script (`SCRIPT LOAD`); its `run` uses EVALSHA, and EVAL once the server lost it. */
  async registerScript(code) {
    return new SharedScript(this, code, await this.scriptLoad(code));
  }

  /** The cache's counters in the worker (a Promise here), or `null`. */
  cacheStats() {
    return this.#port.call('cacheStats');
  }

  get isConnected() { return this.#connected; }
  get events() { return this.#events; }

  close() {
    this.#connected = false;
    const closed = unpackError({ name: 'ConnectionLostError', message: 'the connection was closed by the client' });
    this.#port.close(closed);
    this.#subscription?.close(closed);
    for (const tx of this.#begun) tx.end(closed);
    this.#release?.();
  }
}

const matching = (match) => (match === undefined || match === null ? [] : ['MATCH', match]);
const text = (cursor) => (typeof cursor === 'string' ? cursor : new TextDecoder().decode(cursor));

/**
 * A scan walked page by page with `call` (SCAN, SSCAN, HSCAN or ZSCAN): the
 * `Cursor` API of a Connection's scans, over the shared connection.
 */
export class SharedCursor {
  #page;
  #kind;
  #at = '0';
  #done = false;
  #buffer = [];

  constructor(page, kind) {
    this.#page = page;
    this.#kind = kind;
  }

  /** The next item, or `null` after the last. */
  async fetchone() {
    while (!this.#buffer.length && !this.#done) {
      const [next, found] = await this.#page(this.#at);
      this.#at = text(next);
      this.#done = this.#at === '0';
      if (this.#kind === 'hash' || this.#kind === 'zset') {
        for (let i = 0; i + 1 < found.length; i += 2) {
          this.#buffer.push([found[i], this.#kind === 'zset' ? Number(text(found[i + 1])) : found[i + 1]]);
        }
      } else {
        this.#buffer.push(...found);
      }
    }
    return this.#buffer.length ? this.#buffer.shift() : null;
  }

  /** Every remaining item: an Array of keys, a Set of members, or a Map. */
  async fetchall() {
    const items = [];
    for (let item = await this.fetchone(); item !== null; item = await this.fetchone()) items.push(item);
    if (this.#kind === 'set') return new Set(items);
    if (this.#kind === 'hash' || this.#kind === 'zset') return new Map(items);
    return items;
  }

  async *[Symbol.asyncIterator]() {
    for (let item = await this.fetchone(); item !== null; item = await this.fetchone()) yield item;
  }
}

/** A script loaded through a SharedConnection: `run` as a Connection's `Script`. */
export class SharedScript {
  #conn;

  constructor(conn, code, sha) {
    this.#conn = conn;
    this.code = code;
    this.sha = sha;
  }

  /** Runs the script by its digest (sending it whole once if the server lost it). */
  async run(keys = [], args = []) {
    const [k, a] = [Array.from(keys ?? []), Array.from(args ?? [])];
    try {
      return await this.#conn.evalsha(this.sha, k, a);
    } catch (err) {
      if (err?.code !== 'NOSCRIPT') throw err;
      const value = await this.#conn.call('EVAL', this.code, String(k.length), ...k, ...a);
      return new (cls().EvalScriptReply)(value);
    }
  }
}

/** A transaction's commands, queued here until `exec()` sends them all at once. */
export class SharedTransaction {
  #commands = [];
  #run;
  #done = false;
  #ended = null;

  constructor(run) { this.#run = run; }

  __send(cmd, kind, line) {
    if (this.#done) return Promise.reject(this.#over());
    return new Promise((resolve, reject) => this.#commands.push({ cmd, kind, line, resolve, reject }));
  }

  async exec() {
    const commands = this.#finish();
    let outcomes;
    try {
      outcomes = await this.#run(commands.map(({ cmd, kind, line }) => ({ cmd, kind, line })));
    } catch (err) {
      for (const { reject } of commands) reject(err);
      throw err;
    }
    commands.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) resolve(unpack(outcome));
      else reject(unpackError(outcome.error));
    });
  }

  async discard() {
    const discarded = unpackError({ name: 'TransactionError', message: 'the transaction was discarded' });
    for (const { reject } of this.#finish()) reject(discarded);
    await this.#run([], true);
  }

  /** Its connection went (the host or the tab closed): its commands reject with `error`. */
  end(error) {
    if (this.#done) return;
    this.#ended = error;
    for (const { reject } of this.#finish()) reject(error);
  }

  #over() {
    return this.#ended ?? unpackError({ name: 'TransactionError', message: 'Transaction already finished or invalid.' });
  }

  #finish() {
    if (this.#done) throw this.#over();
    this.#done = true;
    return this.#commands.splice(0);
  }
}

/** A tab's subscriptions: the worker counts them across tabs and delivers each message once per tab. */
export class SharedSubscription {
  #change;
  #messages = [];
  #waiters = [];
  #error = null;

  constructor(change) { this.#change = change; }

  async subscribe(channels) { await this.#change('subscribe', Array.from(channels)); }
  async psubscribe(patterns) { await this.#change('psubscribe', Array.from(patterns)); }
  async unsubscribe(channels = []) { await this.#change('unsubscribe', Array.from(channels)); }
  async punsubscribe(patterns = []) { await this.#change('punsubscribe', Array.from(patterns)); }

  deliver({ channel, value, pattern }) {
    const message = new (cls().PubSubReply)(channel, value, pattern);
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(message);
    else this.#messages.push(message);
  }

  nextPublished() {
    if (this.#messages.length) return Promise.resolve(this.#messages.shift());
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  close(error) {
    this.#error = error;
    for (const { reject } of this.#waiters.splice(0)) reject(error);
  }

  async *[Symbol.asyncIterator]() {
    for (;;) yield await this.nextPublished();
  }
}
