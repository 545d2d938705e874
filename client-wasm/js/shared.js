// SharedConnection: one connection per origin and bridge URL, shared by
// every tab through a SharedWorker (shared-worker.js owns the sockets).
//
// A tab builds each command line itself (the same generated methods as a
// Connection's) and posts it, numbered, over its MessagePort; the worker
// sends it and posts the outcome back. Reply classes do not survive
// structured cloning, so they travel as `{ reply, args | items }` and are
// made again here. A tab holds a Web Lock for as long as it lives: the
// worker waits on it, so a closed or crashed tab's leases, subscriptions
// and requests are released at once (a MessagePort has no close event).
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

/** The tab's end of the MessagePort: requests by number, events and messages. */
class Port {
  constructor(port, onEvent, onMessage) {
    this.port = port;
    this.next = 1;
    this.waiting = new Map();
    port.onmessage = ({ data }) => {
      if (data.id !== undefined) {
        const waiter = this.waiting.get(data.id);
        this.waiting.delete(data.id);
        if (data.ok) waiter?.resolve(data.outcomes ?? unpack(data));
        else waiter?.reject(unpackError(data.error));
      } else if (data.event) {
        onEvent(data.event, data.detail);
      } else if (data.message) {
        onMessage(data.message);
      }
    };
    port.start();
  }

  call(op, body = {}) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.port.postMessage({ id, op, ...body });
    });
  }

  /** Every request still waiting rejects: the tab closed its end. */
  close(error) {
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
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

/** The Connection API, every command going through the origin's one shared worker. */
export class SharedConnection {
  #port;
  #builders;
  #events = new EventTarget();
  #connected = true;
  #release;

  /** Opens (or joins) the origin's shared connection for these options. */
  static async create(options) {
    if (typeof SharedWorker === 'undefined' || !navigator.locks) {
      throw new TypeError('SharedConnection.create: this runtime has no SharedWorker or Web Locks (use Connection)');
    }
    const { options: shared, encoder } = cloneable(options, 'SharedConnection.create');
    const tab = crypto.randomUUID();
    // Held until the tab closes or goes: the worker waits for it to be free.
    let release;
    await new Promise((held) => {
      navigator.locks.request(`redis-wasm-tab:${tab}`, () => {
        held();
        return new Promise((done) => { release = done; });
      });
    });
    const worker = new SharedWorker(WORKER, { type: 'module', name: `redis-wasm ${shared.url}` });
    const conn = new SharedConnection(worker.port, encoder, shared.enableTypechecking ?? true, release);
    try {
      await conn.#port.call('open', { tab, options: shared });
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  constructor(port, encoder, strict, release) {
    this.#release = release;
    this.#port = new Port(port, (name, detail) => {
      if (name === 'ready') this.#connected = true;
      if (name === 'close' || name === 'end') this.#connected = false;
      if (detail?.error) detail.error = unpackError(detail.error);
      this.#events.dispatchEvent(new CustomEvent(name, { detail }));
    }, (message) => this.#subscription?.deliver(message));
    this.#builders = { encoder, strict };
    wasm.__adopt(this, this.#builders);
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
    const tx = new SharedTransaction((commands, discard) => this.#port.call('tx', { tx: begun, commands, discard }));
    return wasm.__adopt(tx, this.#builders);
  }

  #subscription = null;

  /** Pub/sub through the worker's one subscribed connection. */
  async startSubscribe() {
    this.#subscription ??= new SharedSubscription((op, names) => this.#port.call(op, { names }));
    return this.#subscription;
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
    this.#port.port.postMessage({ op: 'close' });
    this.#port.close(closed);
    this.#subscription?.close(closed);
    this.#release?.();
  }
}

/** A transaction's commands, queued here until `exec()` sends them all at once. */
export class SharedTransaction {
  #commands = [];
  #run;
  #done = false;

  constructor(run) { this.#run = run; }

  __send(cmd, kind, line) {
    if (this.#done) return Promise.reject(unpackError({ name: 'TransactionError', message: 'Transaction already finished or invalid.' }));
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

  #finish() {
    if (this.#done) throw unpackError({ name: 'TransactionError', message: 'Transaction already finished or invalid.' });
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
